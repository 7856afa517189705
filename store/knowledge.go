package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Knowledge-base article statuses.
const (
	ArticleDraft     = "draft"
	ArticlePublished = "published"
)

// Audited knowledge-base kinds.
var (
	AuditKBFolder  = auditEntity("kb_folder")
	AuditKBArticle = auditEntity("kb_article")
)

// KBFolder is a folder of knowledge-base articles, with how many articles it holds.
type KBFolder struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Articles  int       `json:"articles"`
	CreatedAt time.Time `json:"created_at"`
}

// KBArticle is a knowledge-base article: a Markdown body under a title (issue 12, F041).
type KBArticle struct {
	ID       int64  `json:"id"`
	FolderID *int64 `json:"folder_id"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	Status   string `json:"status"`
	// Public: a published article clients may read (the widget, a link in a reply).
	Public    bool      `json:"public"`
	AuthorID  *int64    `json:"author_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// KBArticleHit is an article a list or a search found, with a snippet of its body.
type KBArticleHit struct {
	KBArticle
	Snippet []SnippetPart `json:"snippet"`
}

// kbPlainBody is an article's body with the Markdown marks taken out, for snippets: a link or
// an image as its text, no emphasis, heading or quote marks.
const kbPlainBody = `regexp_replace(a.body, '!?\[([^\]]*)\]\([^)]*\)|[*_` + "`" + `#>]+', '\1', 'g')`

const kbArticleColumns = `a.id, a.folder_id, a.title, a.body, a.status, a.public, a.author_id, a.created_at, a.updated_at`

func scanKBArticle(r rowScanner) (KBArticle, error) {
	var a KBArticle
	err := r.Scan(&a.ID, &a.FolderID, &a.Title, &a.Body, &a.Status, &a.Public, &a.AuthorID, &a.CreatedAt, &a.UpdatedAt)
	return a, err
}

// KBFolders lists the folders by name.
func (s *Store) KBFolders(ctx context.Context) ([]KBFolder, error) {
	return queryAll(ctx, s, "kb folders", `SELECT f.id, f.name, (SELECT count(*) FROM kb_articles a WHERE a.folder_id = f.id), f.created_at
		FROM kb_folders f ORDER BY lower(f.name), f.id LIMIT 1000`, func(r rowScanner) (KBFolder, error) {
		var f KBFolder
		err := r.Scan(&f.ID, &f.Name, &f.Articles, &f.CreatedAt)
		return f, err
	})
}

// KBFolderByID reads a folder; ErrNotFound for an unknown id.
func (s *Store) KBFolderByID(ctx context.Context, id int64) (KBFolder, error) {
	var f KBFolder
	err := s.pool.QueryRow(ctx, `SELECT f.id, f.name, (SELECT count(*) FROM kb_articles a WHERE a.folder_id = f.id), f.created_at
		FROM kb_folders f WHERE f.id = $1`, id).Scan(&f.ID, &f.Name, &f.Articles, &f.CreatedAt)
	return f, translate(err, "kb folder")
}

// SaveKBFolder creates (ID 0) or renames a folder; ErrConflict: another folder has the name.
func (s *Store) SaveKBFolder(ctx context.Context, f KBFolder) (KBFolder, error) {
	var id int64
	var err error
	if f.ID == 0 {
		err = s.pool.QueryRow(ctx, `INSERT INTO kb_folders (name) VALUES ($1) RETURNING id`, f.Name).Scan(&id)
	} else {
		err = s.pool.QueryRow(ctx, `UPDATE kb_folders SET name = $2 WHERE id = $1 RETURNING id`, f.ID, f.Name).Scan(&id)
	}
	if err != nil {
		return KBFolder{}, translate(err, "save kb folder")
	}
	return s.KBFolderByID(ctx, id)
}

// DeleteKBFolder deletes a folder; its articles stay, outside any folder.
func (s *Store) DeleteKBFolder(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM kb_folders WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate(err, "delete kb folder")
}

// KBArticleByID reads an article; ErrNotFound for an unknown id.
func (s *Store) KBArticleByID(ctx context.Context, id int64) (KBArticle, error) {
	a, err := scanKBArticle(s.pool.QueryRow(ctx, `SELECT `+kbArticleColumns+` FROM kb_articles a WHERE a.id = $1`, id))
	return a, translate(err, "kb article")
}

// SaveKBArticle creates (ID 0) or replaces an article.
func (s *Store) SaveKBArticle(ctx context.Context, a KBArticle) (KBArticle, error) {
	if a.ID == 0 {
		out, err := scanKBArticle(s.pool.QueryRow(ctx, `INSERT INTO kb_articles AS a (folder_id, title, body, status, public, author_id)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+kbArticleColumns, a.FolderID, a.Title, a.Body, a.Status, a.Public, a.AuthorID))
		return out, translate(err, "create kb article")
	}
	out, err := scanKBArticle(s.pool.QueryRow(ctx, `UPDATE kb_articles AS a SET folder_id = $2, title = $3, body = $4, status = $5,
		public = $6, updated_at = now() WHERE a.id = $1 RETURNING `+kbArticleColumns, a.ID, a.FolderID, a.Title, a.Body, a.Status, a.Public))
	return out, translate(err, "update kb article")
}

// DeleteKBArticle deletes an article; ErrNotFound when there is none with the id.
func (s *Store) DeleteKBArticle(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM kb_articles WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate(err, "delete kb article")
}

// KBFilter narrows the article list.
type KBFilter struct {
	// Query: words (web search syntax); the best matches first, each with a snippet. Empty:
	// every article by title.
	Query    string
	FolderID int64
	// Published: only published articles (what operators and clients read); PublicOnly: only
	// public ones too; DraftsOnly: only drafts.
	Published, PublicOnly, DraftsOnly bool
	Limit                             int
}

// KBArticles lists articles: by title, or the best matches of the words first.
func (s *Store) KBArticles(ctx context.Context, f KBFilter) ([]KBArticleHit, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"true"}
	if f.FolderID != 0 {
		where = append(where, "a.folder_id = "+arg(f.FolderID))
	}
	if f.Published || f.PublicOnly {
		where = append(where, "a.status = 'published'")
	}
	if f.PublicOnly {
		where = append(where, "a.public")
	}
	if f.DraftsOnly {
		where = append(where, "a.status = 'draft'")
	}
	head, order := "''", "lower(a.title), a.id"
	if f.Query != "" {
		q := "websearch_to_tsquery('russian', " + arg(f.Query) + ")"
		where = append(where, "a.search @@ "+q)
		head = headline(kbPlainBody, q)
		order = "ts_rank(a.search, " + q + ") DESC, a.id"
	}
	return s.kbHits(ctx, `SELECT `+kbArticleColumns+`, `+head+` FROM kb_articles a WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+order+` LIMIT `+strconv.Itoa(f.Limit), args...)
}

// KBSuggestions are the published articles that best answer a conversation's last client
// message: any of its words, ranked (a title's words weigh more), at most limit.
func (s *Store) KBSuggestions(ctx context.Context, number int64, limit int) ([]KBArticleHit, error) {
	return s.kbHits(ctx, `WITH last AS (
			SELECT text FROM messages WHERE conversation_number = $1 AND direction = 'in' AND text <> ''
			ORDER BY created_at DESC, id DESC LIMIT 1),
		q AS (SELECT to_tsquery('simple', string_agg(quote_literal(w), ' | ')) AS q
			FROM last, unnest(tsvector_to_array(to_tsvector('russian'::regconfig, last.text))) w)
		SELECT `+kbArticleColumns+`, `+headline(kbPlainBody, "q.q")+`
		FROM kb_articles a, q WHERE q.q IS NOT NULL AND a.status = 'published' AND a.search @@ q.q
		ORDER BY ts_rank(a.search, q.q) DESC, a.id LIMIT $2`, number, limit)
}

func (s *Store) kbHits(ctx context.Context, sql string, args ...any) ([]KBArticleHit, error) {
	// Planned for the words each time, as search is (store/search.go).
	rows, err := s.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, translate(err, "kb articles")
	}
	defer rows.Close()
	out := []KBArticleHit{}
	for rows.Next() {
		var h KBArticleHit
		var head string
		a := &h.KBArticle
		if err := rows.Scan(&a.ID, &a.FolderID, &a.Title, &a.Body, &a.Status, &a.Public, &a.AuthorID, &a.CreatedAt, &a.UpdatedAt, &head); err != nil {
			return nil, translate(err, "scan kb article")
		}
		h.Snippet = snippet(head)
		out = append(out, h)
	}
	return out, translate(rows.Err(), "kb articles")
}
