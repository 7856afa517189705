package workflows_test

// Issue 6: the inbound hand-off (ordered, at-least-once batches applied once each, in sequence
// order) and the dialog rule of seed 003 (at most one active conversation per chat, any number of
// paused dialogs).

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/linedesk/linedesk/workflows"
)

func batch(ms ...workflows.InboundMessage) workflows.InboundBatch {
	return workflows.InboundBatch{Messages: ms}
}

// TestChatAppliesInboundMessagesOnceInOrder: batches cross and are redelivered; every message is
// applied once, in sequence order.
func TestChatAppliesInboundMessagesOnceInOrder(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	m1 := c.message("m1", 1, time.Minute)
	m2 := c.message("m2", 2, time.Minute)
	m3 := c.message("m3", 3, time.Minute)
	c.deliver(time.Minute, batch(m3)) // ahead of m1 and m2: it waits
	waiting := c.queryChat(90 * time.Second)
	linksWhileWaiting := make(chan int, 1)
	c.at(90*time.Second, func() { linksWhileWaiting <- len(c.acts.links) })
	c.deliver(2*time.Minute, batch(m1), batch(m1, m2), batch(m3)) // m1 twice, m3 again
	c.deliver(3*time.Minute, batch(m2, m3))                       // all of it again
	done := c.queryChat(4 * time.Minute)
	c.updateConversation(5*time.Minute, 101, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	c.run()

	require.Equal(t, int64(1), waiting.NextSeq, "m1 is next")
	require.Equal(t, normalizeInbound([]workflows.InboundMessage{m3}), normalizeInbound(waiting.Early))
	require.Zero(t, <-linksWhileWaiting, "nothing is routed out of order")
	require.Empty(t, c.acts.creates[1:], "one conversation")
	require.Equal(t, "m1", c.startedConversations()[0].FirstMessage.MessageID, "the first message opens it, not the first to arrive")

	require.Equal(t, []string{"m1", "m2", "m3"}, c.acts.linkOrder())
	for _, id := range []string{"m1", "m2", "m3"} {
		require.Equal(t, int64(101), c.linkedTo(id), id)
	}
	last := c.acts.links[len(c.acts.links)-1]
	require.Equal(t, int64(3), last.Seq, "the read model learns how far the chat routed")
	require.Equal(t, int64(4), done.NextSeq)
	require.Empty(t, done.Early)
	require.Equal(t, 1, c.acts.routedSeqCalls)
}

// TestChatStartsAfterTheRoutedSequence: a chat whose workflow starts anew (it ended idle, or was
// lost) asks the read model how far routing went and ignores what was routed before.
func TestChatStartsAfterTheRoutedSequence(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	c.acts.routedSeq[testChatID] = 5
	d := time.Minute
	c.deliver(d, batch(c.message("m4", 4, d), c.message("m5", 5, d), c.message("m6", 6, d)), batch(c.message("m7", 7, d)))
	c.deliver(2*time.Minute, batch(c.message("m3", 3, d)))
	st := c.queryChat(3 * time.Minute)
	c.updateConversation(4*time.Minute, 101, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	c.run()

	require.Equal(t, []string{"m6", "m7"}, c.acts.linkOrder())
	require.Equal(t, int64(101), c.linkedTo("m6"))
	require.Equal(t, int64(101), c.linkedTo("m7"))
	require.Len(t, c.acts.creates, 1)
	require.Equal(t, testChatID+"/message:m6", c.acts.creates[0].OpeningKey)
	require.Equal(t, int64(8), st.NextSeq)
	require.Empty(t, st.Early)
	require.Equal(t, 1, c.acts.routedSeqCalls)
	require.Equal(t, int64(7), c.acts.routedSeq[testChatID])
}

func normalizeInbound(ms []workflows.InboundMessage) []workflows.InboundMessage {
	out := make([]workflows.InboundMessage, len(ms))
	for i, m := range ms {
		m.At = m.At.UTC()
		out[i] = m
	}
	return out
}

// TestChatDialogRule (seed 003): a paused dialog does not keep an operator from opening another;
// an active one does. With only paused dialogs, the client's message resumes the latest paused
// one, or (line setting) stays in the chat.
func TestChatDialogRule(t *testing.T) {
	tests := []struct {
		setting    string
		wantLinked int64
		want101    string
		want102    string
	}{
		{"", 102, workflows.StatusPaused, workflows.StatusActive},
		{workflows.PausedResume, 102, workflows.StatusPaused, workflows.StatusActive},
		{workflows.PausedStay, 0, workflows.StatusPaused, workflows.StatusPaused},
	}
	for _, tt := range tests {
		t.Run("paused_client_message="+tt.setting, func(t *testing.T) {
			line := autoOpenLine()
			line.PausedClientMessage = tt.setting
			c := newChatTest(t, line)
			m := time.Minute
			first := c.update(1*m, workflows.UpdateOpenDialog, workflows.OpenDialogRequest{ActionRequest: act(opAnna), Title: "first"})
			c.updateConversation(2*m, 101, workflows.UpdatePause, act(opAnna))
			second := c.update(3*m, workflows.UpdateOpenDialog, workflows.OpenDialogRequest{ActionRequest: act(opBoris), Title: "second"})
			refused := c.update(4*m, workflows.UpdateOpenDialog, workflows.OpenDialogRequest{ActionRequest: act(opVera)})
			c.updateConversation(5*m, 102, workflows.UpdatePause, act(opBoris))
			bothPaused := c.queryChat(6 * m)
			c.inbound(7*m, "m1")
			after := c.queryChat(8 * m)
			conv101 := c.queryConversation(8*m, 101)
			conv102 := c.queryConversation(8*m, 102)
			c.updateConversation(9*m, 101, workflows.UpdateClose, closeBy(opAnna))
			c.updateConversation(10*m, 102, workflows.UpdateClose, closeBy(opBoris))
			c.run()

			requireDone(t, first)
			require.Equal(t, workflows.OpenDialogResult{Number: 101}, first.result)
			requireDone(t, second)
			require.Equal(t, workflows.OpenDialogResult{Number: 102}, second.result, "a paused dialog does not block a new one")
			requireRefused(t, refused, workflows.CodeActiveDialogExists)
			var holder int64
			require.NoError(t, refused.refusal().Details(&holder))
			require.Equal(t, int64(102), holder, "the refusal names the active dialog")

			require.Equal(t, []workflows.OpenConversation{
				{Number: 101, Status: workflows.StatusPaused, PausedStay: tt.setting == workflows.PausedStay},
				{Number: 102, Status: workflows.StatusPaused, PausedStay: tt.setting == workflows.PausedStay},
			}, bothPaused.Conversations, "the latest paused last")

			require.Equal(t, tt.wantLinked, c.linkedTo("m1"))
			require.Len(t, c.acts.creates, 2, "the message opens no conversation")
			require.Equal(t, tt.want101, conv101.Status)
			require.Equal(t, tt.want102, conv102.Status)
			require.Equal(t, tt.wantLinked == 102, conv102.ClientWaiting)
			require.False(t, conv101.ClientWaiting)
			status := map[int64]string{}
			for _, oc := range after.Conversations {
				status[oc.Number] = oc.Status
			}
			require.Equal(t, map[int64]string{101: tt.want101, 102: tt.want102}, status, "the chat follows its conversations")
		})
	}
}

// TestConversationContinuesAsNewWithoutWaitingForTheOutbox: with the channel down, the
// conversation continues as new when suggested and carries the undelivered replies; the next run
// delivers them, in order.
func TestConversationContinuesAsNewWithoutWaitingForTheOutbox(t *testing.T) {
	c := newConvTest(t, wed10(t))
	c.acts.deliverErr = errors.New("the channel's endpoint is down")
	c.update(time.Minute, workflows.UpdateTake, take(opAnna))
	c.update(2*time.Minute, workflows.UpdateReply, reply(opAnna, "out-1", "Hello"))
	c.update(3*time.Minute, workflows.UpdateReply, reply(opAnna, "out-2", "Still there?"))
	c.at(4*time.Minute, func() { c.env.SetContinueAsNewSuggested(true) })
	c.env.ExecuteWorkflow(workflows.ConversationWorkflow, c.request(workflows.LineConfig{ID: 1}))

	require.True(t, c.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, c.env.GetWorkflowError(), &can)
	require.True(t, c.start.Add(4*time.Minute).Equal(c.env.Now()), "continued at %s, not once the outbox drained", c.env.Now())
	var next workflows.ConversationInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, []string{"out-1", "out-2"}, next.Outbox)
	require.NotZero(t, c.acts.deliveryAttempts["out-1"])
	require.Zero(t, c.acts.deliveryAttempts["out-2"], "one at a time, in order")
	require.Empty(t, c.acts.deliveredIDs())

	c2 := newConvTest(t, c.start.Add(4*time.Minute))
	c2.update(time.Minute, workflows.UpdateReply, reply(opAnna, "out-3", "Back online"))
	c2.update(2*time.Minute, workflows.UpdateClose, closeBy(opAnna))
	c2.run(next)
	require.Equal(t, []string{"out-1", "out-2", "out-3"}, c2.acts.deliveredIDs())
}
