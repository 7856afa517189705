package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Search kinds: what a search looks through (issue 12, X09).
const (
	SearchMessages      = "messages"
	SearchConversations = "conversations"
	SearchContacts      = "contacts"
)

// SearchFilter is one search: the words, what to look through, the filters and the page.
type SearchFilter struct {
	Query string
	Kind  string
	// Filters on the conversation (messages and conversations; contacts: through any of theirs).
	LineID, ChannelID, OperatorID int64
	Statuses                      []string
	// From and To bound the period (a message's time, a conversation's opening); zero: open.
	From, To time.Time
	Cursor   string
	Limit    int
	// Scope limits the results to what a user may see; nil: everything (admins).
	Scope *ListScope
}

// SnippetPart is a piece of a found text; Match marks the words the search found.
type SnippetPart struct {
	Text  string `json:"text"`
	Match bool   `json:"match,omitempty"`
}

// SearchConversation is what a hit shows of its conversation.
type SearchConversation struct {
	Number      int64      `json:"number"`
	Title       string     `json:"title"`
	Status      string     `json:"status"`
	LineID      int64      `json:"line_id"`
	ChannelID   int64      `json:"channel_id"`
	ChannelKind string     `json:"channel_kind"`
	AssigneeID  *int64     `json:"assignee_id"`
	Contact     ContactRef `json:"contact"`
	CreatedAt   time.Time  `json:"created_at"`
}

// SearchHit is one result. Messages: the message with its conversation; conversations: the
// conversation; contacts: the contact.
type SearchHit struct {
	Kind         string              `json:"kind"`
	MessageID    *uuid.UUID          `json:"message_id,omitempty"`
	Direction    string              `json:"direction,omitempty"`
	At           time.Time           `json:"at"`
	Snippet      []SnippetPart       `json:"snippet"`
	Conversation *SearchConversation `json:"conversation,omitempty"`
	Contact      *ContactRef         `json:"contact,omitempty"`
}

// Highlight marks around the words ts_headline found: two private-use characters, taken out
// of the text first, so a message can never forge a highlight and nothing is HTML.
const (
	hlStart = "\ue000"
	hlStop  = "\ue001"
)

// headline is the snippet of the text column col for the query column q.
func headline(col, q string) string {
	return `ts_headline('russian'::regconfig, translate(` + col + `, E'\uE000\uE001', ''), ` + q + `,
		'StartSel=` + hlStart + `, StopSel=` + hlStop + `, MaxWords=30, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "')`
}

// snippet splits ts_headline's output into plain and matched parts.
func snippet(s string) []SnippetPart {
	parts := []SnippetPart{}
	for s != "" {
		i := strings.Index(s, hlStart)
		if i < 0 {
			parts = append(parts, SnippetPart{Text: s})
			break
		}
		if i > 0 {
			parts = append(parts, SnippetPart{Text: s[:i]})
		}
		s = s[i+len(hlStart):]
		j := strings.Index(s, hlStop)
		if j < 0 {
			j = len(s)
		}
		if j > 0 {
			parts = append(parts, SnippetPart{Text: s[:j], Match: true})
		}
		s = strings.TrimPrefix(s[j:], hlStop)
	}
	return parts
}

// searchWalk is how many of the newest messages a search walks before it reads the words' index.
const searchWalk = 5_000

type searchCursor struct {
	T  time.Time `json:"t"`
	ID string    `json:"id"`
}

// Search answers one page of hits, newest first, and the cursor of the next page ("" at the
// end). Each kind is one statement whose cost is bounded by the page: a rare word is found
// through the GIN index, a frequent one by walking the newest rows (see migration 023).
func (s *Store) Search(ctx context.Context, f SearchFilter) ([]SearchHit, string, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 20
	}
	var cur *searchCursor
	if f.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		cur = &searchCursor{}
		if err != nil || json.Unmarshal(raw, cur) != nil || cur.ID == "" {
			return nil, "", ErrBadCursor
		}
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// Filters on the conversation c, shared by the kinds.
	var conv []string
	if f.LineID != 0 {
		conv = append(conv, "c.line_id = "+arg(f.LineID))
	}
	if f.ChannelID != 0 {
		conv = append(conv, "c.channel_id = "+arg(f.ChannelID))
	}
	if f.OperatorID != 0 {
		conv = append(conv, "c.assignee_id = "+arg(f.OperatorID))
	}
	if len(f.Statuses) > 0 {
		conv = append(conv, "c.status = ANY("+arg(f.Statuses)+"::text[])")
	}
	if f.Scope != nil {
		conv = append(conv, f.Scope.clause(arg))
	}
	period := func(col string) []string {
		var w []string
		if !f.From.IsZero() {
			w = append(w, col+" >= "+arg(f.From))
		}
		if !f.To.IsZero() {
			w = append(w, col+" < "+arg(f.To))
		}
		return w
	}
	limit := f.Limit + 1
	var q, fallback string
	switch f.Kind {
	case SearchMessages, "":
		f.Kind = SearchMessages
		tq := arg(f.Query)
		// Conditions on the message alone (they bound the walk below) and on the match.
		msg := append([]string{"m.conversation_number IS NOT NULL"}, period("m.created_at")...)
		if cur != nil {
			id, err := uuid.Parse(cur.ID)
			if err != nil {
				return nil, "", ErrBadCursor
			}
			msg = append(msg, "(m.created_at, m.id) < ("+arg(cur.T)+", "+arg(id)+")")
		}
		match := append([]string{"m.search @@ websearch_to_tsquery('russian', " + tq + ")", "m.direction IN ('in', 'out', 'note')"}, conv...)
		// The page first, the snippets only for its rows.
		page := func(from, order string) string {
			return `SELECT p.id::text, p.direction, p.created_at, ` + headline("p.text", "websearch_to_tsquery('russian', "+tq+")") + `,
			p.number, p.title, p.status, p.line_id, p.channel_id, ch.kind, p.assignee_id, k.id, k.name, k.email, k.phone, p.conv_created
		FROM (SELECT m.id, m.direction, m.created_at, m.text, c.number, c.title, c.status, c.line_id, c.channel_id,
				c.assignee_id, c.contact_id, c.created_at AS conv_created
			FROM ` + from + ` JOIN conversations c ON c.number = m.conversation_number
			WHERE ` + strings.Join(match, " AND ") + `
			ORDER BY ` + order + ` DESC, m.id DESC LIMIT ` + strconv.Itoa(limit) + `) p
		JOIN channels ch ON ch.id = p.channel_id JOIN contacts k ON k.id = p.contact_id
		ORDER BY p.created_at DESC, p.id DESC`
		}
		// Two ways, so neither depends on the planner guessing how common the words are (for a
		// word it has no statistics of, it guesses thousands of rows and walks every message for
		// one): first the newest messages are walked, at most searchWalk of them, which fills a
		// page for a word in more than about one message in 250; when that gives less
		// than a page, the planner chooses without the walk (the order is by an expression no
		// index has): the words' index for rare words, the conversations for narrow filters.
		q = page(`(SELECT * FROM messages m WHERE `+strings.Join(msg, " AND ")+`
			ORDER BY m.created_at DESC, m.id DESC LIMIT `+strconv.Itoa(searchWalk)+`) m`, "m.created_at")
		match = append(match, msg...)
		fallback = page("messages m", "(m.created_at + interval '0')")
	case SearchConversations:
		tq := arg(f.Query)
		match := "to_tsvector('russian'::regconfig, c.title || ' ' || c.solution) @@ websearch_to_tsquery('russian', " + tq + ")"
		if n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(f.Query), "#"), 10, 64); err == nil {
			match = "(" + match + " OR c.number = " + arg(n) + ")"
		}
		where := append([]string{match}, conv...)
		where = append(where, period("c.created_at")...)
		if cur != nil {
			n, err := strconv.ParseInt(cur.ID, 10, 64)
			if err != nil {
				return nil, "", ErrBadCursor
			}
			where = append(where, "(c.created_at, c.number) < ("+arg(cur.T)+", "+arg(n)+")")
		}
		q = `SELECT p.number::text, '', p.created_at, ` + headline("p.title || ' — ' || p.solution", "websearch_to_tsquery('russian', "+tq+")") + `,
			p.number, p.title, p.status, p.line_id, p.channel_id, ch.kind, p.assignee_id, k.id, k.name, k.email, k.phone, p.created_at
		FROM (SELECT c.* FROM conversations c WHERE ` + strings.Join(where, " AND ") + `
			ORDER BY c.created_at DESC, c.number DESC LIMIT ` + strconv.Itoa(limit) + `) p
		JOIN channels ch ON ch.id = p.channel_id JOIN contacts k ON k.id = p.contact_id
		ORDER BY p.created_at DESC, p.number DESC`
	case SearchContacts:
		words := contactQuery(f.Query)
		if words == "" {
			return []SearchHit{}, "", nil
		}
		where := []string{"to_tsvector('simple'::regconfig, k.name || ' ' || k.email || ' ' || phone_digits(k.phone)) @@ " + arg(words) + "::tsquery",
			"k.merged_into IS NULL"}
		if len(conv) > 0 || !f.From.IsZero() || !f.To.IsZero() {
			// A contact is found when one of their conversations passes the filters (and the scope).
			cw := append(append([]string{"c.chat_id IN (SELECT id FROM chats WHERE contact_id = k.id)"}, conv...), period("c.created_at")...)
			where = append(where, "EXISTS (SELECT 1 FROM conversations c WHERE "+strings.Join(cw, " AND ")+")")
		}
		if cur != nil {
			n, err := strconv.ParseInt(cur.ID, 10, 64)
			if err != nil {
				return nil, "", ErrBadCursor
			}
			where = append(where, "k.id < "+arg(n))
		}
		// Newest contacts first, by id: a contact's updated_at moves as they write, which would
		// skip or repeat them between pages.
		q = `SELECT k.id::text, '', k.updated_at, k.name, NULL::bigint, '', '', 0::bigint, 0::bigint, '', NULL::bigint,
			k.id, k.name, k.email, k.phone, k.created_at
		FROM contacts k WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY k.id DESC LIMIT ` + strconv.Itoa(limit)
	default:
		return nil, "", ErrInvalid
	}
	hits, keys, err := s.searchRows(ctx, f.Kind, q, args)
	if err == nil && fallback != "" && len(hits) < limit {
		// The words are rare here, or the filters narrow: at most a few thousand messages to
		// join to their conversations, which a nested loop does by key in a few milliseconds; the
		// planner's guesses for unknown words would build a hash of every conversation instead.
		err = s.InTx(ctx, func(tx *Store) error {
			if _, err := tx.pool.Exec(ctx, `SET LOCAL enable_hashjoin = off`); err != nil {
				return translate(err, "search")
			}
			hits, keys, err = tx.searchRows(ctx, f.Kind, fallback, args)
			return err
		})
	}
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(hits) > f.Limit {
		hits = hits[:f.Limit]
		raw, _ := json.Marshal(searchCursor{T: hits[f.Limit-1].At, ID: keys[f.Limit-1]})
		next = base64.RawURLEncoding.EncodeToString(raw)
	}
	return hits, next, nil
}

// searchRows runs one search statement and reads its hits and their cursor keys.
func (s *Store) searchRows(ctx context.Context, kind, q string, args []any) ([]SearchHit, []string, error) {
	// Planned for these words each time (an unnamed statement, not a cached one): how to read
	// the index with the filters depends on how common the words are, which a generic plan
	// cannot know.
	rows, err := s.pool.Query(ctx, q, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, nil, translate(err, "search")
	}
	defer rows.Close()
	hits := []SearchHit{}
	var keys []string
	for rows.Next() {
		var key, dir, head string
		var at, convCreated time.Time
		var number, assignee *int64
		var c SearchConversation
		var k ContactRef
		if err := rows.Scan(&key, &dir, &at, &head, &number, &c.Title, &c.Status, &c.LineID, &c.ChannelID, &c.ChannelKind,
			&assignee, &k.ID, &k.Name, &k.Email, &k.Phone, &convCreated); err != nil {
			return nil, nil, translate(err, "scan search")
		}
		h := SearchHit{Kind: kind, Direction: dir, At: at}
		switch kind {
		case SearchMessages, SearchConversations:
			c.Number, c.AssigneeID, c.Contact, c.CreatedAt = *number, assignee, k, convCreated
			h.Conversation = &c
			h.Snippet = snippet(head)
			if kind == SearchMessages {
				id := uuid.MustParse(key)
				h.MessageID = &id
			}
		case SearchContacts:
			h.Contact = &k
			h.Snippet = []SnippetPart{{Text: k.Name}}
		}
		hits = append(hits, h)
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, translate(err, "search")
	}
	return hits, keys, nil
}

// contactQuery is the prefix query for contacts' names, addresses and phones: each word a
// prefix ("иван" finds "Иванов", "ivan@ex" an address), a number as its digits ("+7 916" and
// "8 916" find 79161234567: a leading 8 may be the Russian trunk prefix); at most eight words. "" when nothing is left to look for.
func contactQuery(q string) string {
	var terms []string
	words := strings.Fields(strings.ToLower(q))
	if strings.IndexFunc(q, unicode.IsLetter) < 0 && !strings.Contains(q, "@") {
		// Only a number, written in parts ("+7 916 123-45-67"): one phone.
		words = []string{strings.Join(words, "")}
	}
	for _, w := range words {
		if len(terms) == 8 {
			break
		}
		letters := strings.IndexFunc(w, unicode.IsLetter) >= 0 || strings.Contains(w, "@")
		if !letters {
			// A phone: its digits, a Russian trunk 8 read as 7 as phone_digits does.
			d := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, w)
			if d == "" {
				continue
			}
			switch {
			case d[0] == '8' && len(d) > 1 && len(d) <= 11:
				// A Russian trunk 8, as phone_digits reads it, or a number that starts with 8.
				terms = append(terms, "("+prefixTerm(d)+" | "+prefixTerm("7"+d[1:])+")")
				continue
			case len(d) == 10:
				// A Russian number without its country code.
				terms = append(terms, "("+prefixTerm(d)+" | "+prefixTerm("7"+d)+")")
				continue
			}
			w = d
		} else {
			w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
			if w == "" {
				continue
			}
		}
		terms = append(terms, prefixTerm(w))
	}
	return strings.Join(terms, " & ")
}

// prefixTerm is a tsquery prefix term for w, quoted.
func prefixTerm(w string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(w) + "':*"
}
