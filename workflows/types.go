package workflows

import "time"

// LineConfig is the part of a line's settings a conversation needs, snapshotted when it opens.
type LineConfig struct {
	ID                     int64         `json:"id"`
	AutoOpen               bool          `json:"auto_open"`
	AutoCloseAfter         time.Duration `json:"auto_close_after"`
	AutoCloseText          string        `json:"auto_close_text"`
	DefaultType            string        `json:"default_type"`
	PausedClientMessage    string        `json:"paused_client_message"`
	MergeRepliesAfterClose bool          `json:"merge_replies_after_close"`
	Regulation             *Regulation   `json:"regulation,omitempty"`
	// GreetingText answers a client's new request at once; OutOfHoursText answers it instead
	// when the regulation's calendar is closed (X04). Empty: nothing is sent.
	GreetingText   string `json:"greeting_text,omitempty"`
	OutOfHoursText string `json:"out_of_hours_text,omitempty"`
}

// Regulation is an SLA: response and resolution targets in business time, measured on a
// calendar ("регламент").
type Regulation struct {
	ID            int64         `json:"id"`
	FirstResponse time.Duration `json:"first_response"`
	NextResponse  time.Duration `json:"next_response"`
	Resolution    time.Duration `json:"resolution"`
	// WarnBefore is how long before a breach the warning fires.
	WarnBefore time.Duration `json:"warn_before"`
	// PauseStopsClock stops every clock while the conversation is paused.
	PauseStopsClock bool     `json:"pause_stops_clock"`
	Calendar        Calendar `json:"calendar"`
}

// ConversationInput starts a ConversationWorkflow.
type ConversationInput struct {
	Number    int64      `json:"number"`
	ChatID    string     `json:"chat_id"`
	ChannelID int64      `json:"channel_id"`
	ContactID int64      `json:"contact_id"`
	Kind      string     `json:"kind"`
	Line      LineConfig `json:"line"`
	OpenedAt  time.Time  `json:"opened_at"`
	// OpenedBy is the operator who opened a dialog or a follow-up ticket (it starts active and
	// assigned to them); zero for a client's request, which starts queued.
	OpenedBy     int64   `json:"opened_by,omitempty"`
	Title        string  `json:"title,omitempty"`
	Participants []int64 `json:"participants,omitempty"`
	// FirstMessage is the client message that opened the conversation, if any.
	FirstMessage *ClientMessage `json:"first_message,omitempty"`
	// NoOutbound: the channel carries nothing to the client (no greeting is sent there).
	NoOutbound bool `json:"no_outbound,omitempty"`
	// State is carried over by continue-as-new, with the messages still to deliver.
	State  *ConversationState `json:"state,omitempty"`
	Outbox []string           `json:"outbox,omitempty"`
}

// ClientMessage tells a conversation that its client wrote. The chat forwards only the first
// message of a client turn (the read model counts the others) and is told when an operator
// answers the turn (ConversationChanged.RepliedAt).
type ClientMessage struct {
	MessageID string    `json:"message_id"`
	At        time.Time `json:"at"`
}

// CSATAnswer is the client's answer to the CSAT question.
type CSATAnswer struct {
	Score     int       `json:"score"`
	MessageID string    `json:"message_id"`
	At        time.Time `json:"at"`
}

// RegulationChanged re-arms the SLA timers with a new regulation (nil: no SLA). With Line set
// (an admin changed the line), the conversation also takes the line's other settings: auto-close
// time and text, merging replies, the paused-conversation rule and the default type.
type RegulationChanged struct {
	Regulation *Regulation `json:"regulation"`
	Line       *LineConfig `json:"line,omitempty"`
}

// ActionRequest is the common part of every operator action.
type ActionRequest struct {
	// ActorID is the operator acting.
	ActorID int64 `json:"actor_id"`
	// ActorRole lets supervisors and admins act on conversations they are not assigned to.
	ActorRole string `json:"actor_role,omitempty"`
}

// TakeRequest: the actor takes the conversation from the queue.
type TakeRequest struct {
	ActionRequest
}

// AssignRequest: hand the conversation to an operator.
type AssignRequest struct {
	ActionRequest
	AssigneeID int64 `json:"assignee_id"`
	// Rule is set by the line's router: the routing rule that chose the operator. A routed
	// assignment applies only to a conversation still waiting in the queue.
	Rule string `json:"rule,omitempty"`
}

// TransferRequest: pass the conversation to another operator (UpdateReturn puts it back in the
// queue).
type TransferRequest struct {
	ActionRequest
	AssigneeID int64  `json:"assignee_id,omitempty"`
	Comment    string `json:"comment,omitempty"`
}

// ReplyRequest: an operator's message to the client (or an internal note).
type ReplyRequest struct {
	ActionRequest
	MessageID   string       `json:"message_id"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file linked from a message.
type Attachment struct {
	URL         string `json:"url"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

// EditRequest changes the conversation's descriptive fields; nil fields stay.
type EditRequest struct {
	ActionRequest
	Title        *string   `json:"title,omitempty"`
	Type         *string   `json:"type,omitempty"`
	Reasons      *[]string `json:"reasons,omitempty"`
	Components   *[]string `json:"components,omitempty"`
	Participants *[]int64  `json:"participants,omitempty"`
}

// CloseRequest carries the wrap-up.
type CloseRequest struct {
	ActionRequest
	Type       string   `json:"type,omitempty"`
	Reasons    []string `json:"reasons,omitempty"`
	Components []string `json:"components,omitempty"`
	Solution   string   `json:"solution,omitempty"`
	// ClientRating is the operator's 1–3 rating of the client (0: none).
	ClientRating int  `json:"client_rating,omitempty"`
	SendCSAT     bool `json:"send_csat,omitempty"`
	// OpenTicket opens a follow-up conversation in the same chat, assigned to the same operator.
	OpenTicket bool `json:"open_ticket,omitempty"`
	// ConfirmUnread is required when client messages are unread.
	ConfirmUnread bool `json:"confirm_unread,omitempty"`
}

// ActionResult answers every operator action with the conversation's new state.
type ActionResult struct {
	State ConversationState `json:"state"`
	// MessageID is set by reply and note.
	MessageID string `json:"message_id,omitempty"`
}

// Due holds the SLA due times (nil when the clock does not run or has stopped).
type Due struct {
	FirstResponse *time.Time `json:"first_response"`
	NextResponse  *time.Time `json:"next_response"`
	Resolution    *time.Time `json:"resolution"`
}

// ConversationState is the conversation's live state: the Query answer, the projection's source
// and what continue-as-new carries.
type ConversationState struct {
	Number       int64     `json:"number"`
	ChatID       string    `json:"chat_id"`
	Kind         string    `json:"kind"`
	Status       string    `json:"status"`
	AssigneeID   int64     `json:"assignee_id,omitempty"`
	Participants []int64   `json:"participants"`
	Title        string    `json:"title"`
	Type         string    `json:"type"`
	Reasons      []string  `json:"reasons"`
	Components   []string  `json:"components"`
	CreatedAt    time.Time `json:"created_at"`
	// LastActivity is the latest activity the workflow knows of: its own actions and the first
	// client message of each turn. The read model's last_activity_at also counts every client
	// message (store.LinkInbound); auto-close reads it before closing.
	LastActivity time.Time `json:"last_activity_at"`
	// ClientWaiting is true while a client turn has not been answered: the client has unread
	// messages. Their number is the read model's (conversations.unread, kept by store.LinkInbound).
	ClientWaiting bool       `json:"client_waiting"`
	Responded     bool       `json:"responded"`
	SLA           SLAState   `json:"sla"`
	Due           Due        `json:"due"`
	Overdue       bool       `json:"overdue"`
	Solution      string     `json:"solution,omitempty"`
	CloseReason   string     `json:"close_reason,omitempty"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	ClientRating  int        `json:"client_rating,omitempty"`
	CSAT          int        `json:"csat,omitempty"`
	CSATSent      bool       `json:"csat_sent,omitempty"`
	// Revision increases with every change; projections never overwrite a newer revision.
	Revision int64 `json:"revision"`
	// EventSeq numbers the timeline events written so far.
	EventSeq int64 `json:"event_seq"`
}

// Event is one entry of a conversation's timeline: who did what, when, which timer fired.
type Event struct {
	Seq     int64          `json:"seq"`
	At      time.Time      `json:"at"`
	ActorID int64          `json:"actor_id,omitempty"`
	Kind    string         `json:"kind"`
	Data    map[string]any `json:"data,omitempty"`
}

// ConversationChanged is what a conversation tells its chat.
type ConversationChanged struct {
	Number int64  `json:"number"`
	Status string `json:"status"`
	// FollowUpAssignee asks the chat to open a follow-up conversation for this operator.
	FollowUpAssignee int64 `json:"follow_up_assignee,omitempty"`
	// LateMessages reached the conversation after it closed; the chat handles them anew.
	LateMessages []ClientMessage `json:"late_messages,omitempty"`
	// RepliedAt is set when an operator answered the client's turn.
	RepliedAt *time.Time `json:"replied_at,omitempty"`
}
