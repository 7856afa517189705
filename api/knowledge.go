package api

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/yuin/goldmark"

	"github.com/linedesk/linedesk/store"
)

// The knowledge base (issue 12, F041): articles in folders with Markdown bodies. Everyone signed
// in reads the published ones (the conversation view suggests them for the client's last
// message); whoever edits the module's shared settings (ruleOmniSettings) writes them and sees
// drafts; a public published article is readable by anyone, as a page (/kb/{id}) an operator may
// link in a reply and through the site widget's API.

const (
	maxArticleTitle = 200
	maxArticleBody  = 200_000
)

// markdown renders article bodies. goldmark's defaults are the safe ones: raw HTML in the
// Markdown is left out and javascript:, vbscript: and data: (except images) links are dropped.
var markdown = goldmark.New()

func renderMarkdown(body string) (string, error) {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(body), &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// kbArticleOut is an article with its body rendered, and, for a public one, its page.
type kbArticleOut struct {
	store.KBArticle
	HTML      string `json:"html"`
	PublicURL string `json:"public_url,omitempty"`
}

func (s *Server) articleOut(c echo.Context, a store.KBArticle) (kbArticleOut, error) {
	html, err := renderMarkdown(a.Body)
	out := kbArticleOut{KBArticle: a, HTML: html}
	if a.Public && a.Status == store.ArticlePublished {
		out.PublicURL = s.baseURL(c) + "/kb/" + strconv.FormatInt(a.ID, 10)
	}
	return out, err
}

// mayEditKnowledge reports whether the user edits the module's shared settings (and so the
// knowledge base): an admin, a supervisor, or a member of a group with omni_settings.
func (s *Server) mayEditKnowledge(c echo.Context) (bool, error) {
	u := currentUser(c)
	if u.Role == store.RoleAdmin || u.Role == store.RoleSupervisor {
		return true, nil
	}
	a, err := s.store.AccessOf(c.Request().Context(), u.ID)
	if err != nil {
		return false, err
	}
	return slices.Contains(a.Permissions, store.PermOmniSettings), nil
}

func (s *Server) listKBFolders(c echo.Context) error {
	fs, err := s.store.KBFolders(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": fs})
}

type kbFolderBody struct {
	Name *string `json:"name"`
}

func (b kbFolderBody) name() (string, error) {
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		return "", newError(http.StatusBadRequest, "invalid_fields", "name is required")
	}
	n := strings.TrimSpace(*b.Name)
	if utf8.RuneCountInString(n) > 100 {
		return "", newError(http.StatusBadRequest, "invalid_fields", "name must be at most 100 characters")
	}
	return n, nil
}

func kbFolderSaveErr(err error, name string) error {
	if errors.Is(err, store.ErrConflict) {
		return newError(http.StatusConflict, "name_taken", "a folder named %q exists already", name)
	}
	return err
}

func (s *Server) createKBFolder(c echo.Context) error {
	var b kbFolderBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	name, err := b.name()
	if err != nil {
		return err
	}
	var out store.KBFolder
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		var err error
		if out, err = tx.SaveKBFolder(ctx, store.KBFolder{Name: name}); err != nil {
			return store.AuditChange{}, kbFolderSaveErr(err, name)
		}
		return store.AuditChange{Entity: store.AuditKBFolder, ID: auditID(out.ID), Action: store.AuditCreate, After: out}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) updateKBFolder(c echo.Context) error {
	id, err := pathID(c, "folder")
	if err != nil {
		return err
	}
	var b kbFolderBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	name, err := b.name()
	if err != nil {
		return err
	}
	out, err := auditedUpdate(s, c, id, store.AuditKBFolder, (*store.Store).KBFolderByID,
		func(ctx context.Context, tx *store.Store, _ store.KBFolder) (store.KBFolder, error) {
			f, err := tx.SaveKBFolder(ctx, store.KBFolder{ID: id, Name: name})
			return f, kbFolderSaveErr(err, name)
		})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// deleteKBFolder deletes a folder; its articles stay, outside any folder.
func (s *Server) deleteKBFolder(c echo.Context) error {
	return auditedDelete(s, c, "folder", store.AuditKBFolder, (*store.Store).KBFolderByID, (*store.Store).DeleteKBFolder)
}

// listKBArticles lists articles by title, or the best matches of q first (with snippets).
// Drafts are listed only to editors, and only when they ask (status=all or draft).
func (s *Server) listKBArticles(c echo.Context) error {
	q := c.QueryParams()
	f := store.KBFilter{Query: strings.TrimSpace(q.Get("q")), Published: true}
	var problems fieldErrors
	if utf8.RuneCountInString(f.Query) > 200 || strings.ContainsRune(f.Query, 0) || !utf8.ValidString(f.Query) {
		problems.add("q must be text of at most 200 characters")
	}
	f.FolderID = queryInt(q.Get("folder"), "folder", &problems)
	f.Limit = int(queryInt(q.Get("limit"), "limit", &problems))
	if f.Limit > 200 {
		problems.add("limit must be at most 200")
	}
	status := q.Get("status")
	switch status {
	case "", store.ArticlePublished, store.ArticleDraft, "all":
	default:
		problems.add("status must be published, draft or all")
	}
	if err := problems.err(); err != nil {
		return err
	}
	if status == "all" || status == store.ArticleDraft {
		ok, err := s.mayEditKnowledge(c)
		if err != nil {
			return err
		}
		if !ok {
			return newError(http.StatusForbidden, "forbidden", "only those who edit the knowledge base see drafts")
		}
		f.Published, f.DraftsOnly = false, status == store.ArticleDraft
	}
	items, err := s.store.KBArticles(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// getKBArticle answers an article with its body rendered; a draft only to its editors (404 to
// others, as for an article that does not exist).
func (s *Server) getKBArticle(c echo.Context) error {
	id, err := pathID(c, "article")
	if err != nil {
		return err
	}
	a, err := s.store.KBArticleByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("article " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	if a.Status != store.ArticlePublished {
		ok, err := s.mayEditKnowledge(c)
		if err != nil {
			return err
		}
		if !ok {
			return notFoundErr("article " + c.Param("id"))
		}
	}
	out, err := s.articleOut(c, a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

type kbArticleBody struct {
	FolderID *int64  `json:"folder_id"`
	Title    *string `json:"title"`
	Body     *string `json:"body"`
	Status   *string `json:"status"`
	Public   *bool   `json:"public"`
	// NoFolder takes the article out of its folder (folder_id null cannot say it in a PATCH).
	NoFolder bool `json:"no_folder"`
}

// apply merges the body into a and validates the result.
func (b kbArticleBody) apply(ctx context.Context, tx *store.Store, a *store.KBArticle) error {
	var problems fieldErrors
	if b.Title != nil {
		a.Title = strings.TrimSpace(*b.Title)
	}
	if b.Body != nil {
		a.Body = *b.Body
	}
	if b.Status != nil {
		a.Status = *b.Status
	}
	if b.Public != nil {
		a.Public = *b.Public
	}
	if b.NoFolder {
		a.FolderID = nil
	} else if b.FolderID != nil {
		a.FolderID = b.FolderID
	}
	switch {
	case a.Title == "":
		problems.add("title is required")
	case utf8.RuneCountInString(a.Title) > maxArticleTitle:
		problems.add("title must be at most %d characters", maxArticleTitle)
	}
	if len(a.Body) > maxArticleBody {
		problems.add("body must be at most %d bytes", maxArticleBody)
	}
	if strings.ContainsRune(a.Title+a.Body, 0) || !utf8.ValidString(a.Title+a.Body) {
		problems.add("title and body must be text (UTF-8, without NUL)")
	}
	if a.Status != store.ArticleDraft && a.Status != store.ArticlePublished {
		problems.add("status must be draft or published")
	}
	if a.FolderID != nil {
		if _, err := tx.KBFolderByID(ctx, *a.FolderID); errors.Is(err, store.ErrNotFound) {
			problems.add("folder_id: folder %d does not exist", *a.FolderID)
		} else if err != nil {
			return err
		}
	}
	return problems.err()
}

func (s *Server) createKBArticle(c echo.Context) error {
	var b kbArticleBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	by := currentUser(c).ID
	var out store.KBArticle
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		a := store.KBArticle{Status: store.ArticleDraft, AuthorID: &by}
		if err := b.apply(ctx, tx, &a); err != nil {
			return store.AuditChange{}, err
		}
		var err error
		if out, err = tx.SaveKBArticle(ctx, a); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditKBArticle, ID: auditID(out.ID), Action: store.AuditCreate, After: out}, nil
	})
	if err != nil {
		return err
	}
	res, err := s.articleOut(c, out)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, res)
}

func (s *Server) updateKBArticle(c echo.Context) error {
	id, err := pathID(c, "article")
	if err != nil {
		return err
	}
	var b kbArticleBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	out, err := auditedUpdate(s, c, id, store.AuditKBArticle, (*store.Store).KBArticleByID,
		func(ctx context.Context, tx *store.Store, a store.KBArticle) (store.KBArticle, error) {
			if err := b.apply(ctx, tx, &a); err != nil {
				return a, err
			}
			return tx.SaveKBArticle(ctx, a)
		})
	if err != nil {
		return err
	}
	res, err := s.articleOut(c, out)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) deleteKBArticle(c echo.Context) error {
	return auditedDelete(s, c, "article", store.AuditKBArticle, (*store.Store).KBArticleByID, (*store.Store).DeleteKBArticle)
}

// kbSuggestions answers the published articles that best match the conversation's last client
// message (the knowledge panel of the conversation view).
func (s *Server) kbSuggestions(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	items, err := s.store.KBSuggestions(c.Request().Context(), n, 5)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// uploadKBImage stores an image for articles and answers its public link and the Markdown
// that shows it. Such a file is readable by anyone holding the link (a public article's
// readers), so only images are taken.
func (s *Server) uploadKBImage(c echo.Context) error {
	name, ct, data, err := readUpload(c)
	if err != nil {
		return err
	}
	if !inlineImages[ct] {
		return newError(http.StatusUnsupportedMediaType, "unsupported_file", "an article's image must be PNG, JPEG, GIF or WebP")
	}
	f, err := s.store.SavePublicFile(c.Request().Context(), name, ct, currentUser(c).ID, data)
	if err != nil {
		return err
	}
	url := s.baseURL(c) + "/api/v1/files/" + f.ID.String()
	alt := strings.NewReplacer("[", "", "]", "").Replace(name)
	return c.JSON(http.StatusCreated, map[string]any{"file": f, "url": url, "markdown": "![" + alt + "](" + url + ")"})
}

// kbPage is a public article as a page of its own, for the link an operator sends a client.
var kbPage = template.Must(template.New("kb").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font:16px/1.55 system-ui,sans-serif;max-width:760px;margin:2em auto;padding:0 1em;color:#1d2330}
img{max-width:100%}pre{overflow:auto;background:#f4f5f7;padding:.8em}code{background:#f4f5f7}h1{font-size:1.6em}</style>
</head><body><article><h1>{{.Title}}</h1>{{.Body}}</article></body></html>`))

// publicKBArticle serves a public, published article as a page; anything else is 404.
func (s *Server) publicKBArticle(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	a, err := s.store.KBArticleByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!a.Public || a.Status != store.ArticlePublished)) {
		return c.String(http.StatusNotFound, "not found")
	}
	if err != nil {
		return err
	}
	html, err := renderMarkdown(a.Body)
	if err != nil {
		return err
	}
	lang := "en"
	if strings.IndexFunc(a.Title, func(r rune) bool { return r >= 'а' && r <= 'я' || r >= 'А' && r <= 'Я' }) >= 0 {
		lang = "ru"
	}
	var b bytes.Buffer
	// The body is goldmark's safe rendering: no raw HTML, no script links.
	if err := kbPage.Execute(&b, map[string]any{"Title": a.Title, "Body": template.HTML(html), "Lang": lang}); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'")
	h.Set("Cache-Control", "public, max-age=60")
	return c.HTMLBlob(http.StatusOK, b.Bytes())
}

// widgetArticles lists a site's readers the public articles, the best matches of q first.
func (s *Server) widgetArticles(c echo.Context) error {
	if _, err := s.loadSite(c); err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	if utf8.RuneCountInString(q) > 200 || strings.ContainsRune(q, 0) || !utf8.ValidString(q) {
		return newError(http.StatusBadRequest, "invalid_fields", "q must be text of at most 200 characters")
	}
	items, err := s.store.KBArticles(c.Request().Context(), store.KBFilter{Query: q, PublicOnly: true, Limit: 20})
	if err != nil {
		return err
	}
	type article struct {
		ID      int64               `json:"id"`
		Title   string              `json:"title"`
		Snippet []store.SnippetPart `json:"snippet"`
		URL     string              `json:"url"`
	}
	out := make([]article, 0, len(items))
	for _, a := range items {
		out = append(out, article{ID: a.ID, Title: a.Title, Snippet: a.Snippet, URL: s.baseURL(c) + "/kb/" + strconv.FormatInt(a.ID, 10)})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}
