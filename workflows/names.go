// Package workflows holds linedesk's Temporal workflows and their contract: names, the types of
// every signal, update and query, status constants, and the pure domain rules (allowed
// transitions, business-hours arithmetic, SLA due times). It never does I/O.
package workflows

import (
	"strconv"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// TaskQueue is the one task queue linedesk's workers poll.
const TaskQueue = "linedesk"

// ChatWorkflowID names the workflow of one chat.
func ChatWorkflowID(chatID string) string { return "chat:" + chatID }

// ConversationWorkflowID names the workflow of one conversation.
func ConversationWorkflowID(number int64) string {
	return conversationIDPrefix + strconv.FormatInt(number, 10)
}

const conversationIDPrefix = "conversation:"

// ConversationOfWorkflow is the number of the conversation whose workflow id is id, if it is one.
func ConversationOfWorkflow(id string) (string, bool) {
	return strings.CutPrefix(id, conversationIDPrefix)
}

// RouterWorkflowID names the router of one line: it serialises that line's routing decisions.
func RouterWorkflowID(lineID int64) string { return "line:" + strconv.FormatInt(lineID, 10) }

// SignalRouterWake tells a line's router to look at its queue again: a conversation arrived or
// returned, a slot freed, an operator came online, the line's settings changed.
const SignalRouterWake = "wake"

// RouterStartOptions are the options for signalling a line's router with SignalWithStartWorkflow:
// a router that is not running starts, one that is gets the signal. The API and the activities
// both wake routers; this keeps them starting the same workflow the same way.
func RouterStartOptions(lineID int64) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: RouterWorkflowID(lineID), TaskQueue: TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING}
}

// Routing rules of a line (seed 004: "Кто первый" is manual).
const (
	RoutingManual     = "manual"
	RoutingRoundRobin = "round_robin"
	RoutingLeastBusy  = "least_busy"
	// RouteToPrevious names a decision that gave a returning client their earlier operator.
	RouteToPrevious = "previous"
)

// Conversation statuses (ARCHITECTURE §2).
const (
	StatusQueued = "queued"
	StatusActive = "active"
	StatusPaused = "paused"
	StatusClosed = "closed"
)

// Conversation kinds: a client's request opened by an inbound message, or a dialog an operator
// opened inside a continuous chat (seed 003).
const (
	KindRequest = "request"
	KindDialog  = "dialog"
)

// Updates on ConversationWorkflow: operator actions. A validator refusal is the 409 the operator sees.
const (
	UpdateTake     = "take"
	UpdateAssign   = "assign"
	UpdateTransfer = "transfer"
	UpdateReturn   = "return"
	UpdatePause    = "pause"
	UpdateResume   = "resume"
	UpdateClose    = "close"
	UpdateReply    = "reply"
	UpdateNote     = "note"
	UpdateEdit     = "edit"
)

// Signals to ConversationWorkflow: channel events.
const (
	SignalClientMessage     = "client_message"
	SignalCSATAnswer        = "csat_answer"
	SignalRegulationChanged = "regulation_changed"
)

// QueryState returns a ConversationState (or ChatState from a ChatWorkflow).
const QueryState = "state"

// Updates and signals of ChatWorkflow.
const (
	// SignalInbound carries an InboundBatch from the inbound hand-off.
	SignalInbound    = "inbound"
	UpdateAutomated  = "automated"
	UpdateOpenDialog = "open_dialog"
	UpdateChatWrite  = "write"
	// SignalConversationChanged is sent by a conversation to its chat when its status changes.
	SignalConversationChanged = "conversation_changed"
)

// Automated message kinds and outcomes (seed 003: funnels, smart broadcasts, AI answers).
const (
	AutomatedTunnel    = "tunnel"
	AutomatedBroadcast = "broadcast"
	AutomatedAI        = "ai"

	OutcomeSent    = "sent"
	OutcomeQueued  = "queued"
	OutcomeDropped = "dropped"
)

// Message directions.
const (
	DirectionIn     = "in"
	DirectionOut    = "out"
	DirectionNote   = "note"
	DirectionSystem = "system"
)

// Close reasons.
const (
	CloseByOperator = "operator"
	CloseAuto       = "auto"
)

// Paused-conversation behaviour when the client writes (line setting).
const (
	PausedResume = "resume"
	PausedStay   = "stay"
)

// CSAT answers (seed 003: three buttons because of Facebook).
const (
	CSATBad       = 1
	CSATNormal    = 2
	CSATExcellent = 3
)

// CSATPayload is the button payload of a CSAT answer: "csat:<number>:<score>".
func CSATPayload(number int64, score int) string {
	return "csat:" + strconv.FormatInt(number, 10) + ":" + strconv.Itoa(score)
}

// ParseCSATPayload reads a CSATPayload back.
func ParseCSATPayload(p string) (number int64, score int, ok bool) {
	rest, found := strings.CutPrefix(p, "csat:")
	if !found {
		return 0, 0, false
	}
	n, s, found := strings.Cut(rest, ":")
	if !found {
		return 0, 0, false
	}
	number, err1 := strconv.ParseInt(n, 10, 64)
	score, err2 := strconv.Atoi(s)
	if err1 != nil || err2 != nil || score < CSATBad || score > CSATExcellent || number <= 0 {
		return 0, 0, false
	}
	return number, score, true
}
