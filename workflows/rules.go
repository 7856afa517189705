package workflows

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/temporal"
)

// Refusal codes: each names the rule an operator action broke. The API answers 409 with the code.
const (
	CodeConversationClosed = "conversation_closed"
	CodeConversationPaused = "conversation_paused"
	CodeNotTaken           = "conversation_not_taken"
	CodeAlreadyTaken       = "already_taken"
	CodeAlreadyQueued      = "already_queued"
	CodeAlreadyPaused      = "already_paused"
	CodeNotPaused          = "not_paused"
	CodeNotActive          = "not_active"
	CodeNotAssignee        = "not_assignee"
	CodeUnreadMessages     = "unread_messages"
	CodeActiveDialogExists = "active_dialog_exists"
	CodeSameAssignee       = "same_assignee"
	CodeInvalid            = "invalid_request"
	CodeAtCapacity         = "at_capacity"
	CodeNotQueued          = "not_queued"
)

// ruleCodes are the refusals an operator may see; any other workflow error is internal.
var ruleCodes = []string{CodeConversationClosed, CodeConversationPaused, CodeNotTaken, CodeAlreadyTaken, CodeAlreadyQueued,
	CodeAlreadyPaused, CodeNotPaused, CodeNotActive, CodeNotAssignee, CodeUnreadMessages, CodeActiveDialogExists,
	CodeSameAssignee, CodeInvalid, CodeAtCapacity, CodeNotQueued}

// IsRuleCode tells whether an application error's type is one of the refusal codes.
func IsRuleCode(code string) bool { return slices.Contains(ruleCodes, code) }

// RuleError is a refused action. It crosses Temporal as an ApplicationError whose type is Code.
type RuleError struct {
	Code    string
	Message string
	// HolderID names who holds the conversation (already_taken).
	HolderID int64
}

func (e *RuleError) Error() string { return e.Message }

func refuse(code, format string, args ...any) *RuleError {
	return &RuleError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// asTemporal wraps a rule error so the caller of the update receives its code.
func asTemporal(err error) error {
	if re, ok := err.(*RuleError); ok {
		return temporal.NewNonRetryableApplicationError(re.Message, re.Code, nil, re.HolderID)
	}
	return err
}

func isPrivileged(role string) bool { return role == "admin" || role == "supervisor" }

// The checks below read the state only; each returns nil or a *RuleError.

func checkOpen(s *ConversationState) error {
	if s.Status == StatusClosed {
		return refuse(CodeConversationClosed, "conversation #%d is closed", s.Number)
	}
	return nil
}

// checkHandler: only the assignee, a participant, or a supervisor/admin writes in a conversation.
func checkHandler(s *ConversationState, a ActionRequest) error {
	if isPrivileged(a.ActorRole) || a.ActorID == s.AssigneeID || slices.Contains(s.Participants, a.ActorID) {
		return nil
	}
	if s.AssigneeID == 0 {
		return refuse(CodeNotTaken, "conversation #%d is not taken yet; take it first", s.Number)
	}
	return &RuleError{Code: CodeNotAssignee, HolderID: s.AssigneeID,
		Message: fmt.Sprintf("conversation #%d is handled by operator %d", s.Number, s.AssigneeID)}
}

// checkOwner: only the assignee or a supervisor/admin changes a conversation (its status, its
// assignee, its fields and participants). A participant may write but not change it, so a
// colleague added as a participant cannot pause, close or take over the conversation.
func checkOwner(s *ConversationState, a ActionRequest) error {
	if isPrivileged(a.ActorRole) || a.ActorID == s.AssigneeID {
		return nil
	}
	if s.AssigneeID == 0 {
		return refuse(CodeNotTaken, "conversation #%d is not taken yet; take it first", s.Number)
	}
	msg := fmt.Sprintf("conversation #%d is handled by operator %d", s.Number, s.AssigneeID)
	if slices.Contains(s.Participants, a.ActorID) {
		msg += "; a participant may write in it but not change it"
	}
	return &RuleError{Code: CodeNotAssignee, HolderID: s.AssigneeID, Message: msg}
}

func checkTake(s *ConversationState, r TakeRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	if s.AssigneeID != 0 && s.AssigneeID != r.ActorID {
		return &RuleError{Code: CodeAlreadyTaken, HolderID: s.AssigneeID,
			Message: fmt.Sprintf("conversation #%d is already taken by operator %d", s.Number, s.AssigneeID)}
	}
	return nil
}

// checkAssign: a supervisor or admin assigns any conversation; an operator assigns one from the
// queue, or hands over one they handle — never one a colleague holds.
func checkAssign(s *ConversationState, r AssignRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	if r.AssigneeID <= 0 {
		return refuse(CodeInvalid, "assignee_id is required")
	}
	if r.Rule != "" {
		// The router only hands out what waits: if someone took it meanwhile, they keep it.
		if s.Status != StatusQueued || s.AssigneeID != 0 {
			return refuse(CodeNotQueued, "conversation #%d no longer waits in the queue", s.Number)
		}
		return nil
	}
	if s.AssigneeID != 0 {
		return checkOwner(s, r.ActionRequest)
	}
	return nil
}

func checkTransfer(s *ConversationState, r TransferRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	if r.AssigneeID <= 0 {
		return refuse(CodeInvalid, "assignee_id is required")
	}
	if r.AssigneeID == s.AssigneeID {
		return refuse(CodeSameAssignee, "conversation #%d is already with operator %d", s.Number, r.AssigneeID)
	}
	if s.AssigneeID != 0 {
		return checkOwner(s, r.ActionRequest)
	}
	return nil
}

func checkReturn(s *ConversationState, r ActionRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	if s.Status == StatusQueued {
		return refuse(CodeAlreadyQueued, "conversation #%d is already in the queue", s.Number)
	}
	return checkOwner(s, r)
}

func checkPause(s *ConversationState, r ActionRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	switch s.Status {
	case StatusPaused:
		return refuse(CodeAlreadyPaused, "conversation #%d is already paused", s.Number)
	case StatusQueued:
		return refuse(CodeNotActive, "conversation #%d is queued; only an active conversation can be paused", s.Number)
	}
	return checkOwner(s, r)
}

func checkResume(s *ConversationState, r ActionRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	if s.Status != StatusPaused {
		return refuse(CodeNotPaused, "conversation #%d is %s, not paused", s.Number, s.Status)
	}
	return checkOwner(s, r)
}

func checkReply(s *ConversationState, r ReplyRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	switch s.Status {
	case StatusPaused:
		return refuse(CodeConversationPaused, "conversation #%d is paused; resume it to write", s.Number)
	case StatusQueued:
		return refuse(CodeNotTaken, "conversation #%d is not taken yet; take it first", s.Number)
	}
	if r.MessageID == "" {
		return refuse(CodeInvalid, "message_id is required")
	}
	if r.Text == "" && len(r.Attachments) == 0 {
		return refuse(CodeInvalid, "text or attachments are required")
	}
	return checkHandler(s, r.ActionRequest)
}

func checkNote(s *ConversationState, r ReplyRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	if r.MessageID == "" || r.Text == "" {
		return refuse(CodeInvalid, "message_id and text are required")
	}
	// Notes follow the rule of replies once someone handles the conversation; on a queued one any
	// colleague may leave a note for whoever takes it.
	if s.AssigneeID != 0 {
		return checkHandler(s, r.ActionRequest)
	}
	return nil
}

// checkEdit: fields and participants of a handled conversation are its owner's to change.
func checkEdit(s *ConversationState, r EditRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	if s.AssigneeID != 0 {
		return checkOwner(s, r.ActionRequest)
	}
	// Participants of a conversation nobody holds yet are for a supervisor to choose: an
	// operator adding colleagues to the queue would hand them a conversation unasked.
	if r.Participants != nil && !isPrivileged(r.ActorRole) {
		return refuse(CodeNotTaken, "conversation #%d is not taken yet; take it before adding participants", s.Number)
	}
	return nil
}

func checkClose(s *ConversationState, r CloseRequest) error {
	if err := checkOpen(s); err != nil {
		return err
	}
	if s.AssigneeID != 0 {
		if err := checkOwner(s, r.ActionRequest); err != nil {
			return err
		}
	}
	if r.ClientRating < 0 || r.ClientRating > 3 {
		return refuse(CodeInvalid, "client_rating must be 1, 2 or 3")
	}
	if s.ClientWaiting && !r.ConfirmUnread {
		return refuse(CodeUnreadMessages, "conversation #%d has unread client messages; confirm to close anyway", s.Number)
	}
	return nil
}
