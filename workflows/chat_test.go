package workflows_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/linedesk/linedesk/workflows"
)

// chatTest runs one ChatWorkflow on virtual time with the real ConversationWorkflow as its
// children, so conversation and chat talk to each other through real signals.
type chatTest struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	acts  *fakeActivities
	start time.Time

	mu       sync.Mutex
	children []workflows.ConversationInput
	// seq numbers the inbound messages as the inbound hand-off does, per chat.
	seq int64
}

func newChatTest(t *testing.T, line workflows.LineConfig) *chatTest {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quietLogger(t))
	env := suite.NewTestWorkflowEnvironment()
	start := wed10(t)
	env.SetStartTime(start)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.ChatWorkflowID(testChatID), TaskQueue: workflows.TaskQueue})
	acts := newFakeActivities()
	acts.line = line
	acts.register(env)
	env.RegisterWorkflow(workflows.ConversationWorkflow)
	ct := &chatTest{t: t, env: env, acts: acts, start: start}
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
		var in workflows.ConversationInput
		if err := args.Get(&in); err != nil {
			panic(err)
		}
		ct.mu.Lock()
		defer ct.mu.Unlock()
		ct.children = append(ct.children, in)
	})
	return ct
}

func (c *chatTest) at(d time.Duration, fn func()) { c.env.RegisterDelayedCallback(fn, d) }

// update sends an update to the chat at d.
func (c *chatTest) update(d time.Duration, name string, arg any) *outcome {
	o := &outcome{name: fmt.Sprintf("%s at +%s", name, d)}
	c.at(d, func() { c.env.UpdateWorkflow(name, "", o.callbacks(), arg) })
	return o
}

// inbound hands the client's messages over at d in one batch, numbered after the ones before.
func (c *chatTest) inbound(d time.Duration, ids ...string) workflows.InboundBatch {
	var b workflows.InboundBatch
	for _, id := range ids {
		c.seq++
		b.Messages = append(b.Messages, c.message(id, c.seq, d))
	}
	c.deliver(d, b)
	return b
}

// deliver signals the batches at d, in the same workflow task, as given (redeliveries and batches
// out of order included).
func (c *chatTest) deliver(d time.Duration, batches ...workflows.InboundBatch) {
	c.at(d, func() {
		for _, b := range batches {
			c.env.SignalWorkflow(workflows.SignalInbound, b)
		}
	})
}

// message is one stored inbound message with its sequence number, stored at d.
func (c *chatTest) message(id string, seq int64, d time.Duration) workflows.InboundMessage {
	c.acts.mu.Lock()
	c.acts.messageAt[id] = c.start.Add(d)
	c.acts.mu.Unlock()
	return workflows.InboundMessage{MessageID: id, Seq: seq, At: c.start.Add(d)}
}

// linkedTo is the conversation the message joined (0: it stayed in the chat); it must have been
// linked exactly once.
func (c *chatTest) linkedTo(id string) int64 {
	c.t.Helper()
	links := c.acts.linked(id)
	require.Len(c.t, links, 1, "%s linked exactly once: %+v", id, links)
	return links[0].Conversation
}

func (c *chatTest) automated(d time.Duration, kind, id string) *outcome {
	return c.update(d, workflows.UpdateAutomated, workflows.AutomatedRequest{MessageID: id, Kind: kind, Text: kind + " message " + id})
}

// updateConversation sends an update to conversation number at d.
func (c *chatTest) updateConversation(d time.Duration, number int64, name string, arg any) *outcome {
	o := &outcome{name: fmt.Sprintf("%s on #%d at +%s", name, number, d)}
	// The test environment deduplicates updates by id, and unlike UpdateWorkflow, UpdateWorkflowByID
	// does not invent one for an empty id.
	id := o.name
	c.at(d, func() {
		if err := c.env.UpdateWorkflowByID(workflows.ConversationWorkflowID(number), name, id, o.callbacks(), arg); err != nil {
			o.rejected = err
		}
	})
	return o
}

func (c *chatTest) queryConversation(d time.Duration, number int64) *workflows.ConversationState {
	var st workflows.ConversationState
	c.at(d, func() {
		v, err := c.env.QueryWorkflowByID(workflows.ConversationWorkflowID(number), workflows.QueryState)
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			st.Status = "query failed: " + err.Error()
		}
	})
	return &st
}

func (c *chatTest) queryChat(d time.Duration) *workflows.ChatState {
	var st workflows.ChatState
	c.at(d, func() {
		v, err := c.env.QueryWorkflow(workflows.QueryState)
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			panic(err)
		}
	})
	return &st
}

// run executes the chat until it ends: after every conversation closed and chatIdle passed.
func (c *chatTest) run() {
	c.t.Helper()
	c.env.ExecuteWorkflow(workflows.ChatWorkflow, workflows.ChatInput{ChatID: testChatID, ChannelID: 3, LineID: 1, ContactID: contactID})
	require.True(c.t, c.env.IsWorkflowCompleted())
	require.NoError(c.t, c.env.GetWorkflowError())
}

func (c *chatTest) startedConversations() []workflows.ConversationInput {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]workflows.ConversationInput(nil), c.children...)
}

func automatedOutcome(t *testing.T, o *outcome) string {
	t.Helper()
	requireDone(t, o)
	res, ok := o.result.(workflows.AutomatedResult)
	require.True(t, ok, "%s returned %T", o.name, o.result)
	return res.Outcome
}

func autoOpenLine() workflows.LineConfig {
	return workflows.LineConfig{ID: 1, AutoOpen: true, DefaultType: "question"}
}

func TestChatOpensOneConversation(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	// Five messages stored at the same instant, handed over in three batches that reach the chat
	// in one workflow task.
	at := time.Minute
	c.deliver(at,
		workflows.InboundBatch{Messages: []workflows.InboundMessage{c.message("m1", 1, at), c.message("m2", 2, at)}},
		workflows.InboundBatch{Messages: []workflows.InboundMessage{c.message("m3", 3, at)}},
		workflows.InboundBatch{Messages: []workflows.InboundMessage{c.message("m4", 4, at), c.message("m5", 5, at)}},
	)
	// The hand-off redelivers m3's batch (it never learnt the signal went through).
	c.deliver(2*time.Minute, workflows.InboundBatch{Messages: []workflows.InboundMessage{c.message("m3", 3, at)}})
	c.seq = 5
	c.inbound(2*time.Minute+time.Second, "m6")
	open := c.queryConversation(3*time.Minute, 101)
	chatState := c.queryChat(3 * time.Minute)
	c.updateConversation(4*time.Minute, 101, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	// After the close, the next message opens a new conversation.
	c.inbound(5*time.Minute, "m7")
	c.updateConversation(6*time.Minute, 102, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	c.run()

	for _, id := range []string{"m1", "m2", "m3", "m4", "m5"} {
		require.Equal(t, int64(101), c.linkedTo(id), id)
	}
	require.Equal(t, int64(101), c.linkedTo("m6"), "later messages go to the open conversation")
	require.Equal(t, int64(102), c.linkedTo("m7"))
	require.Equal(t, []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7"}, c.acts.linkOrder())
	require.Equal(t, 1, c.acts.routedSeqCalls, "the chat asks the read model once, when it starts")

	require.Len(t, c.acts.creates, 2, "one conversation per opening")
	require.Equal(t, testChatID+"/message:m1", c.acts.creates[0].OpeningKey)
	require.Equal(t, workflows.StatusQueued, c.acts.creates[0].Status)
	require.Equal(t, testChatID+"/message:m7", c.acts.creates[1].OpeningKey)

	children := c.startedConversations()
	require.Len(t, children, 2)
	require.Equal(t, int64(101), children[0].Number)
	require.Equal(t, workflows.KindRequest, children[0].Kind)
	require.Equal(t, "m1", children[0].FirstMessage.MessageID)
	require.Equal(t, autoOpenLine(), children[0].Line)
	require.Equal(t, int64(contactID), children[0].ContactID)
	require.Equal(t, int64(102), children[1].Number)
	require.Equal(t, "m7", children[1].FirstMessage.MessageID)

	// m1 opened it and started the client's turn; m2..m6 belong to the same turn, so the chat only
	// linked them (the read model counts them) rather than forwarding them, and published the turn.
	require.Equal(t, workflows.StatusQueued, open.Status)
	require.True(t, open.ClientWaiting)
	require.True(t, c.start.Add(time.Minute).Equal(open.LastActivity), "only m1 reached the conversation")
	require.Len(t, chatState.Conversations, 1)
	require.Equal(t, int64(101), chatState.Conversations[0].Number)
	require.True(t, chatState.Conversations[0].ClientTurn)
	for _, id := range []string{"m2", "m3", "m4", "m5", "m6"} {
		require.Equal(t, int64(101), c.linkedTo(id))
	}
	require.Equal(t, int64(101), chatState.Turn, "the open turn is published for the ingest's fast path")
	require.Equal(t, int64(7), chatState.NextSeq)
	require.Empty(t, chatState.Early)

	// The chat ended chatIdle after its last conversation closed.
	require.True(t, c.start.Add(6*time.Minute+30*24*time.Hour).Equal(c.env.Now()), "ended at %s", c.env.Now())
}

func TestChatDuplicateMessageInFlight(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	// The same batch twice in one workflow task: the first is still opening the conversation when
	// the second arrives.
	b := workflows.InboundBatch{Messages: []workflows.InboundMessage{c.message("m1", 1, time.Minute)}}
	c.deliver(time.Minute, b, b)
	open := c.queryConversation(2*time.Minute, 101)
	c.updateConversation(3*time.Minute, 101, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	c.run()

	require.Equal(t, int64(101), c.linkedTo("m1"), "a retry that arrives while the first delivery opens the conversation is not applied twice")
	batches := 0
	for _, l := range c.acts.links {
		if len(l.Links) > 0 {
			batches++
		}
	}
	require.Equal(t, 1, batches, "one batch applied (the close only unpublished the turn)")
	require.Len(t, c.acts.creates, 1)
	require.Len(t, c.startedConversations(), 1)
	require.True(t, open.ClientWaiting)
}

func TestChatWithoutAutoOpen(t *testing.T) {
	line := autoOpenLine()
	line.AutoOpen = false
	c := newChatTest(t, line)
	first := c.inbound(time.Minute, "m1")
	c.deliver(2*time.Minute, first)
	c.run()

	require.Zero(t, c.linkedTo("m1"), "the message stays in the chat")
	require.Equal(t, []workflows.LinkInboundInput{{ChatID: testChatID, Seq: 1, Links: []workflows.InboundLink{{MessageID: "m1"}}}}, c.acts.links)
	require.Empty(t, c.acts.creates)
	require.Empty(t, c.startedConversations())
	require.True(t, c.start.Add(2*time.Minute+30*24*time.Hour).Equal(c.env.Now()), "ended at %s", c.env.Now())
}

func TestChatAutomatedMessages(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	s := time.Second
	m := time.Minute
	before := c.automated(1*m, workflows.AutomatedTunnel, "a0") // nothing open
	c.inbound(2*m, "m1")                                        // opens #101, queued
	whileQueued := c.automated(3*m, workflows.AutomatedAI, "a1")
	c.updateConversation(4*m, 101, workflows.UpdateTake, take(opAnna))
	// Active: funnels and broadcasts wait, AI answers are dropped.
	held := []*outcome{
		c.automated(5*m, workflows.AutomatedTunnel, "a2"),
		c.automated(5*m+10*s, workflows.AutomatedBroadcast, "a3"),
		c.automated(5*m+30*s, workflows.AutomatedTunnel, "a5"),
	}
	dropped := c.automated(5*m+20*s, workflows.AutomatedAI, "a4")
	writeActive := c.update(6*m, workflows.UpdateChatWrite, workflows.ChatWriteRequest{ActionRequest: act(opAnna), MessageID: "w0", Text: "hi"})
	dialogActive := c.update(6*m+s, workflows.UpdateOpenDialog, workflows.OpenDialogRequest{ActionRequest: act(opAnna)})
	queue := c.queryChat(6*m + 30*s)
	deliveredWhileActive := make(chan []string, 1)
	c.at(6*m+40*s, func() { deliveredWhileActive <- c.acts.deliveredIDs() })
	// Paused: the held messages go out in order; writing in the chat is allowed again.
	c.updateConversation(7*m, 101, workflows.UpdatePause, act(opAnna))
	writePaused := c.update(8*m+s, workflows.UpdateChatWrite, workflows.ChatWriteRequest{ActionRequest: act(opAnna), MessageID: "w1", Text: "hi"})
	// Active again, then closed: what waited goes out at the close.
	c.updateConversation(9*m, 101, workflows.UpdateResume, act(opAnna))
	heldAgain := c.automated(9*m+10*s, workflows.AutomatedBroadcast, "a6")
	c.updateConversation(10*m, 101, workflows.UpdateClose, closeBy(opAnna))
	after := c.automated(11*m, workflows.AutomatedAI, "a7")
	c.run()

	require.Equal(t, workflows.OutcomeSent, automatedOutcome(t, before))
	require.Equal(t, workflows.OutcomeSent, automatedOutcome(t, whileQueued), "only an active conversation holds messages back")
	for _, o := range held {
		require.Equal(t, workflows.OutcomeQueued, automatedOutcome(t, o), o.name)
	}
	require.Equal(t, workflows.OutcomeDropped, automatedOutcome(t, dropped))
	require.Equal(t, workflows.OutcomeQueued, automatedOutcome(t, heldAgain))
	require.Equal(t, workflows.OutcomeSent, automatedOutcome(t, after))

	requireRefused(t, writeActive, workflows.CodeActiveDialogExists)
	requireRefused(t, dialogActive, workflows.CodeActiveDialogExists)
	requireDone(t, writePaused)
	require.Equal(t, workflows.ChatWriteResult{MessageID: "w1"}, writePaused.result)

	require.Equal(t, []string{"a2", "a3", "a5"}, queue.Queue)
	require.Equal(t, []string{"a0", "a1"}, <-deliveredWhileActive, "nothing held goes out while active")
	require.Equal(t, []string{"a0", "a1", "a2", "a3", "a5", "w1", "a6", "a7"}, c.acts.deliveredIDs())

	status := map[string]string{}
	for _, msg := range c.acts.messages {
		status[msg.ID] = msg.Status
	}
	require.Equal(t, map[string]string{
		"a0": workflows.MessagePending, "a1": workflows.MessagePending, "a2": workflows.MessageQueued,
		"a3": workflows.MessageQueued, "a4": workflows.MessageDropped, "a5": workflows.MessageQueued,
		"w1": workflows.MessagePending, "a6": workflows.MessageQueued, "a7": workflows.MessagePending,
	}, status)
}

func TestChatOpenDialogFollowUpAndCSAT(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	dialog := c.update(time.Minute, workflows.UpdateOpenDialog, workflows.OpenDialogRequest{
		ActionRequest: act(opAnna), Title: "Order 5", Participants: []int64{opBoris},
	})
	chatState := c.queryChat(2 * time.Minute)
	// Closing with open_ticket opens a follow-up for the same operator.
	c.updateConversation(3*time.Minute, 101, workflows.UpdateClose, workflows.CloseRequest{
		ActionRequest: act(opAnna), SendCSAT: true, OpenTicket: true,
	})
	// The client presses a CSAT button.
	c.seq++
	c.deliver(4*time.Minute, workflows.InboundBatch{Messages: []workflows.InboundMessage{{
		MessageID: "m-csat", Seq: c.seq, At: c.start.Add(4 * time.Minute), Button: workflows.CSATPayload(101, workflows.CSATExcellent),
	}}})
	followUp := c.queryConversation(5*time.Minute, 102)
	c.updateConversation(6*time.Minute, 102, workflows.UpdateClose, closeBy(opAnna))
	c.run()

	requireDone(t, dialog)
	require.Equal(t, workflows.OpenDialogResult{Number: 101}, dialog.result)
	require.Equal(t, []workflows.OpenConversation{{Number: 101, Status: workflows.StatusActive}}, chatState.Conversations)
	require.Zero(t, c.linkedTo("m-csat"), "an answer is a rating, not a message of the follow-up: it stays in the chat")

	first := c.acts.projected(t, 101)
	require.Equal(t, workflows.StatusClosed, first.Status)
	require.Equal(t, workflows.CSATExcellent, first.CSAT)
	require.Equal(t, workflows.KindDialog, first.Kind)
	require.Equal(t, "Order 5", first.Title)
	require.Equal(t, []int64{opAnna, opBoris}, first.Participants)

	require.Equal(t, workflows.StatusActive, followUp.Status)
	require.Equal(t, int64(opAnna), followUp.AssigneeID)
	require.Equal(t, workflows.KindRequest, followUp.Kind)
	require.False(t, followUp.ClientWaiting, "the rating did not reach the follow-up")

	require.Len(t, c.acts.creates, 2)
	require.Regexp(t, "^"+testChatID+"/dialog:", c.acts.creates[0].OpeningKey)
	require.Equal(t, workflows.CreateConversationInput{
		OpeningKey: testChatID + "/follow-up:101", ChatID: testChatID, LineID: 1, Kind: workflows.KindRequest,
		Status: workflows.StatusActive, AssigneeID: opAnna, Type: "question", OpenedAt: c.acts.creates[1].OpenedAt,
	}, c.acts.creates[1])
	children := c.startedConversations()
	require.Len(t, children, 2)
	require.Equal(t, int64(opAnna), children[0].OpenedBy)
	require.Equal(t, []int64{opBoris}, children[0].Participants)
	require.Equal(t, int64(opAnna), children[1].OpenedBy)
	require.Nil(t, children[1].FirstMessage)
	require.Equal(t, []int64{opBoris}, c.acts.participants[0].UserIDs)
}

func TestChatAutomatedMessagesArrivingTogetherKeepTheirOrder(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	dialog := c.update(time.Minute, workflows.UpdateOpenDialog, workflows.OpenDialogRequest{ActionRequest: act(opAnna)})
	// A funnel fires eight steps at once; their recordings finish in any order.
	var want []string
	outs := map[string]*outcome{}
	c.at(2*time.Minute, func() {
		for i := range 8 {
			id := fmt.Sprintf("step-%d", i)
			want = append(want, id)
			outs[id] = &outcome{name: id}
			c.env.UpdateWorkflow(workflows.UpdateAutomated, "", outs[id].callbacks(),
				workflows.AutomatedRequest{MessageID: id, Kind: workflows.AutomatedTunnel, Text: "step"})
		}
	})
	queue := c.queryChat(3 * time.Minute)
	c.updateConversation(4*time.Minute, 101, workflows.UpdateClose, closeBy(opAnna))
	// After the close they are sent at once, again in order.
	var sent []string
	c.at(5*time.Minute, func() {
		for i := range 8 {
			id := fmt.Sprintf("later-%d", i)
			sent = append(sent, id)
			outs[id] = &outcome{name: id}
			c.env.UpdateWorkflow(workflows.UpdateAutomated, "", outs[id].callbacks(),
				workflows.AutomatedRequest{MessageID: id, Kind: workflows.AutomatedBroadcast, Text: "news"})
		}
	})
	c.run()

	requireDone(t, dialog)
	for _, id := range want {
		require.Equal(t, workflows.OutcomeQueued, automatedOutcome(t, outs[id]), id)
	}
	for _, id := range sent {
		require.Equal(t, workflows.OutcomeSent, automatedOutcome(t, outs[id]), id)
	}
	require.Equal(t, want, queue.Queue)
	require.Equal(t, append(want, sent...), c.acts.deliveredIDs())
}

func TestChatContinuesAsNewWithItsState(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	// The open conversation outlives this run of the chat.
	c.env.SetDetachedChildWait(false)
	c.update(time.Minute, workflows.UpdateOpenDialog, workflows.OpenDialogRequest{ActionRequest: act(opAnna)})
	c.automated(2*time.Minute, workflows.AutomatedTunnel, "a1")
	c.inbound(3*time.Minute, "m1")
	c.inbound(3*time.Minute+30*time.Second, "m2")
	// m4 came ahead of m3: it waits, and goes with the state.
	c.deliver(3*time.Minute+40*time.Second, workflows.InboundBatch{Messages: []workflows.InboundMessage{c.message("m4", 4, 3*time.Minute+40*time.Second)}})
	c.at(4*time.Minute, func() { c.env.SetContinueAsNewSuggested(true) })
	c.env.ExecuteWorkflow(workflows.ChatWorkflow, workflows.ChatInput{ChatID: testChatID, ChannelID: 3, LineID: 1, ContactID: contactID})

	require.True(t, c.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, c.env.GetWorkflowError(), &can)
	require.True(t, c.start.Add(4*time.Minute).Equal(c.env.Now()), "continued at %s", c.env.Now())
	require.Equal(t, int64(101), c.linkedTo("m2"))
	require.Empty(t, c.acts.linked("m4"), "m4 waits for m3")
	var next workflows.ChatInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.State)
	// m2 came within the turn m1 started: linked, not forwarded; the turn goes with the state.
	require.Len(t, next.State.Conversations, 1)
	require.True(t, next.State.Conversations[0].ClientTurn)
	require.Len(t, next.State.Early, 1)
	require.Equal(t, "m4", next.State.Early[0].MessageID)
	require.True(t, c.start.Add(3*time.Minute+40*time.Second).Equal(next.State.LastActivity), "last activity %s", next.State.LastActivity)
	next.State.Early, next.State.LastActivity = nil, time.Time{}
	require.Equal(t, workflows.ChatInput{ChatID: testChatID, ChannelID: 3, LineID: 1, ContactID: contactID, State: &workflows.ChatState{
		Conversations: []workflows.OpenConversation{{Number: 101, Status: workflows.StatusActive, ClientTurn: true}},
		Queue:         []string{"a1"},
		Opened:        []int64{101},
		NextSeq:       3,
		Turn:          101,
	}}, next)
}

// TestChatClientWritesToAPausedConversation: with nothing queued or active, a client message goes
// to the paused conversation: it resumes it, or (line setting) stays in the chat.
func TestChatClientWritesToAPausedConversation(t *testing.T) {
	tests := []struct {
		setting string
		// answered: the operator replied before pausing, so the client's message starts a new turn.
		answered   bool
		wantNumber int64
		wantStatus string
	}{
		{workflows.PausedResume, true, 101, workflows.StatusActive},
		{workflows.PausedResume, false, 101, workflows.StatusActive},
		{"", false, 101, workflows.StatusActive},
		{workflows.PausedStay, true, 0, workflows.StatusPaused},
		{workflows.PausedStay, false, 0, workflows.StatusPaused},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q answered=%v", tt.setting, tt.answered), func(t *testing.T) {
			line := autoOpenLine()
			line.PausedClientMessage = tt.setting
			c := newChatTest(t, line)
			c.inbound(time.Minute, "m1")
			c.updateConversation(2*time.Minute, 101, workflows.UpdateTake, take(opAnna))
			if tt.answered {
				c.updateConversation(2*time.Minute+30*time.Second, 101, workflows.UpdateReply, reply(opAnna, "out-1", "Hello"))
			}
			c.updateConversation(3*time.Minute, 101, workflows.UpdatePause, act(opAnna))
			c.inbound(4*time.Minute, "m2")
			conv := c.queryConversation(5*time.Minute, 101)
			chatState := c.queryChat(5 * time.Minute)
			c.updateConversation(6*time.Minute, 101, workflows.UpdateClose, closeBy(opAnna))
			c.run()

			require.Equal(t, tt.wantNumber, c.linkedTo("m2"))
			require.Equal(t, tt.wantStatus, conv.Status, "the conversation")
			require.Len(t, chatState.Conversations, 1)
			require.Equal(t, tt.wantStatus, chatState.Conversations[0].Status, "the chat follows the conversation")
			if tt.wantNumber != 0 {
				require.True(t, conv.ClientWaiting)
			}
		})
	}
}

func TestChatRoutesLateMessagesAnew(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	c.inbound(time.Minute, "m1")
	second := c.inbound(90*time.Second, "m2") // kept in #101's client turn
	c.updateConversation(2*time.Minute, 101, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	// #101 hands back a message that reached it after it closed.
	c.at(3*time.Minute, func() {
		c.env.SignalWorkflow(workflows.SignalConversationChanged, workflows.ConversationChanged{
			Number: 101, Status: workflows.StatusClosed,
			LateMessages: []workflows.ClientMessage{{MessageID: "m2", At: c.start.Add(90 * time.Second)}},
		})
	})
	c.deliver(4*time.Minute, second) // redelivered: applied already
	c.updateConversation(5*time.Minute, 102, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	c.run()

	children := c.startedConversations()
	require.Len(t, children, 2)
	require.Equal(t, "m2", children[1].FirstMessage.MessageID, "the late message opened a new conversation")
	require.Equal(t, []workflows.InboundLink{
		{MessageID: "m2", Conversation: 101},
		{MessageID: "m2", Conversation: 102, Moved: true},
	}, c.acts.linked("m2"), "and the read model moves it there; the redelivery changes nothing")
}

func TestChatTakesCSATAnswersOnlyForItsOwnConversations(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	c.inbound(time.Minute, "m1")
	// A payload naming another chat's conversation is an ordinary client message here.
	c.deliver(2*time.Minute, workflows.InboundBatch{Messages: []workflows.InboundMessage{{
		MessageID: "m-forged", Seq: 2, At: c.start.Add(2 * time.Minute), Button: workflows.CSATPayload(5555, workflows.CSATBad)}}})
	open := c.queryConversation(3*time.Minute, 101)
	c.updateConversation(4*time.Minute, 101, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	c.run()

	require.Equal(t, int64(101), c.linkedTo("m-forged"), "the press is a message of the client's current turn, not a rating")
	require.True(t, open.ClientWaiting)
	require.Zero(t, open.CSAT)
}

// TestChatForwardsAMessageThatCrossedTheReply: a message kept during a client turn that arrived
// after the operator's answer starts the next turn once the chat learns of the answer.
func TestChatForwardsAMessageThatCrossedTheReply(t *testing.T) {
	c := newChatTest(t, autoOpenLine())
	c.inbound(time.Minute, "m1")   // opens 101, the turn starts
	c.inbound(2*time.Minute, "m2") // same turn: kept
	c.inbound(4*time.Minute, "m3") // arrives after the answer below, before the chat hears of it
	before := c.queryConversation(4*time.Minute+time.Second, 101)
	c.at(5*time.Minute, func() {
		answered := c.start.Add(3 * time.Minute)
		c.env.SignalWorkflow(workflows.SignalConversationChanged, workflows.ConversationChanged{
			Number: 101, Status: workflows.StatusQueued, RepliedAt: &answered})
	})
	after := c.queryConversation(6*time.Minute, 101)
	chatState := c.queryChat(6 * time.Minute)
	c.updateConversation(7*time.Minute, 101, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	c.run()

	require.True(t, c.start.Add(time.Minute).Equal(before.LastActivity), "m2 and m3 were kept while the turn was open")
	require.False(t, after.LastActivity.Before(c.start.Add(4*time.Minute)),
		"m3 reached the conversation (m2 came before the answer and did not): last activity %s", after.LastActivity)
	require.Len(t, chatState.Conversations, 1)
	require.True(t, chatState.Conversations[0].ClientTurn)
	require.Len(t, c.acts.endTurns, 1, "the answer ended the turn in the read model")
	for _, id := range []string{"m1", "m2", "m3"} {
		require.Equal(t, int64(101), c.linkedTo(id), id)
	}
}
