package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type kbArticleView struct {
	ID        int64  `json:"id"`
	FolderID  *int64 `json:"folder_id"`
	Title     string `json:"title"`
	Status    string `json:"status"`
	Public    bool   `json:"public"`
	HTML      string `json:"html"`
	PublicURL string `json:"public_url"`
	Snippet   []struct {
		Text  string `json:"text"`
		Match bool   `json:"match"`
	} `json:"snippet"`
}

// TestKnowledgeBaseArticlesForOperatorsAndClients: editors write articles in folders, drafts stay
// theirs, operators read and search the published ones, a conversation gets the articles that
// answer the client's last message, and a public article is a page and a widget answer; the
// Markdown is rendered without the HTML or script links it may hold.
func TestKnowledgeBaseArticlesForOperatorsAndClients(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	_, olga := a.newOperator("olga@desk.example", "Olga")
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})

	// Folders: unique names, ignoring case.
	res := a.do(a.http, "POST", "/api/v1/kb/folders", map[string]any{"name": "Оплата и возврат"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var folder struct {
		ID int64 `json:"id"`
	}
	res.json(t, &folder)
	res = a.do(a.http, "POST", "/api/v1/kb/folders", map[string]any{"name": "оплата и ВОЗВРАТ"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, http.StatusForbidden, a.do(olga, "POST", "/api/v1/kb/folders", map[string]any{"name": "Mine"}, nil).status)

	write := func(body map[string]any) kbArticleView {
		t.Helper()
		res := a.do(a.http, "POST", "/api/v1/kb/articles", body, nil)
		require.Equal(t, http.StatusCreated, res.status, res.text)
		var v kbArticleView
		res.json(t, &v)
		return v
	}
	refund := write(map[string]any{"title": "Возврат денег за заказ", "folder_id": folder.ID,
		"body": "Чтобы **вернуть деньги**, оформите возврат в личном кабинете.\n\n<script>alert(1)</script>\n\n[help](javascript:alert(1)) [rules](https://shop.example.com/rules)"})
	require.Equal(t, "draft", refund.Status, "a new article is a draft")
	require.Contains(t, refund.HTML, "<strong>вернуть деньги</strong>")
	require.Contains(t, refund.HTML, `href="https://shop.example.com/rules"`)
	require.NotContains(t, refund.HTML, "<script")
	require.NotContains(t, refund.HTML, "javascript:")
	delivery := write(map[string]any{"title": "Сроки доставки", "body": "Курьер привозит заказ за 2–3 дня.", "status": "published"})
	write(map[string]any{"title": "Delivery abroad", "body": "We ship orders to 40 countries.", "status": "published"})

	list := func(c *http.Client, query string) []kbArticleView {
		t.Helper()
		res := a.do(c, "GET", "/api/v1/kb/articles"+query, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var page struct {
			Items []kbArticleView `json:"items"`
		}
		res.json(t, &page)
		return page.Items
	}
	titles := func(items []kbArticleView) []string {
		var out []string
		for _, v := range items {
			out = append(out, v.Title)
		}
		return out
	}

	// The draft is the editors' until published.
	require.Equal(t, []string{"Delivery abroad", "Сроки доставки"}, titles(list(olga, "")))
	require.Equal(t, http.StatusNotFound, a.do(olga, "GET", fmt.Sprintf("/api/v1/kb/articles/%d", refund.ID), nil, nil).status)
	require.Equal(t, http.StatusForbidden, a.do(olga, "GET", "/api/v1/kb/articles?status=all", nil, nil).status)
	require.Equal(t, []string{"Возврат денег за заказ"}, titles(list(a.http, "?status=draft")))
	require.Len(t, list(a.http, "?status=all"), 3)
	require.Equal(t, http.StatusForbidden, a.do(olga, "PATCH", fmt.Sprintf("/api/v1/kb/articles/%d", refund.ID), map[string]any{"status": "published"}, nil).status)
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/kb/articles/%d", refund.ID), map[string]any{"status": "published"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(olga, "GET", fmt.Sprintf("/api/v1/kb/articles/%d", refund.ID), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)

	// Search in any word form, Russian and English; by folder.
	found := list(olga, "?q="+url.QueryEscape("вернуть деньги"))
	require.Equal(t, []string{"Возврат денег за заказ"}, titles(found))
	var marked []string
	for _, p := range found[0].Snippet {
		if p.Match {
			marked = append(marked, p.Text)
		}
	}
	require.Equal(t, []string{"вернуть", "деньги"}, marked)
	require.Equal(t, []string{"Delivery abroad"}, titles(list(olga, "?q=order")))
	require.Equal(t, []string{"Возврат денег за заказ"}, titles(list(olga, fmt.Sprintf("?folder=%d", folder.ID))))

	// The conversation's knowledge panel: the articles that answer the client's last message.
	r, in := a.inbound(cs, "kb-1", clientText("u-kb", "Добрый день! Как вернуть деньги за отменённый заказ?"))
	require.Equal(t, http.StatusAccepted, r.status, r.text)
	res = a.do(olga, "GET", fmt.Sprintf("/api/v1/conversations/%d/kb-suggestions", *in.Conversation), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var sugg struct {
		Items []kbArticleView `json:"items"`
	}
	res.json(t, &sugg)
	require.NotEmpty(t, sugg.Items)
	require.Equal(t, refund.ID, sugg.Items[0].ID, "the refund article answers best: %v", titles(sugg.Items))
	require.NotContains(t, titles(sugg.Items), "Delivery abroad", "it shares no word with the message")
	require.Equal(t, http.StatusNotFound, a.do(olga, "GET", "/api/v1/conversations/999999/kb-suggestions", nil, nil).status)

	// A public article is a page, and the site's widget lists it; a draft or private one is neither.
	page := func(id int64) (int, string, http.Header) {
		res, err := http.Get(fmt.Sprintf("%s/kb/%d", a.url, id))
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	status, _, _ := page(delivery.ID)
	require.Equal(t, http.StatusNotFound, status, "published but not public")
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/kb/articles/%d", refund.ID), map[string]any{"public": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var pub kbArticleView
	res.json(t, &pub)
	require.Equal(t, fmt.Sprintf("%s/kb/%d", a.url, refund.ID), pub.PublicURL)
	status, body, h := page(refund.ID)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "<h1>Возврат денег за заказ</h1>")
	require.Contains(t, body, "<strong>вернуть деньги</strong>")
	require.NotContains(t, body, "<script")
	require.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'")
	site := a.newSite("Site line", nil)
	v := a.newVisitor(site, nil)
	res = v.do("GET", "/articles?q="+url.QueryEscape("возврат"), nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"title":"Возврат денег за заказ"`)
	res = v.do("GET", "/articles", nil)
	require.NotContains(t, res.text, "Сроки доставки", "not public")

	// An article's image: anyone holding the link reads it; only images are taken.
	img, ct := multipartFile(t, "file", "схема.png", "image/png", onePixelPNG)
	res = a.do(a.http, "POST", "/api/v1/kb/images", img, map[string]string{"Content-Type": ct})
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var up struct {
		URL      string `json:"url"`
		Markdown string `json:"markdown"`
	}
	res.json(t, &up)
	require.Equal(t, "![схема.png]("+up.URL+")", up.Markdown)
	anon, err := http.Get(up.URL)
	require.NoError(t, err)
	anon.Body.Close()
	require.Equal(t, http.StatusOK, anon.StatusCode)
	require.Equal(t, "image/png", anon.Header.Get("Content-Type"))
	doc, ct := multipartFile(t, "file", "rules.pdf", "application/pdf", []byte("%PDF-1.4 rules"))
	require.Equal(t, http.StatusUnsupportedMediaType, a.do(a.http, "POST", "/api/v1/kb/images", doc, map[string]string{"Content-Type": ct}).status)
	require.Equal(t, http.StatusForbidden, a.do(olga, "POST", "/api/v1/kb/images", img, map[string]string{"Content-Type": ct}).status)

	// Deleting a folder keeps its articles, outside any folder.
	require.Equal(t, http.StatusNoContent, a.do(a.http, "DELETE", fmt.Sprintf("/api/v1/kb/folders/%d", folder.ID), nil, nil).status)
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/kb/articles/%d", refund.ID), nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	var kept kbArticleView
	res.json(t, &kept)
	require.Nil(t, kept.FolderID)

	// Bad input: a clear 400, nothing changed.
	for _, body := range []map[string]any{{"title": ""}, {"title": "x", "status": "archived"}, {"title": "x", "folder_id": 999999},
		{"title": strings.Repeat("й", 201)}, {"title": "x", "body": strings.Repeat("a", 200_001)}} {
		res := a.do(a.http, "POST", "/api/v1/kb/articles", body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
	}
	require.Len(t, list(a.http, "?status=all"), 3)
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "GET", "/api/v1/kb/articles?status=old", nil, nil).status)
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "GET", "/api/v1/kb/articles?q="+strings.Repeat("z", 201), nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "PATCH", "/api/v1/kb/articles/999999", map[string]any{"title": "x"}, nil).status)
}
