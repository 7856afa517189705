package workflows

import "time"

// Activity names. The activities package implements them and the worker registers them under
// these names; workflows call them by name so that activities may import this contract without
// an import cycle.
const (
	ActivityLoadLine             = "LoadLine"
	ActivityCreateConversation   = "CreateConversation"
	ActivityProjectConversation  = "ProjectConversation"
	ActivityRecordMessage        = "RecordMessage"
	ActivityDeliverMessage       = "DeliverMessage"
	ActivityLoadStandardMessages = "LoadStandardMessages"
	ActivityEmailSolution        = "EmailSolution"
	ActivityAddParticipants      = "AddParticipants"
	ActivityMergeReplies         = "MergeReplies"
	ActivityLastActivity         = "LastActivity"
)

// Versions of behaviour changes to running workflows (workflow.GetVersion change ids).
const (
	// versionTurnForwarding: conversations opened from this version on get client messages only
	// when a client turn starts (or while paused) and tell the chat when an operator replied. It
	// is decided once, when the chat opens the conversation, and carried by both.
	versionTurnForwarding = "turn-forwarding"
	// versionActionIsActivity: taking, assigning, transferring and resuming count as activity for
	// the auto-close timer (a conversation taken after a long wait is not closed at once).
	versionActionIsActivity = "action-is-activity"
	// versionOwnCSAT: a CSAT answer counts only for a conversation of the chat.
	versionOwnCSAT = "own-csat"
	// versionUpdateCap: a run continues as new after maxUpdatesPerRun updates.
	versionUpdateCap = "update-cap"
	// versionRearmOnlyOnChange: a regulation signal that changes nothing (a line edit that kept
	// its regulation) leaves the SLA clocks alone.
	versionRearmOnlyOnChange = "rearm-only-on-change"
	// versionAutoCloseReadModel: before auto-closing, the conversation reads the last activity
	// from the read model, which counts every message.
	versionAutoCloseReadModel = "auto-close-read-model"
	// versionChatToldFirst: an operator action that changes the status completes only once the
	// chat has been told.
	versionChatToldFirst = "chat-told-first"
)

// LastActivityInput asks the read model when a conversation last had a message.
type LastActivityInput struct {
	Number int64 `json:"number"`
}

// LastActivityResult is the read model's last activity time.
type LastActivityResult struct {
	At time.Time `json:"at"`
}

// LoadLineInput asks for a line's current settings and regulation.
type LoadLineInput struct {
	LineID int64 `json:"line_id"`
}

// CreateConversationInput inserts a conversation row and allocates its number. OpeningKey makes
// it idempotent: a retried call returns the number it allocated before.
type CreateConversationInput struct {
	OpeningKey string    `json:"opening_key"`
	ChatID     string    `json:"chat_id"`
	LineID     int64     `json:"line_id"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	AssigneeID int64     `json:"assignee_id,omitempty"`
	Title      string    `json:"title,omitempty"`
	Type       string    `json:"type,omitempty"`
	OpenedAt   time.Time `json:"opened_at"`
	// MessageID links the client message that opened the conversation.
	MessageID string `json:"message_id,omitempty"`
}

// CreateConversationResult says which number the conversation got and what the chat holds.
type CreateConversationResult struct {
	Number    int64 `json:"number"`
	ChannelID int64 `json:"channel_id"`
	ContactID int64 `json:"contact_id"`
}

// ProjectConversationInput writes the conversation's state and new timeline events to the read
// model; it never overwrites a newer revision and writes each event once.
type ProjectConversationInput struct {
	State  ConversationState `json:"state"`
	Events []Event           `json:"events,omitempty"`
	// ResetUnread sets the read model's unread counter to State.Unread (the inbound path
	// increments it; the workflow resets it when an operator replies).
	ResetUnread bool `json:"reset_unread,omitempty"`
}

// RecordMessageInput stores a message the workflow produced (reply, note, system text,
// automated message). It is idempotent by ID.
type RecordMessageInput struct {
	ID                 string       `json:"id"`
	ChatID             string       `json:"chat_id"`
	ConversationNumber int64        `json:"conversation_number,omitempty"`
	Direction          string       `json:"direction"`
	AuthorID           int64        `json:"author_id,omitempty"`
	Text               string       `json:"text"`
	Attachments        []Attachment `json:"attachments,omitempty"`
	Buttons            []Button     `json:"buttons,omitempty"`
	// Status is "pending" for a message to deliver, "queued" for a held automated message,
	// "dropped" for a suppressed one, "internal" for notes.
	Status string    `json:"status"`
	Kind   string    `json:"kind,omitempty"`
	At     time.Time `json:"at"`
}

// Message statuses in the read model.
const (
	MessageReceived   = "received"
	MessagePending    = "pending"
	MessageSent       = "sent"
	MessageFailed     = "failed"
	MessageQueued     = "queued"
	MessageDropped    = "dropped"
	MessageInternal   = "internal"
	MessageSuperseded = "merged"
)

// Button is a reply button offered to the client (CSAT answers).
type Button struct {
	Text    string `json:"text"`
	Payload string `json:"payload"`
}

// DeliverMessageInput sends a recorded message through its chat's channel.
type DeliverMessageInput struct {
	MessageID string `json:"message_id"`
}

// StandardMessages are the editable texts the product sends (GET/PUT /standard-messages).
type StandardMessages struct {
	CSATQuestion  string `json:"csat_question"`
	CSATBad       string `json:"csat_bad"`
	CSATNormal    string `json:"csat_normal"`
	CSATExcellent string `json:"csat_excellent"`
	CSATThanks    string `json:"csat_thanks"`
	AutoClose     string `json:"auto_close"`
}

// EmailSolutionInput emails a closed conversation's solution to its contact.
type EmailSolutionInput struct {
	Number    int64  `json:"number"`
	ContactID int64  `json:"contact_id"`
	Solution  string `json:"solution"`
	Title     string `json:"title,omitempty"`
}

// EmailSolutionResult says what happened ("sent", or why it was skipped).
type EmailSolutionResult struct {
	Outcome string `json:"outcome"`
	To      string `json:"to,omitempty"`
}

// AddParticipantsInput gives each new participant a task and a notification (seed 003).
type AddParticipantsInput struct {
	Number   int64     `json:"number"`
	Title    string    `json:"title"`
	UserIDs  []int64   `json:"user_ids"`
	AddedBy  int64     `json:"added_by"`
	StartsAt time.Time `json:"starts_at"`
	At       time.Time `json:"at"`
}

// MergeRepliesInput combines a closed conversation's operator replies into one record.
type MergeRepliesInput struct {
	Number int64 `json:"number"`
}
