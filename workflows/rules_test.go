package workflows

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

const (
	ruleOp1 = 11
	ruleOp2 = 12
	ruleOp3 = 13
)

// ruleState is a conversation #7 in the given status, assigned to assignee (0: nobody), with
// participants.
func ruleState(status string, assignee int64, participants ...int64) *ConversationState {
	if participants == nil {
		participants = []int64{}
	}
	return &ConversationState{Number: 7, Status: status, AssigneeID: assignee, Participants: participants}
}

// ruleCode is the refusal code of err ("" for nil); err must be a *RuleError.
func ruleCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var re *RuleError
	require.True(t, errors.As(err, &re), "want *RuleError, got %T: %v", err, err)
	require.NotEmpty(t, re.Message)
	return re.Code
}

func actor(id int64) ActionRequest { return ActionRequest{ActorID: id} }

func supervisor(id int64) ActionRequest { return ActionRequest{ActorID: id, ActorRole: "supervisor"} }

func TestCheckOpen(t *testing.T) {
	for _, status := range []string{StatusQueued, StatusActive, StatusPaused} {
		require.NoError(t, checkOpen(ruleState(status, 0)), status)
	}
	require.Equal(t, CodeConversationClosed, ruleCode(t, checkOpen(ruleState(StatusClosed, ruleOp1))))
}

func TestCheckHandler(t *testing.T) {
	tests := []struct {
		name   string
		st     *ConversationState
		actor  ActionRequest
		want   string
		holder int64
	}{
		{"assignee", ruleState(StatusActive, ruleOp1), actor(ruleOp1), "", 0},
		{"participant", ruleState(StatusActive, ruleOp1, ruleOp2), actor(ruleOp2), "", 0},
		{"supervisor", ruleState(StatusActive, ruleOp1), supervisor(ruleOp3), "", 0},
		{"admin", ruleState(StatusActive, ruleOp1), ActionRequest{ActorID: ruleOp3, ActorRole: "admin"}, "", 0},
		{"other operator", ruleState(StatusActive, ruleOp1), actor(ruleOp2), CodeNotAssignee, ruleOp1},
		{"operator role is not privileged", ruleState(StatusActive, ruleOp1), ActionRequest{ActorID: ruleOp2, ActorRole: "operator"}, CodeNotAssignee, ruleOp1},
		{"nobody holds it", ruleState(StatusQueued, 0), actor(ruleOp2), CodeNotTaken, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkHandler(tt.st, tt.actor)
			require.Equal(t, tt.want, ruleCode(t, err))
			if tt.holder != 0 {
				require.Equal(t, tt.holder, err.(*RuleError).HolderID)
			}
		})
	}
}

func TestCheckTake(t *testing.T) {
	tests := []struct {
		name   string
		st     *ConversationState
		r      TakeRequest
		want   string
		holder int64
	}{
		{"queued", ruleState(StatusQueued, 0), TakeRequest{actor(ruleOp1)}, "", 0},
		{"held by the actor", ruleState(StatusActive, ruleOp1), TakeRequest{actor(ruleOp1)}, "", 0},
		{"held by another", ruleState(StatusActive, ruleOp1), TakeRequest{actor(ruleOp2)}, CodeAlreadyTaken, ruleOp1},
		{"paused, held by another", ruleState(StatusPaused, ruleOp1), TakeRequest{actor(ruleOp2)}, CodeAlreadyTaken, ruleOp1},
		{"supervisor cannot take a held one", ruleState(StatusActive, ruleOp1), TakeRequest{supervisor(ruleOp3)}, CodeAlreadyTaken, ruleOp1},
		{"closed", ruleState(StatusClosed, 0), TakeRequest{actor(ruleOp1)}, CodeConversationClosed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTake(tt.st, tt.r)
			require.Equal(t, tt.want, ruleCode(t, err))
			if tt.holder != 0 {
				require.Equal(t, tt.holder, err.(*RuleError).HolderID)
			}
		})
	}
}

func TestCheckAssign(t *testing.T) {
	tests := []struct {
		name string
		st   *ConversationState
		r    AssignRequest
		want string
	}{
		{"queued", ruleState(StatusQueued, 0), AssignRequest{ActionRequest: supervisor(ruleOp3), AssigneeID: ruleOp1}, ""},
		{"reassign active", ruleState(StatusActive, ruleOp1), AssignRequest{ActionRequest: supervisor(ruleOp3), AssigneeID: ruleOp2}, ""},
		{"no assignee", ruleState(StatusQueued, 0), AssignRequest{ActionRequest: supervisor(ruleOp3), AssigneeID: 0}, CodeInvalid},
		{"negative assignee", ruleState(StatusQueued, 0), AssignRequest{ActionRequest: supervisor(ruleOp3), AssigneeID: -1}, CodeInvalid},
		{"closed", ruleState(StatusClosed, ruleOp1), AssignRequest{ActionRequest: supervisor(ruleOp3), AssigneeID: ruleOp2}, CodeConversationClosed},
		{"operator assigns from the queue", ruleState(StatusQueued, 0), AssignRequest{ActionRequest: actor(ruleOp3), AssigneeID: ruleOp1}, ""},
		{"operator hands over their own", ruleState(StatusActive, ruleOp1), AssignRequest{ActionRequest: actor(ruleOp1), AssigneeID: ruleOp2}, ""},
		{"operator takes a colleague's", ruleState(StatusActive, ruleOp1), AssignRequest{ActionRequest: actor(ruleOp3), AssigneeID: ruleOp3}, CodeNotAssignee},
		{"router assigns from the queue", ruleState(StatusQueued, 0), AssignRequest{AssigneeID: ruleOp1, Rule: RoutingRoundRobin}, ""},
		{"router finds it taken", ruleState(StatusActive, ruleOp2), AssignRequest{AssigneeID: ruleOp1, Rule: RoutingRoundRobin}, CodeNotQueued},
		{"router finds it paused", ruleState(StatusPaused, ruleOp2), AssignRequest{AssigneeID: ruleOp1, Rule: RoutingLeastBusy}, CodeNotQueued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ruleCode(t, checkAssign(tt.st, tt.r)))
		})
	}
}

func TestCheckTransfer(t *testing.T) {
	tests := []struct {
		name string
		st   *ConversationState
		r    TransferRequest
		want string
	}{
		{"by assignee", ruleState(StatusActive, ruleOp1), TransferRequest{ActionRequest: actor(ruleOp1), AssigneeID: ruleOp2}, ""},
		{"by participant", ruleState(StatusActive, ruleOp1, ruleOp3), TransferRequest{ActionRequest: actor(ruleOp3), AssigneeID: ruleOp2}, CodeNotAssignee},
		{"by participant to themselves", ruleState(StatusActive, ruleOp1, ruleOp3), TransferRequest{ActionRequest: actor(ruleOp3), AssigneeID: ruleOp3}, CodeNotAssignee},
		{"by supervisor", ruleState(StatusPaused, ruleOp1), TransferRequest{ActionRequest: supervisor(ruleOp3), AssigneeID: ruleOp2}, ""},
		{"from the queue by anyone", ruleState(StatusQueued, 0), TransferRequest{ActionRequest: actor(ruleOp3), AssigneeID: ruleOp2}, ""},
		{"by another operator", ruleState(StatusActive, ruleOp1), TransferRequest{ActionRequest: actor(ruleOp3), AssigneeID: ruleOp2}, CodeNotAssignee},
		{"to the assignee", ruleState(StatusActive, ruleOp1), TransferRequest{ActionRequest: actor(ruleOp1), AssigneeID: ruleOp1}, CodeSameAssignee},
		{"no assignee", ruleState(StatusActive, ruleOp1), TransferRequest{ActionRequest: actor(ruleOp1)}, CodeInvalid},
		{"closed", ruleState(StatusClosed, ruleOp1), TransferRequest{ActionRequest: actor(ruleOp1), AssigneeID: ruleOp2}, CodeConversationClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ruleCode(t, checkTransfer(tt.st, tt.r)))
		})
	}
}

func TestCheckReturn(t *testing.T) {
	tests := []struct {
		name string
		st   *ConversationState
		r    ActionRequest
		want string
	}{
		{"active by assignee", ruleState(StatusActive, ruleOp1), actor(ruleOp1), ""},
		{"paused by assignee", ruleState(StatusPaused, ruleOp1), actor(ruleOp1), ""},
		{"by supervisor", ruleState(StatusActive, ruleOp1), supervisor(ruleOp3), ""},
		{"by another operator", ruleState(StatusActive, ruleOp1), actor(ruleOp2), CodeNotAssignee},
		{"queued", ruleState(StatusQueued, 0), actor(ruleOp1), CodeAlreadyQueued},
		{"closed", ruleState(StatusClosed, ruleOp1), actor(ruleOp1), CodeConversationClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ruleCode(t, checkReturn(tt.st, tt.r)))
		})
	}
}

func TestCheckPauseResume(t *testing.T) {
	pause := []struct {
		name string
		st   *ConversationState
		r    ActionRequest
		want string
	}{
		{"active by assignee", ruleState(StatusActive, ruleOp1), actor(ruleOp1), ""},
		{"active by participant", ruleState(StatusActive, ruleOp1, ruleOp2), actor(ruleOp2), CodeNotAssignee},
		{"active by another operator", ruleState(StatusActive, ruleOp1), actor(ruleOp2), CodeNotAssignee},
		{"paused", ruleState(StatusPaused, ruleOp1), actor(ruleOp1), CodeAlreadyPaused},
		{"queued", ruleState(StatusQueued, 0), actor(ruleOp1), CodeNotActive},
		{"closed", ruleState(StatusClosed, ruleOp1), actor(ruleOp1), CodeConversationClosed},
	}
	for _, tt := range pause {
		t.Run("pause/"+tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ruleCode(t, checkPause(tt.st, tt.r)))
		})
	}
	resume := []struct {
		name string
		st   *ConversationState
		r    ActionRequest
		want string
	}{
		{"paused by assignee", ruleState(StatusPaused, ruleOp1), actor(ruleOp1), ""},
		{"paused by supervisor", ruleState(StatusPaused, ruleOp1), supervisor(ruleOp3), ""},
		{"paused by another operator", ruleState(StatusPaused, ruleOp1), actor(ruleOp2), CodeNotAssignee},
		{"active", ruleState(StatusActive, ruleOp1), actor(ruleOp1), CodeNotPaused},
		{"queued", ruleState(StatusQueued, 0), actor(ruleOp1), CodeNotPaused},
		{"closed", ruleState(StatusClosed, ruleOp1), actor(ruleOp1), CodeConversationClosed},
	}
	for _, tt := range resume {
		t.Run("resume/"+tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ruleCode(t, checkResume(tt.st, tt.r)))
		})
	}
}

func TestCheckReplyNote(t *testing.T) {
	ok := ReplyRequest{ActionRequest: actor(ruleOp1), MessageID: "m1", Text: "hello"}
	with := func(f func(*ReplyRequest)) ReplyRequest {
		r := ok
		f(&r)
		return r
	}
	reply := []struct {
		name string
		st   *ConversationState
		r    ReplyRequest
		want string
	}{
		{"active by assignee", ruleState(StatusActive, ruleOp1), ok, ""},
		{"attachment only", ruleState(StatusActive, ruleOp1), with(func(r *ReplyRequest) {
			r.Text, r.Attachments = "", []Attachment{{URL: "https://files.example/a.png"}}
		}), ""},
		{"by participant", ruleState(StatusActive, ruleOp1, ruleOp2), with(func(r *ReplyRequest) { r.ActorID = ruleOp2 }), ""},
		{"by another operator", ruleState(StatusActive, ruleOp1), with(func(r *ReplyRequest) { r.ActorID = ruleOp2 }), CodeNotAssignee},
		{"paused", ruleState(StatusPaused, ruleOp1), ok, CodeConversationPaused},
		{"queued", ruleState(StatusQueued, 0), ok, CodeNotTaken},
		{"closed", ruleState(StatusClosed, ruleOp1), ok, CodeConversationClosed},
		{"no message id", ruleState(StatusActive, ruleOp1), with(func(r *ReplyRequest) { r.MessageID = "" }), CodeInvalid},
		{"empty", ruleState(StatusActive, ruleOp1), with(func(r *ReplyRequest) { r.Text = "" }), CodeInvalid},
	}
	for _, tt := range reply {
		t.Run("reply/"+tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ruleCode(t, checkReply(tt.st, tt.r)))
		})
	}
	note := []struct {
		name string
		st   *ConversationState
		r    ReplyRequest
		want string
	}{
		{"queued by anyone", ruleState(StatusQueued, 0), with(func(r *ReplyRequest) { r.ActorID = ruleOp2 }), ""},
		{"by participant", ruleState(StatusActive, ruleOp1, ruleOp2), with(func(r *ReplyRequest) { r.ActorID = ruleOp2 }), ""},
		{"by another operator", ruleState(StatusActive, ruleOp1), with(func(r *ReplyRequest) { r.ActorID = ruleOp2 }), CodeNotAssignee},
		{"by supervisor", ruleState(StatusActive, ruleOp1), with(func(r *ReplyRequest) { r.ActionRequest = supervisor(ruleOp3) }), ""},
		{"paused", ruleState(StatusPaused, ruleOp1), ok, ""},
		{"closed", ruleState(StatusClosed, ruleOp1), ok, CodeConversationClosed},
		{"no text", ruleState(StatusActive, ruleOp1), with(func(r *ReplyRequest) { r.Text = "" }), CodeInvalid},
		{"no message id", ruleState(StatusActive, ruleOp1), with(func(r *ReplyRequest) { r.MessageID = "" }), CodeInvalid},
	}
	for _, tt := range note {
		t.Run("note/"+tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ruleCode(t, checkNote(tt.st, tt.r)))
		})
	}
}

func TestCheckEdit(t *testing.T) {
	title := "new"
	edit := func(a ActionRequest) EditRequest { return EditRequest{ActionRequest: a, Title: &title} }
	require.NoError(t, checkEdit(ruleState(StatusQueued, 0), edit(actor(ruleOp2))), "a queued conversation nobody holds")
	for _, status := range []string{StatusActive, StatusPaused} {
		require.NoError(t, checkEdit(ruleState(status, ruleOp1), edit(actor(ruleOp1))), status+" by the assignee")
		require.NoError(t, checkEdit(ruleState(status, ruleOp1), edit(supervisor(ruleOp3))), status+" by a supervisor")
		require.Equal(t, CodeNotAssignee, ruleCode(t, checkEdit(ruleState(status, ruleOp1, ruleOp2), edit(actor(ruleOp2)))), status+" by a participant")
		require.Equal(t, CodeNotAssignee, ruleCode(t, checkEdit(ruleState(status, ruleOp1), edit(actor(ruleOp3)))), status+" by another operator")
	}
	require.Equal(t, CodeConversationClosed, ruleCode(t, checkEdit(ruleState(StatusClosed, ruleOp1), EditRequest{})))
}

func TestCheckClose(t *testing.T) {
	// A client turn nobody answered yet: the client has unread messages (the read model counts them).
	unread := func(st *ConversationState) *ConversationState { st.ClientWaiting = true; return st }
	tests := []struct {
		name string
		st   *ConversationState
		r    CloseRequest
		want string
	}{
		{"active by assignee", ruleState(StatusActive, ruleOp1), CloseRequest{ActionRequest: actor(ruleOp1)}, ""},
		{"paused by assignee", ruleState(StatusPaused, ruleOp1), CloseRequest{ActionRequest: actor(ruleOp1)}, ""},
		{"queued by anyone", ruleState(StatusQueued, 0), CloseRequest{ActionRequest: actor(ruleOp2)}, ""},
		{"by supervisor", ruleState(StatusActive, ruleOp1), CloseRequest{ActionRequest: supervisor(ruleOp3)}, ""},
		{"by another operator", ruleState(StatusActive, ruleOp1), CloseRequest{ActionRequest: actor(ruleOp2)}, CodeNotAssignee},
		{"by participant", ruleState(StatusActive, ruleOp1, ruleOp2), CloseRequest{ActionRequest: actor(ruleOp2)}, CodeNotAssignee},
		{"by another operator, unread", unread(ruleState(StatusActive, ruleOp1)), CloseRequest{ActionRequest: actor(ruleOp2)}, CodeNotAssignee},
		{"ratings 1..3", ruleState(StatusActive, ruleOp1), CloseRequest{ActionRequest: actor(ruleOp1), ClientRating: 3}, ""},
		{"rating 4", ruleState(StatusActive, ruleOp1), CloseRequest{ActionRequest: actor(ruleOp1), ClientRating: 4}, CodeInvalid},
		{"rating -1", ruleState(StatusActive, ruleOp1), CloseRequest{ActionRequest: actor(ruleOp1), ClientRating: -1}, CodeInvalid},
		{"unread", unread(ruleState(StatusActive, ruleOp1)), CloseRequest{ActionRequest: actor(ruleOp1)}, CodeUnreadMessages},
		{"unread confirmed", unread(ruleState(StatusActive, ruleOp1)), CloseRequest{ActionRequest: actor(ruleOp1), ConfirmUnread: true}, ""},
		{"unread in the queue", unread(ruleState(StatusQueued, 0)), CloseRequest{ActionRequest: supervisor(ruleOp3)}, CodeUnreadMessages},
		{"closed", ruleState(StatusClosed, ruleOp1), CloseRequest{ActionRequest: actor(ruleOp1)}, CodeConversationClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ruleCode(t, checkClose(tt.st, tt.r)))
		})
	}
}

func TestCheckAutomated(t *testing.T) {
	tests := []struct {
		r    AutomatedRequest
		want string
	}{
		{AutomatedRequest{MessageID: "a", Kind: AutomatedTunnel, Text: "x"}, ""},
		{AutomatedRequest{MessageID: "a", Kind: AutomatedBroadcast, Text: "x"}, ""},
		{AutomatedRequest{MessageID: "a", Kind: AutomatedAI, Text: "x"}, ""},
		{AutomatedRequest{MessageID: "a", Kind: "spam", Text: "x"}, CodeInvalid},
		{AutomatedRequest{MessageID: "a", Kind: AutomatedAI}, CodeInvalid},
		{AutomatedRequest{Kind: AutomatedAI, Text: "x"}, CodeInvalid},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ruleCode(t, checkAutomated(tt.r)), "%+v", tt.r)
	}
}

func TestChatChecks(t *testing.T) {
	write := ChatWriteRequest{ActionRequest: actor(ruleOp1), MessageID: "w1", Text: "hi"}
	conv := func(number int64, status string) OpenConversation {
		return OpenConversation{Number: number, Status: status}
	}
	tests := []struct {
		name string
		open []OpenConversation
		r    ChatWriteRequest
		// wantOpen is the refusal of a new dialog, wantHolder the conversation it names.
		wantOpen   string
		wantHolder int64
		wantWrite  string
	}{
		{"nothing open", nil, write, "", 0, ""},
		{"active", []OpenConversation{conv(5, StatusActive)}, write, CodeActiveDialogExists, 5, CodeActiveDialogExists},
		{"queued", []OpenConversation{conv(5, StatusQueued)}, write, CodeActiveDialogExists, 5, ""},
		// Seed 003: paused dialogs do not block a new one.
		{"paused", []OpenConversation{conv(5, StatusPaused)}, write, "", 0, ""},
		{"two paused", []OpenConversation{conv(4, StatusPaused), conv(5, StatusPaused)}, write, "", 0, ""},
		{"paused and active", []OpenConversation{conv(4, StatusPaused), conv(5, StatusActive)}, write, CodeActiveDialogExists, 5, CodeActiveDialogExists},
		{"paused and queued", []OpenConversation{conv(5, StatusQueued), conv(4, StatusPaused)}, write, CodeActiveDialogExists, 5, ""},
		{"empty write", nil, ChatWriteRequest{ActionRequest: actor(ruleOp1), MessageID: "w1"}, "", 0, CodeInvalid},
		{"write without id", nil, ChatWriteRequest{ActionRequest: actor(ruleOp1), Text: "hi"}, "", 0, CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := &chat{st: ChatState{Conversations: tt.open}}
			errOpen := ch.checkNoCurrent()
			require.Equal(t, tt.wantOpen, ruleCode(t, errOpen))
			if errOpen != nil {
				require.Equal(t, tt.wantHolder, errOpen.(*RuleError).HolderID)
			}
			require.Equal(t, tt.wantWrite, ruleCode(t, ch.checkWrite(tt.r)))
		})
	}
}

func TestAsTemporal(t *testing.T) {
	err := asTemporal(&RuleError{Code: CodeAlreadyTaken, Message: "taken by 11", HolderID: ruleOp1})
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	require.Equal(t, CodeAlreadyTaken, app.Type())
	require.Equal(t, "taken by 11", app.Message())
	require.True(t, app.NonRetryable())
	var holder int64
	require.NoError(t, app.Details(&holder))
	require.Equal(t, int64(ruleOp1), holder)

	require.NoError(t, asTemporal(nil))
	plain := errors.New("boom")
	require.Same(t, plain, asTemporal(plain))
}
