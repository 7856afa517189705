package store_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// pagedDesk is a store whose conversation list, lead list and searches each have several pages:
// six conversations, each of its own contact with one message, two of them without a due time,
// and a lead per conversation.
func pagedDesk(f *testing.F) *store.Store {
	f.Helper()
	st := storetest.NewStore(f)
	ctx := context.Background()
	line, ch := fixture(f, st)
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var numbers []int64
	for i := range 6 {
		ing, err := st.Ingest(ctx, store.InboundMessage{ChannelID: ch.ID, Key: fmt.Sprint("m", i), At: base.Add(time.Duration(i) * time.Minute),
			Text:    fmt.Sprintf("оплата картой не проходит, заказ %d, payment failed", 1000+i),
			Contact: store.InboundContact{ExternalID: fmt.Sprint("c", i), Name: fmt.Sprintf("Иван Петров %d", i), Email: fmt.Sprintf("ivan%d@example.com", i)}})
		if err != nil {
			f.Fatal(err)
		}
		c, err := st.CreateConversation(ctx, store.NewConversation{OpeningKey: fmt.Sprint("open", i), ChatID: ing.ChatID, LineID: line.ID,
			Kind: "request", Status: "queued", Title: fmt.Sprintf("Оплата заказа %d", 1000+i), OpenedAt: base.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			f.Fatal(err)
		}
		if err := st.LinkInbound(ctx, ing.ChatID, ing.Seq, 0, []store.InboundLink{{MessageID: ing.MessageID, Conversation: c.Number}}); err != nil {
			f.Fatal(err)
		}
		var due *time.Time
		if i%3 != 0 {
			d := base.Add(time.Duration(6-i) * time.Hour)
			due = &d
		}
		if err := st.ProjectConversation(ctx, store.ConversationProjection{Number: c.Number, Status: "queued", DueFirst: due,
			LastActivity: base.Add(time.Duration(i) * time.Minute), Revision: 1}); err != nil {
			f.Fatal(err)
		}
		numbers = append(numbers, c.Number)
	}
	u, err := st.CreateUser(ctx, store.NewUser{Email: "op@example.com", Name: "Op", Password: "secret", Role: store.RoleOperator})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := st.ConvertToLeads(ctx, numbers, "payment", u.ID); err != nil {
		f.Fatal(err)
	}
	return st
}

func cursorOf(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }

// FuzzListCursor: a list's cursor, whatever a client sends back, either is refused with
// ErrBadCursor or gives a page of at most the limit; and the next page's cursor the store gives
// reads, and the next page shares no row with the page before it.
func FuzzListCursor(f *testing.F) {
	st := pagedDesk(f)
	for _, c := range []string{"", "not-a-cursor", cursorOf(`{"t":"2026-11-02T09:03:00Z","n":4}`), cursorOf(`{"t":"2026-11-02T12:00:00Z","n":3}`),
		cursorOf(`{"n":2,"z":true}`), cursorOf(`{}`), cursorOf(`null`), cursorOf(`[]`), cursorOf(`{"t":"0000-01-01T00:00:00Z","n":-9223372036854775808}`),
		cursorOf(`{"t":"9999-12-31T23:59:59.999999999-23:59","n":9223372036854775807,"z":false}`), cursorOf(`{"t":1,"n":"1"}`), "e30=", "e30", "%7B%7D"} {
		f.Add(uint8(0), uint8(1), c)
	}
	f.Add(uint8(2), uint8(2), cursorOf(`{"t":"2026-11-02T07:00:00Z","n":5}`))
	f.Add(uint8(1), uint8(0), cursorOf(`{"t":"2026-11-02T09:01:00Z","n":2}`))
	sorts := []string{"created", "activity", "due"}
	f.Fuzz(func(t *testing.T, sort, limit uint8, cursor string) {
		ctx := context.Background()
		filter := store.ConversationFilter{Sort: sorts[int(sort)%len(sorts)], Limit: 1 + int(limit)%3, Cursor: cursor}
		items, next, err := st.ListConversations(ctx, filter)
		if err != nil {
			if !errors.Is(err, store.ErrBadCursor) {
				t.Fatalf("cursor %q: %v, not ErrBadCursor", cursor, err)
			}
		} else {
			if len(items) > filter.Limit {
				t.Fatalf("%d conversations on a page of %d", len(items), filter.Limit)
			}
			if next != "" {
				filter.Cursor = next
				rest, _, err := st.ListConversations(ctx, filter)
				if err != nil {
					t.Fatalf("the store's own cursor %q: %v", next, err)
				}
				for _, c := range rest {
					if slices.ContainsFunc(items, func(p store.Conversation) bool { return p.Number == c.Number }) {
						t.Fatalf("conversation #%d on two pages (sort %s)", c.Number, filter.Sort)
					}
				}
			}
		}
		leads, next, err := st.ListLeads(ctx, store.LeadFilter{Cursor: cursor, Limit: filter.Limit})
		if err != nil {
			if !errors.Is(err, store.ErrBadCursor) {
				t.Fatalf("lead cursor %q: %v, not ErrBadCursor", cursor, err)
			}
			return
		}
		if len(leads) > filter.Limit {
			t.Fatalf("%d leads on a page of %d", len(leads), filter.Limit)
		}
		if next != "" {
			rest, _, err := st.ListLeads(ctx, store.LeadFilter{Cursor: next, Limit: filter.Limit})
			if err != nil {
				t.Fatalf("the store's own lead cursor %q: %v", next, err)
			}
			for _, l := range rest {
				if slices.ContainsFunc(leads, func(p store.Lead) bool { return p.ID == l.ID }) {
					t.Fatalf("lead %d on two pages", l.ID)
				}
			}
		}
	})
}

// FuzzSearch: any query the API lets through (text of 1 to 200 characters, without NUL) and any
// cursor either find a page of at most the limit or are refused with ErrBadCursor: the query
// syntax (websearch for messages and conversations, the prefix query built for contacts) never
// fails in the database; and the next page the store's cursor names shares no hit with the page.
func FuzzSearch(f *testing.F) {
	st := pagedDesk(f)
	for i, q := range []string{"оплата", "#2", "ivan", `"оплата картой" -заказ`, "1001", "Иван Петров", "заказ OR payment", "'':*&|!()<->",
		"+7 916 123-45-67", `\`, "or", "8 (916) 1", "-", `"`, "o'brien", "a:* & b", "payment", "ivan@ex"} {
		f.Add(uint8(i%3), q, "") // messages, conversations, contacts in turn
	}
	f.Add(uint8(0), "оплата", cursorOf(`{"t":"2026-11-02T09:03:00Z","id":"0190d2a8-6f4e-7000-8000-000000000000"}`))
	f.Add(uint8(0), "оплата", cursorOf(`{"t":"2026-11-02T09:03:00Z","id":"3"}`))
	f.Add(uint8(1), "оплата", cursorOf(`{"t":"2026-11-02T09:03:00Z","id":"3"}`))
	f.Add(uint8(2), "ivan", cursorOf(`{"id":"9223372036854775807"}`))
	f.Add(uint8(2), "ivan", cursorOf(`{"id":""}`))
	f.Add(uint8(1), "оплата", "!")
	kinds := []string{store.SearchMessages, store.SearchConversations, store.SearchContacts}
	f.Fuzz(func(t *testing.T, kind uint8, q, cursor string) {
		q = strings.TrimSpace(q)
		if q == "" || utf8.RuneCountInString(q) > 200 || !utf8.ValidString(q) || strings.ContainsRune(q, 0) {
			return // the API refuses these
		}
		ctx := context.Background()
		filter := store.SearchFilter{Query: q, Kind: kinds[int(kind)%len(kinds)], Cursor: cursor, Limit: 2}
		hits, next, err := st.Search(ctx, filter)
		if err != nil {
			if !errors.Is(err, store.ErrBadCursor) {
				t.Fatalf("search %s %q, cursor %q: %v", filter.Kind, q, cursor, err)
			}
			return
		}
		if len(hits) > filter.Limit {
			t.Fatalf("%d hits on a page of %d", len(hits), filter.Limit)
		}
		if next == "" {
			return
		}
		filter.Cursor = next
		rest, _, err := st.Search(ctx, filter)
		if err != nil {
			t.Fatalf("the store's own cursor %q: %v", next, err)
		}
		key := func(h store.SearchHit) string {
			switch {
			case h.MessageID != nil:
				return h.MessageID.String()
			case h.Conversation != nil:
				return fmt.Sprint("#", h.Conversation.Number)
			case h.Contact != nil:
				return fmt.Sprint("contact ", h.Contact.ID)
			}
			return ""
		}
		for _, h := range rest {
			if slices.ContainsFunc(hits, func(p store.SearchHit) bool { return key(p) == key(h) }) {
				t.Fatalf("%s on two pages of %s %q", key(h), filter.Kind, q)
			}
		}
	})
}
