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
	ActivityLinkInbound          = "LinkInbound"
	ActivityRoutedSeq            = "RoutedSeq"
	ActivityEndTurn              = "EndTurn"
	ActivityClaimSlot            = "ClaimSlot"
	ActivityRouteSnapshot        = "RouteSnapshot"
	ActivityRouteAssign          = "RouteAssign"
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
}

// CreateConversationResult says which number the conversation got and what the chat holds.
type CreateConversationResult struct {
	Number    int64 `json:"number"`
	ChannelID int64 `json:"channel_id"`
	ContactID int64 `json:"contact_id"`
	// NoOutbound: the channel carries nothing to the client (a phone line's call log).
	NoOutbound bool `json:"no_outbound,omitempty"`
}

// ProjectConversationInput writes the conversation's state and new timeline events to the read
// model; it never overwrites a newer revision and writes each event once.
type ProjectConversationInput struct {
	State  ConversationState `json:"state"`
	Events []Event           `json:"events,omitempty"`
	// RepliedAt is set when an operator answered the client: the read model's unread count
	// restarts from the client messages after it (store.LinkInbound owns the count).
	RepliedAt *time.Time `json:"replied_at,omitempty"`
}

// LinkInboundInput records in the read model where the chat routed its inbound messages, up to
// and including sequence number Seq. It is the one writer of a conversation's unread count and
// of the last activity client messages bring (see store.LinkInbound).
//
// Turn publishes the conversation whose client turn is open (0: none). While it is set and the
// chat has routed every numbered message, the ingest links the chat's text messages to that
// conversation itself: within a turn a client message changes nothing a workflow keeps.
type LinkInboundInput struct {
	ChatID string        `json:"chat_id"`
	Seq    int64         `json:"seq"`
	Turn   int64         `json:"turn,omitempty"`
	Links  []InboundLink `json:"links,omitempty"`
}

// EndTurnInput ends a conversation's client turn in the read model: an operator answered at After.
type EndTurnInput struct {
	ChatID       string    `json:"chat_id"`
	Conversation int64     `json:"conversation"`
	After        time.Time `json:"after"`
}

// EndTurnResult is the conversation's first client message after the answer, which starts the
// next turn (nil: none).
type EndTurnResult struct {
	Next *ClientMessage `json:"next,omitempty"`
}

// InboundLink is one routed message: the conversation it joined (0: it stays in the chat).
type InboundLink struct {
	MessageID    string `json:"message_id"`
	Conversation int64  `json:"conversation"`
	// Moved re-links a message that a closed conversation handed back to its chat.
	Moved bool `json:"moved,omitempty"`
}

// RoutedSeqInput asks the read model how far a chat's inbound messages were routed.
type RoutedSeqInput struct {
	ChatID string `json:"chat_id"`
}

// RoutedSeqResult is the highest sequence number routed so far (0: none).
type RoutedSeqResult struct {
	Seq int64 `json:"seq"`
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
	MessageDelivered  = "delivered"
	MessageRead       = "read"
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

// ClaimSlotInput asks for one of an operator's slots for a conversation.
type ClaimSlotInput struct {
	Number     int64 `json:"number"`
	OperatorID int64 `json:"operator_id"`
}

// ClaimSlotResult tells whether the slot is the conversation's; when not, how full the operator is.
type ClaimSlotResult struct {
	Claimed  bool `json:"claimed"`
	Active   int  `json:"active"`
	Capacity int  `json:"capacity"`
}

// RouteSnapshotInput asks what a line's router should look at now. Skip lists conversations the
// router found gone in this run, so a stale row cannot hold the queue.
type RouteSnapshotInput struct {
	LineID int64   `json:"line_id"`
	Skip   []int64 `json:"skip,omitempty"`
}

// RouteSnapshot is the line's routing rule, the oldest conversation waiting in its queue, and
// the line's online operators with their load.
type RouteSnapshot struct {
	Mode       string           `json:"mode"`
	Head       *QueuedHead      `json:"head,omitempty"`
	Candidates []RouteCandidate `json:"candidates"`
}

// QueuedHead is the conversation that waited longest; Previous is the operator who served the
// client's last conversation in the same chat (0: none).
type QueuedHead struct {
	Number   int64     `json:"number"`
	QueuedAt time.Time `json:"queued_at"`
	Previous int64     `json:"previous,omitempty"`
}

// RouteCandidate is an online operator of the line: active conversations and capacity (0: no limit).
type RouteCandidate struct {
	ID       int64 `json:"id"`
	Active   int   `json:"active"`
	Capacity int   `json:"capacity"`
}

// RouteAssignInput hands a conversation to the operator the rule chose.
type RouteAssignInput struct {
	Number     int64  `json:"number"`
	OperatorID int64  `json:"operator_id"`
	Rule       string `json:"rule"`
}

// Route outcomes.
const (
	RouteAssigned = "assigned"
	// RouteGone: the conversation no longer waits (taken, closed, or its workflow is gone).
	RouteGone = "gone"
	// RouteFull: the operator filled up meanwhile.
	RouteFull = "full"
)

// RouteAssignResult is what became of a routing decision.
type RouteAssignResult struct {
	Outcome string `json:"outcome"`
}
