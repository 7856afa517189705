package workflows_test

// Issue 6, "safe handlers": operator actions that reach a workflow in the same workflow task (a
// double click, two operators at once) are judged one after the other, never both on the state
// before either.

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/workflows"
)

// action is one update of a batch sent together.
type action struct {
	name string
	arg  any
}

// together sends the updates at d from one callback, so they reach the workflow in one task.
func (c *convTest) together(d time.Duration, actions ...action) []*outcome {
	outs := make([]*outcome, len(actions))
	for i, a := range actions {
		outs[i] = &outcome{name: fmt.Sprintf("%s #%d at +%s", a.name, i+1, d)}
	}
	c.at(d, func() {
		for i, a := range actions {
			c.env.UpdateWorkflow(a.name, fmt.Sprintf("together-%s-%d", d, i), outs[i].callbacks(), a.arg)
		}
	})
	return outs
}

// oneWins checks that exactly one of the outcomes succeeded and the others were refused with code
// (by the validator, or by the handler's second look once it held the mutex); it returns the winner.
func oneWins(t *testing.T, outs []*outcome, code string) *outcome {
	t.Helper()
	var won *outcome
	for _, o := range outs {
		if o.rejected == nil && o.err == nil && o.completed {
			require.Nil(t, won, "both %s and %s succeeded", name(won), o.name)
			won = o
			continue
		}
		require.Equal(t, code, o.code(), "%s", o.name)
	}
	require.NotNil(t, won, "none succeeded")
	return won
}

func name(o *outcome) string {
	if o == nil {
		return ""
	}
	return o.name
}

func count(kinds []string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}

func TestConversationDoubleCloseIsAcceptedOnce(t *testing.T) {
	c := newConvTest(t, wed10(t))
	c.update(time.Minute, workflows.UpdateTake, take(opAnna))
	wrapUp := workflows.CloseRequest{ActionRequest: act(opAnna), ConfirmUnread: true, SendCSAT: true, OpenTicket: true,
		Solution: "Restart the router."}
	outs := c.together(2*time.Minute, action{workflows.UpdateClose, wrapUp}, action{workflows.UpdateClose, wrapUp})
	c.signal(time.Hour, workflows.SignalCSATAnswer, workflows.CSATAnswer{Score: workflows.CSATExcellent, MessageID: "in-csat", At: c.start.Add(time.Hour)})
	final := c.run(c.request(workflows.LineConfig{ID: 1}))

	won := oneWins(t, outs, workflows.CodeConversationClosed)
	require.Equal(t, workflows.StatusClosed, actionState(t, won).Status)
	require.Equal(t, workflows.StatusClosed, final.Status)
	require.Equal(t, workflows.CSATExcellent, final.CSAT)

	kinds := c.acts.eventKinds(t)
	require.Equal(t, 1, count(kinds, "closed"), "events %v", kinds)
	require.Equal(t, 1, count(kinds, "csat_answered"), "events %v", kinds)
	require.Len(t, c.acts.messagesOfKind("csat"), 1, "one CSAT question")
	require.Len(t, c.acts.messagesOfKind("csat_thanks"), 1)
	require.Len(t, c.acts.emails, 1, "the solution is emailed once")
	followUps := 0
	for _, s := range c.acts.signalsToChat() {
		if s.FollowUpAssignee != 0 {
			followUps++
		}
	}
	require.Equal(t, 1, followUps, "one follow-up ticket")
}

func TestConversationTwoOperatorsTakeAtOnce(t *testing.T) {
	c := newConvTest(t, wed10(t))
	outs := c.together(time.Minute, action{workflows.UpdateTake, take(opAnna)}, action{workflows.UpdateTake, take(opBoris)})
	c.update(2*time.Minute, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	final := c.run(c.request(workflows.LineConfig{ID: 1}))

	won := oneWins(t, outs, workflows.CodeAlreadyTaken)
	holder := actionState(t, won).AssigneeID
	require.Contains(t, []int64{opAnna, opBoris}, holder)
	require.Equal(t, holder, final.AssigneeID, "the winner keeps it")
	for _, o := range outs {
		if o != won {
			var named int64
			require.NoError(t, o.refusal().Details(&named))
			require.Equal(t, holder, named, "already_taken names the winner")
		}
	}
	require.Equal(t, []string{"opened", "taken", "closed"}, c.acts.eventKinds(t))
}

func TestConversationCloseAndPauseAtOnce(t *testing.T) {
	c := newConvTest(t, wed10(t))
	c.update(time.Minute, workflows.UpdateTake, take(opAnna))
	// Asking for CSAT, the close awaits the standard texts and the question's recording before it
	// changes the status: the pause is admitted meanwhile and must look again.
	closing := closeBy(opAnna)
	closing.SendCSAT = true
	outs := c.together(2*time.Minute, action{workflows.UpdateClose, closing}, action{workflows.UpdatePause, act(opAnna)})
	final := c.run(c.request(workflows.LineConfig{ID: 1}))

	won := oneWins(t, outs, workflows.CodeConversationClosed)
	require.Same(t, outs[0], won, "the close came first; the pause finds the conversation closed")
	require.Equal(t, workflows.StatusClosed, final.Status)
	require.Equal(t, []string{"opened", "taken", "closed"}, c.acts.eventKinds(t))
	require.Equal(t, []string{workflows.StatusActive, workflows.StatusClosed}, statuses(c.acts.signalsToChat()))
	require.Len(t, c.acts.messagesOfKind("csat"), 1)
}

// TestChatTwoDialogsOpenedAtOnce: two operators open a dialog in the same chat at once; the
// second finds the first one active.
func TestChatTwoDialogsOpenedAtOnce(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	outs := []*outcome{{name: "open_dialog by Anna"}, {name: "open_dialog by Boris"}}
	c.at(time.Minute, func() {
		c.env.UpdateWorkflow(workflows.UpdateOpenDialog, "dialog-anna", outs[0].callbacks(), workflows.OpenDialogRequest{ActionRequest: act(opAnna)})
		c.env.UpdateWorkflow(workflows.UpdateOpenDialog, "dialog-boris", outs[1].callbacks(), workflows.OpenDialogRequest{ActionRequest: act(opBoris)})
	})
	st := c.queryChat(2 * time.Minute)
	c.updateConversation(3*time.Minute, 101, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor()})
	c.run()

	won := oneWins(t, outs, workflows.CodeActiveDialogExists)
	require.Equal(t, workflows.OpenDialogResult{Number: 101}, won.result)
	require.Len(t, c.acts.creates, 1)
	require.Len(t, c.startedConversations(), 1)
	require.Equal(t, []workflows.OpenConversation{{Number: 101, Status: workflows.StatusActive}}, st.Conversations)
}

// TestConversationCloseWithAClientMessageArrivingTogether: the client writes in the same workflow
// task as the operator closes without confirming. The message is unread by then, so the close is
// refused (unread_messages) and the message stays in this conversation. (The test environment
// hands the signal over before the update runs; on a real server the update's handler may run
// first while the signal still waits in its channel, which conversation.view counts too.)
func TestConversationCloseWithAClientMessageArrivingTogether(t *testing.T) {
	c := newConvTest(t, wed10(t))
	c.update(time.Minute, workflows.UpdateTake, take(opAnna))
	c.update(2*time.Minute, workflows.UpdateReply, reply(opAnna, "r1", "Hello!"))
	out := &outcome{name: "close without confirming"}
	c.at(3*time.Minute, func() {
		c.env.SignalWorkflow(workflows.SignalClientMessage, workflows.ClientMessage{MessageID: "m2", At: c.start.Add(3 * time.Minute)})
		c.env.UpdateWorkflow(workflows.UpdateClose, "close-together", out.callbacks(),
			workflows.CloseRequest{ActionRequest: act(opAnna)})
	})
	c.update(4*time.Minute, workflows.UpdateClose, closeBy(opAnna))
	final := c.run(c.request(workflows.LineConfig{ID: 1}))

	requireRefused(t, out, workflows.CodeUnreadMessages)
	require.Equal(t, workflows.StatusClosed, final.Status)
	for _, s := range c.acts.signalsToChat() {
		require.Empty(t, s.LateMessages, "the message was not handed back to the chat")
	}
}
