// Package activities holds the side effects linedesk's workflows ask for: read-model writes,
// delivery through the channels' connectors, mail and notifications. Every activity is
// idempotent, keyed by a message id, an opening key or a revision.
//
// It implements the contract declared in package workflows (activity names and their input
// and output types). ARCHITECTURE §3 lets workflows import activities for method values; linedesk
// goes the other way (activities import the workflows contract, workflows call activities by
// name) so that each input type is declared once, beside the workflow that sends it, without an
// import cycle.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/all"
	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/connectors/email"
	"github.com/linedesk/linedesk/connectors/smtpmail"
	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/telemetry"
	"github.com/linedesk/linedesk/workflows"
)

// Mailer sends system mail (solutions of closed conversations).
type Mailer interface {
	Send(ctx context.Context, msg smtpmail.Message) error
}

// Activities holds the dependencies of every activity.
type Activities struct {
	store  *store.Store
	logger *slog.Logger
	api    *apichannel.Sender
	// messengers are the messenger channels' connectors by kind.
	messengers connectors.Registry
	mail       Mailer
	// pace keeps each messenger channel under its platform's send rate.
	pace pacer
	// router, when set, is woken when a conversation enters a queue or an operator's slot frees.
	router *Router
}

// WakeRouters makes the activities wake the lines' routers through r.
func (a *Activities) WakeRouters(r *Router) { a.router = r }

// New returns the activities; a nil httpClient gets netguard's strict client, a nil mailer skips mail.
func New(st *store.Store, logger *slog.Logger, httpClient *http.Client, mail Mailer) *Activities {
	if httpClient == nil {
		// Callback URLs are typed in by admins: the guarded client reaches only public
		// addresses and follows no redirect (a callback is a POST; the connector treats a 3xx
		// as a refusal).
		httpClient = netguard.Policy{}.Client()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Activities{store: st, logger: logger, mail: mail,
		api:        &apichannel.Sender{Client: httpClient, UserAgent: "linedesk"},
		messengers: all.Connectors(httpClient)}
}

// ByName maps each activity name of the workflows contract to its implementation.
func (a *Activities) ByName() map[string]any {
	return map[string]any{
		workflows.ActivityLoadLine:             a.LoadLine,
		workflows.ActivityCreateConversation:   a.CreateConversation,
		workflows.ActivityProjectConversation:  a.ProjectConversation,
		workflows.ActivityRecordMessage:        a.RecordMessage,
		workflows.ActivityDeliverMessage:       a.DeliverMessage,
		workflows.ActivityLoadStandardMessages: a.LoadStandardMessages,
		workflows.ActivityEmailSolution:        a.EmailSolution,
		workflows.ActivityAddParticipants:      a.AddParticipants,
		workflows.ActivityMergeReplies:         a.MergeReplies,
		workflows.ActivityLastActivity:         a.LastActivity,
		workflows.ActivityLinkInbound:          a.LinkInbound,
		workflows.ActivityRoutedSeq:            a.RoutedSeq,
		workflows.ActivityEndTurn:              a.EndTurn,
		workflows.ActivityClaimSlot:            a.ClaimSlot,
	}
}

// LoadLine reads a line's settings and its regulation.
func (a *Activities) LoadLine(ctx context.Context, in workflows.LoadLineInput) (workflows.LineConfig, error) {
	return loadLine(ctx, a.store, in.LineID)
}

// CreateConversation allocates the number and inserts the row, idempotently by opening key.
func (a *Activities) CreateConversation(ctx context.Context, in workflows.CreateConversationInput) (workflows.CreateConversationResult, error) {
	chatID, err := uuid.Parse(in.ChatID)
	if err != nil {
		return workflows.CreateConversationResult{}, temporal.NewNonRetryableApplicationError("bad chat id", "bad_input", err)
	}
	n := store.NewConversation{OpeningKey: in.OpeningKey, ChatID: chatID, LineID: in.LineID, Kind: in.Kind, Status: in.Status,
		AssigneeID: in.AssigneeID, Title: in.Title, Type: in.Type, OpenedAt: in.OpenedAt}
	res, err := a.store.CreateConversation(ctx, n)
	if err != nil {
		return workflows.CreateConversationResult{}, permanent(err)
	}
	// A call's channel carries no messages to the client.
	return workflows.CreateConversationResult{Number: res.Number, ChannelID: res.ChannelID, ContactID: res.ContactID,
		NoOutbound: res.ChannelKind == "phone"}, nil
}

// ProjectConversation writes the workflow's state and timeline to the read model.
func (a *Activities) ProjectConversation(ctx context.Context, in workflows.ProjectConversationInput) error {
	s := in.State
	p := store.ConversationProjection{
		Number: s.Number, Status: s.Status, AssigneeID: s.AssigneeID, Participants: s.Participants, Title: s.Title,
		Type: s.Type, Reasons: s.Reasons, Components: s.Components, Solution: s.Solution, CloseReason: s.CloseReason,
		ClientRating: s.ClientRating, CSAT: s.CSAT, DueFirst: s.Due.FirstResponse, DueNext: s.Due.NextResponse,
		DueResolve: s.Due.Resolution, Overdue: s.Overdue, LastActivity: s.LastActivity, ClosedAt: s.ClosedAt,
		Revision: s.Revision, RepliedAt: in.RepliedAt,
	}
	for _, e := range in.Events {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return temporal.NewNonRetryableApplicationError("event data", "bad_input", err)
		}
		ev := store.ConversationEvent{Seq: e.Seq, At: e.At, Kind: e.Kind, Data: data}
		if e.ActorID != 0 {
			actor := e.ActorID
			ev.ActorID = &actor
		}
		p.Events = append(p.Events, ev)
	}
	done, err := a.store.ProjectConversationWaited(ctx, p)
	if err != nil {
		return permanent(err)
	}
	// Counted from what this projection changed: a replayed or retried one adds nothing.
	if done.Waited > 0 {
		telemetry.RoutingWait.Observe(done.Waited.Seconds())
	}
	for _, clock := range done.Breached {
		telemetry.SLABreaches.WithLabelValues(clock).Inc()
	}
	a.wakeAfter(ctx, in.State.Number, in.Events)
	return nil
}

// RecordMessage stores a message produced by a workflow, once.
func (a *Activities) RecordMessage(ctx context.Context, in workflows.RecordMessageInput) error {
	id, err1 := uuid.Parse(in.ID)
	chatID, err2 := uuid.Parse(in.ChatID)
	if err := errors.Join(err1, err2); err != nil {
		return temporal.NewNonRetryableApplicationError("bad message or chat id", "bad_input", err)
	}
	att, err := json.Marshal(nonNil(in.Attachments))
	if err != nil {
		return err
	}
	btn, err := json.Marshal(nonNil(in.Buttons))
	if err != nil {
		return err
	}
	return permanent(a.store.RecordMessage(ctx, store.NewMessage{ID: id, ChatID: chatID, ConversationNumber: in.ConversationNumber,
		Direction: in.Direction, AuthorID: in.AuthorID, Text: in.Text, Attachments: att, Buttons: btn,
		Status: in.Status, Kind: in.Kind, At: in.At}))
}

// permanent marks errors that no retry can fix (data PostgreSQL refuses) as non-retryable, so a
// workflow learns at once instead of retrying for an hour; other errors stay retryable.
func permanent(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return temporal.NewNonRetryableApplicationError(err.Error(), "invalid_data", err)
	}
	return err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// LoadStandardMessages returns the admins' texts, falling back to the defaults field by field.
func (a *Activities) LoadStandardMessages(ctx context.Context) (workflows.StandardMessages, error) {
	var saved workflows.StandardMessages
	if _, err := a.store.Setting(ctx, store.StandardMessagesKey, &saved); err != nil {
		return workflows.DefaultStandardMessages(), err
	}
	return saved.WithDefaults(), nil
}

// EmailSolution emails the solution to the contact, when the contact has an address and system
// mail is configured.
func (a *Activities) EmailSolution(ctx context.Context, in workflows.EmailSolutionInput) (workflows.EmailSolutionResult, error) {
	contact, err := a.store.ContactOfConversation(ctx, in.Number)
	if err != nil {
		return workflows.EmailSolutionResult{}, err
	}
	if contact.Email == "" {
		return workflows.EmailSolutionResult{Outcome: "skipped: the contact has no email"}, nil
	}
	if sent, to, err := a.solutionInThread(ctx, in, contact); sent || err != nil {
		return workflows.EmailSolutionResult{Outcome: "sent", To: to}, err
	}
	if a.mail == nil {
		return workflows.EmailSolutionResult{Outcome: "skipped: mail is not configured", To: contact.Email}, nil
	}
	subject := fmt.Sprintf("Conversation #%d: solution", in.Number)
	if in.Title != "" {
		subject = fmt.Sprintf("Conversation #%d: %s", in.Number, in.Title)
	}
	body := in.Solution
	if contact.Name != "" {
		body = contact.Name + ",\n\n" + body
	}
	if err := a.mail.Send(ctx, smtpmail.Message{To: contact.Email, Subject: subject, Text: body}); err != nil {
		return workflows.EmailSolutionResult{}, fmt.Errorf("send solution to %s: %w", contact.Email, err)
	}
	return workflows.EmailSolutionResult{Outcome: "sent", To: contact.Email}, nil
}

// solutionInThread sends the solution of a conversation that came by mail through its own
// mailbox, as an answer in the client's thread (seed 001); sent is false for any other channel.
// Its Message-ID comes from the conversation's number, so a retried activity sends the same mail.
func (a *Activities) solutionInThread(ctx context.Context, in workflows.EmailSolutionInput, contact store.ContactRef) (sent bool, to string, err error) {
	chatID, channelID, err := a.store.ConversationChat(ctx, in.Number)
	if err != nil {
		return false, "", err
	}
	ch, _, creds, err := a.store.ChannelWithSecrets(ctx, channelID)
	if err != nil {
		return false, "", err
	}
	conn, ok := a.messengers[email.Kind]
	if ch.Kind != email.Kind || !ok {
		return false, "", nil
	}
	t, err := a.store.MailThreadOf(ctx, chatID)
	if err != nil {
		return false, "", err
	}
	set, err := email.ReadSettings(ch.Settings)
	if err != nil {
		return false, "", temporal.NewNonRetryableApplicationError(err.Error(), "bad_settings", err)
	}
	if t.To == "" {
		t.To = contact.Email
	}
	id := email.MessageID(fmt.Sprintf("solution-%d-%s", in.Number, chatID), set.Address)
	if err := a.store.RecordMailID(ctx, channelID, chatID, id); err != nil {
		return false, "", err
	}
	body := in.Solution
	if contact.Name != "" {
		body = contact.Name + ",\n\n" + body
	}
	line, err := a.store.LineByID(ctx, ch.LineID)
	if err != nil {
		return false, "", err
	}
	_, err = conn.Send(ctx, connectors.Channel{ID: ch.ID, Kind: ch.Kind, Settings: ch.Settings, Credentials: creds},
		connectors.Outbound{ID: id, Text: body, Sender: line.Name,
			Mail: &connectors.MailHeaders{To: t.To, Subject: t.Subject, MessageID: id, References: slices.DeleteFunc(t.References, func(r string) bool { return r == id })}})
	var serr *connectors.SendError
	if errors.As(err, &serr) && !serr.Temporary {
		// Refused for good (a 5xx): repeating sends nothing more.
		return false, "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("send solution to %s: %v", t.To, err), "solution_refused", err)
	}
	if err != nil {
		return false, "", fmt.Errorf("send solution to %s: %w", t.To, err)
	}
	return true, t.To, nil
}

// ParticipantsResult lists who got a task.
type ParticipantsResult struct {
	UserIDs []int64 `json:"user_ids"`
}

// AddParticipants gives each added participant a task starting in five minutes and a notification.
func (a *Activities) AddParticipants(ctx context.Context, in workflows.AddParticipantsInput) (ParticipantsResult, error) {
	if err := a.store.ParticipantTasks(ctx, in.Number, in.Title, in.UserIDs, in.AddedBy, in.StartsAt); err != nil {
		return ParticipantsResult{}, err
	}
	return ParticipantsResult{UserIDs: in.UserIDs}, nil
}

// MergedResult says how many replies the combined record holds.
type MergedResult struct {
	Replies int `json:"replies"`
}

// MergeReplies stores the combined reply record of a closed conversation.
func (a *Activities) MergeReplies(ctx context.Context, in workflows.MergeRepliesInput) (MergedResult, error) {
	n, err := a.store.MergeReplies(ctx, in.Number)
	return MergedResult{Replies: n}, err
}

// LastActivity reads when the conversation last had a message, as the read model counts it.
func (a *Activities) LastActivity(ctx context.Context, in workflows.LastActivityInput) (workflows.LastActivityResult, error) {
	at, err := a.store.ConversationLastActivity(ctx, in.Number)
	return workflows.LastActivityResult{At: at}, err
}

// attempt is this activity execution's attempt number (1 outside an activity).
func attempt(ctx context.Context) int {
	if activity.IsActivity(ctx) {
		return int(activity.GetInfo(ctx).Attempt)
	}
	return 1
}

// LinkInbound records where a chat routed its inbound messages (see store.LinkInbound).
func (a *Activities) LinkInbound(ctx context.Context, in workflows.LinkInboundInput) error {
	chatID, err := uuid.Parse(in.ChatID)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("bad chat id", "bad_input", err)
	}
	links := make([]store.InboundLink, 0, len(in.Links))
	for _, l := range in.Links {
		id, err := uuid.Parse(l.MessageID)
		if err != nil {
			return temporal.NewNonRetryableApplicationError("bad message id", "bad_input", err)
		}
		links = append(links, store.InboundLink{MessageID: id, Conversation: l.Conversation, Moved: l.Moved})
	}
	return permanent(a.store.LinkInbound(ctx, chatID, in.Seq, in.Turn, links))
}

// EndTurn ends a conversation's client turn in the read model (see store.EndTurn).
func (a *Activities) EndTurn(ctx context.Context, in workflows.EndTurnInput) (workflows.EndTurnResult, error) {
	chatID, err := uuid.Parse(in.ChatID)
	if err != nil {
		return workflows.EndTurnResult{}, temporal.NewNonRetryableApplicationError("bad chat id", "bad_input", err)
	}
	next, err := a.store.EndTurn(ctx, chatID, in.Conversation, in.After)
	if err != nil || next == nil {
		return workflows.EndTurnResult{}, permanent(err)
	}
	return workflows.EndTurnResult{Next: &workflows.ClientMessage{MessageID: next.ID.String(), At: next.At}}, nil
}

// RoutedSeq reads how far a chat's inbound messages were routed.
func (a *Activities) RoutedSeq(ctx context.Context, in workflows.RoutedSeqInput) (workflows.RoutedSeqResult, error) {
	chatID, err := uuid.Parse(in.ChatID)
	if err != nil {
		return workflows.RoutedSeqResult{}, temporal.NewNonRetryableApplicationError("bad chat id", "bad_input", err)
	}
	seq, err := a.store.RoutedSeq(ctx, chatID)
	if errors.Is(err, store.ErrNotFound) {
		return workflows.RoutedSeqResult{}, nil
	}
	return workflows.RoutedSeqResult{Seq: seq}, permanent(err)
}
