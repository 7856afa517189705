package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
)

type searchHit struct {
	Kind      string `json:"kind"`
	MessageID string `json:"message_id"`
	Direction string `json:"direction"`
	Snippet   []struct {
		Text  string `json:"text"`
		Match bool   `json:"match"`
	} `json:"snippet"`
	Conversation *struct {
		Number  int64  `json:"number"`
		Status  string `json:"status"`
		Title   string `json:"title"`
		Contact struct {
			Name string `json:"name"`
		} `json:"contact"`
	} `json:"conversation"`
	Contact *struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"contact"`
}

// matched is the words a hit's snippet marks, in order.
func (h searchHit) matched() []string {
	var w []string
	for _, p := range h.Snippet {
		if p.Match {
			w = append(w, p.Text)
		}
	}
	return w
}

func (h searchHit) text() string {
	var b strings.Builder
	for _, p := range h.Snippet {
		b.WriteString(p.Text)
	}
	return b.String()
}

// TestSearchFindsWordsInBothLanguagesWithinWhatTheUserSees: search stems Russian and English
// words, marks them in a snippet, follows the filters, pages, and finds for an operator only what
// the conversation list would show them; bad input is a 400.
func TestSearchFindsWordsInBothLanguagesWithinWhatTheUserSees(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	lineA := a.setupChannel(map[string]any{"name": "Line A", "auto_open": true})
	lineB := a.setupChannel(map[string]any{"name": "Line B", "auto_open": true})
	lena := a.newUser("lena@desk.example", "Lena", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Line A only", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni, store.PermUnassignedQueue}, MemberIDs: []int64{lena.ID}, LineIDs: []int64{lineA.lineID}})
	require.NoError(t, err)
	lenaHTTP := a.login("lena@desk.example", "pw-Lena")

	open := func(cs channelSetup, key string, contact map[string]any, text string) int64 {
		t.Helper()
		res, in := a.inbound(cs, key, map[string]any{"contact": contact, "text": text})
		require.Equal(t, http.StatusAccepted, res.status, res.text)
		require.NotNil(t, in.Conversation)
		return *in.Conversation
	}
	ivan := map[string]any{"external_id": "ivan", "name": "Иван Петров", "email": "ivan.petrov@example.com", "phone": "+7 916 123-45-67"}
	nA := open(lineA, "a-1", ivan, "Мои заказы не приходят уже неделю")
	nB := open(lineB, "b-1", map[string]any{"external_id": "john", "name": "John Smith"}, "My orders are running late again")
	// Operator's reply and an internal note on line A; a title to find the conversation by.
	for _, step := range []struct{ path, text string }{{"take", ""}, {"messages", "Проверим ваш заказ сегодня"},
		{"notes", "Courier lost the parcel, refund approved"}} {
		body := map[string]any{}
		if step.text != "" {
			body["text"] = step.text
		}
		res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/%s", nA, step.path), body, nil)
		require.Less(t, res.status, 300, res.text)
	}
	res := a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", nA), map[string]any{"title": "Доставка задерживается"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	// A message cannot forge a highlight with the marks the snippets use.
	open(lineB, "b-2", map[string]any{"external_id": "john"}, "orders \ue000forged\ue001 mark")

	search := func(c *http.Client, query string) ([]searchHit, *string) {
		t.Helper()
		res := a.do(c, "GET", "/api/v1/search?"+query, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var page struct {
			Items      []searchHit `json:"items"`
			NextCursor *string     `json:"next_cursor"`
		}
		res.json(t, &page)
		return page.Items, page.NextCursor
	}
	q := func(words string, more ...string) string {
		return strings.Join(append([]string{"q=" + url.QueryEscape(words)}, more...), "&")
	}

	// Russian stems: "заказ" finds the client's "заказы" and the reply's "заказ", newest first.
	var hits []searchHit
	require.Eventually(t, func() bool { hits, _ = search(a.http, q("заказ")); return len(hits) == 2 }, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, "out", hits[0].Direction)
	require.Equal(t, []string{"заказ"}, hits[0].matched())
	require.Equal(t, "in", hits[1].Direction)
	require.Equal(t, []string{"заказы"}, hits[1].matched())
	require.Equal(t, nA, hits[1].Conversation.Number)
	require.Equal(t, "Иван Петров", hits[1].Conversation.Contact.Name)
	require.Equal(t, "Мои заказы не приходят уже неделю", hits[1].text())

	// English stems: "order" finds "orders" on line B; the forged marks are not highlights.
	hits, _ = search(a.http, q("order"))
	require.Len(t, hits, 2)
	for _, h := range hits {
		require.Equal(t, nB, h.Conversation.Number)
		require.Equal(t, []string{"orders"}, h.matched(), h.text())
	}
	require.Equal(t, "orders forged mark", hits[0].text())

	// Internal notes are found too; web search syntax: a phrase, a word left out.
	hits, _ = search(a.http, q("refunds"))
	require.Len(t, hits, 1)
	require.Equal(t, "note", hits[0].Direction)
	hits, _ = search(a.http, q(`"lost the parcel"`))
	require.Len(t, hits, 1)
	hits, _ = search(a.http, q("заказ -неделю"))
	require.Len(t, hits, 1)
	require.Equal(t, "out", hits[0].Direction)

	// Filters: line, status, operator, period.
	hits, _ = search(a.http, q("заказ", fmt.Sprintf("line=%d", lineB.lineID)))
	require.Empty(t, hits)
	hits, _ = search(a.http, q("заказ", "status=closed"))
	require.Empty(t, hits)
	hits, _ = search(a.http, q("заказ", "status=active,queued", fmt.Sprintf("operator=%d", a.admin.ID)))
	require.Len(t, hits, 2)
	hits, _ = search(a.http, q("order", fmt.Sprintf("operator=%d", a.admin.ID)))
	require.Empty(t, hits, "line B's conversations are nobody's yet")
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	hits, _ = search(a.http, q("заказ", "from="+tomorrow))
	require.Empty(t, hits)
	hits, _ = search(a.http, q("заказ", "to="+time.Now().UTC().Format(time.DateOnly)))
	require.Len(t, hits, 2, "a date as the end includes that day")

	// Paging by cursor: every hit once.
	first, next := search(a.http, q("заказ", "limit=1"))
	require.Len(t, first, 1)
	require.NotNil(t, next)
	second, last := search(a.http, q("заказ", "limit=1", "cursor="+url.QueryEscape(*next)))
	require.Len(t, second, 1)
	require.Nil(t, last)
	require.NotEqual(t, first[0].MessageID, second[0].MessageID)

	// An operator of line A finds line A's messages, never line B's.
	hits, _ = search(lenaHTTP, q("заказ"))
	require.Len(t, hits, 2)
	hits, _ = search(lenaHTTP, q("order"))
	require.Empty(t, hits)

	// Conversations by title (stemmed) or by number.
	hits, _ = search(a.http, q("доставки", "kind=conversations"))
	require.Len(t, hits, 1)
	require.Equal(t, nA, hits[0].Conversation.Number)
	require.Equal(t, []string{"Доставка"}, hits[0].matched())
	hits, _ = search(a.http, q(fmt.Sprintf("#%d", nB), "kind=conversations"))
	require.Len(t, hits, 1)
	require.Equal(t, nB, hits[0].Conversation.Number)
	hits, _ = search(lenaHTTP, q(fmt.Sprintf("%d", nB), "kind=conversations"))
	require.Empty(t, hits)

	// Contacts by a name's prefix, an address, a phone however it is written.
	for _, words := range []string{"иван", "Петр", "ivan.petrov@ex", "8 (916) 123", "+79161234567", "916 123-45-67"} {
		hits, _ = search(a.http, q(words, "kind=contacts"))
		require.Len(t, hits, 1, words)
		require.Equal(t, "Иван Петров", hits[0].Contact.Name, words)
	}
	hits, _ = search(a.http, q("smith", "kind=contacts"))
	require.Len(t, hits, 1)
	hits, _ = search(lenaHTTP, q("smith", "kind=contacts"))
	require.Empty(t, hits, "John wrote only to line B")
	hits, _ = search(lenaHTTP, q("иван", "kind=contacts"))
	require.Len(t, hits, 1)
	hits, _ = search(a.http, q("иван", "kind=contacts", "status=closed"))
	require.Empty(t, hits, "none of Ivan's conversations is closed")
	// Words that are only stop words find nothing, and are not an error.
	hits, _ = search(a.http, q("не и"))
	require.Empty(t, hits)

	// Any words are words: quotes, backslashes and query operators are looked for, never a 500.
	for _, words := range []string{`'`, `\`, `a:*`, `!(x | y) & z`, `"unclosed`, `o'brien`, `-`, `@`, `8`} {
		for _, kind := range []string{"messages", "conversations", "contacts"} {
			res := a.do(a.http, "GET", "/api/v1/search?"+q(words, "kind="+kind), nil, nil)
			require.Equal(t, http.StatusOK, res.status, words+" in "+kind+": "+res.text)
		}
	}

	// Bad input: a clear 400.
	for _, query := range []string{"", "q=", "q=x&kind=files", "q=x&status=open", "q=x&limit=101", "q=x&line=abc",
		"q=x&from=yesterday", "q=x&from=2026-12-02&to=2026-12-01", "q=x&cursor=nope", "q=a%00b", "q=" + strings.Repeat("й", 201)} {
		res := a.do(a.http, "GET", "/api/v1/search?"+query, nil, nil)
		require.Equal(t, http.StatusBadRequest, res.status, query+": "+res.text)
	}
	res = a.do(&http.Client{}, "GET", "/api/v1/search?q=x", nil, nil)
	require.Equal(t, http.StatusUnauthorized, res.status)
}
