package workflows

import (
	"errors"
	"slices"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// chatIdle is how long a chat with nothing open or pending waits before its workflow ends; the
// next message starts it again.
const chatIdle = 30 * 24 * time.Hour

// openedLimit bounds the conversation numbers a chat remembers for CSAT answers.
const openedLimit = 50

// ChatInput starts a ChatWorkflow.
type ChatInput struct {
	ChatID    string     `json:"chat_id"`
	ChannelID int64      `json:"channel_id"`
	LineID    int64      `json:"line_id"`
	ContactID int64      `json:"contact_id"`
	State     *ChatState `json:"state,omitempty"`
}

// ChatState is the chat's live state, carried over by continue-as-new.
type ChatState struct {
	// Conversations are the chat's open conversations: at most one queued or active (the
	// current one, seed 003), and any number of paused dialogs, the most recently paused last.
	Conversations []OpenConversation `json:"conversations"`
	// Queue holds automated messages held back while a conversation is active, in order.
	Queue []string `json:"queue"`
	// Outbox holds outbound messages not yet delivered, in order (continue-as-new carries them;
	// delivery is idempotent by message id, so the first may already be on its way).
	Outbox []string `json:"outbox,omitempty"`
	// Opened lists the chat's latest conversations, so a CSAT answer is taken only for one of them.
	Opened []int64 `json:"opened,omitempty"`
	// NextSeq is the sequence number of the next inbound message to apply (0: not read yet from
	// the read model). Every inbound message is applied once, in sequence order.
	NextSeq int64 `json:"next_seq,omitempty"`
	// Early holds inbound messages that arrived ahead of NextSeq, in sequence order.
	Early []InboundMessage `json:"early,omitempty"`
	// LastActivity is when something last happened in the chat (for the idle timer).
	LastActivity time.Time `json:"last_activity"`
	// Turn is the client turn last published to the read model (see LinkInboundInput.Turn).
	Turn int64 `json:"turn,omitempty"`
}

// OpenConversation is what the chat knows of one of its open conversations.
type OpenConversation struct {
	Number int64  `json:"number"`
	Status string `json:"status"`
	// PausedStay: client messages to it while paused stay in the chat (line setting).
	PausedStay bool `json:"paused_stay,omitempty"`
	// ClientTurn: a client message was forwarded and no operator has answered yet; further
	// client messages change nothing in the conversation: they are only linked to it, by the
	// chat or, once the turn is published, by the ingest itself.
	ClientTurn bool `json:"client_turn,omitempty"`
}

// InboundBatch hands stored inbound messages of one chat to its workflow (SignalInbound), in
// sequence order. A batch may be delivered more than once and batches may cross: the chat applies
// each sequence number once, in order.
//
// Inbound messages arrive as signals, not updates: the inbound hand-off answers the sender once
// the message is durable in PostgreSQL, so nobody waits for the workflow's answer, and a signal
// is admitted as soon as it is in the history. Measured on the dev server (ARCHITECTURE §4), one
// Update-with-Start per message held ingest to ~150 msg/s with occasional 10–20 s stalls, and an
// update is capped at 10 in flight and 2,000 per run; signals run at 350–540/s, and batching
// several messages of a chat into one signal divides their number further.
type InboundBatch struct {
	Messages []InboundMessage `json:"messages"`
}

// InboundMessage is one stored client message; its text is in the read model.
type InboundMessage struct {
	MessageID string    `json:"message_id"`
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	// Button is the payload of a pressed button, if the message is a button press.
	Button string `json:"button,omitempty"`
}

// AutomatedRequest is a message from a funnel, a broadcast or an AI.
type AutomatedRequest struct {
	MessageID string `json:"message_id"`
	Kind      string `json:"kind"`
	Text      string `json:"text"`
}

// AutomatedResult says whether it went out, waits in the queue, or was dropped.
type AutomatedResult struct {
	Outcome   string `json:"outcome"`
	MessageID string `json:"message_id"`
}

// OpenDialogRequest: an operator opens a dialog in the chat (seed 003).
type OpenDialogRequest struct {
	ActionRequest
	Title        string  `json:"title,omitempty"`
	Participants []int64 `json:"participants,omitempty"`
}

// OpenDialogResult names the new conversation.
type OpenDialogResult struct {
	Number int64 `json:"number"`
}

// ChatWriteRequest: an operator writes in the chat outside any conversation.
type ChatWriteRequest struct {
	ActionRequest
	MessageID   string       `json:"message_id"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// ChatWriteResult names the stored message.
type ChatWriteResult struct {
	MessageID string `json:"message_id"`
}

// ChatWorkflow is one chat's entity: every inbound message reaches it through the inbound
// hand-off, it opens conversations (at most one queued or active; paused dialogs may wait
// beside it), forwards client events to them and owns the automated-message queue.
func ChatWorkflow(ctx workflow.Context, in ChatInput) error {
	ch := &chat{in: in}
	if in.State != nil {
		ch.st = *in.State
		ch.out.ids, ch.st.Outbox = ch.st.Outbox, nil
	}
	if ch.st.Queue == nil {
		ch.st.Queue = []string{}
	}
	if ch.st.Conversations == nil {
		ch.st.Conversations = []OpenConversation{}
	}
	if ch.st.LastActivity.IsZero() {
		ch.st.LastActivity = workflow.Now(ctx)
	}
	if err := ch.setup(ctx); err != nil {
		return err
	}
	return ch.run(ctx)
}

type chat struct {
	in ChatInput
	st ChatState
	// mu serialises everything that changes the chat's state: a handler that awaits (a local
	// activity, a child start) never interleaves with another, so each judges the state the
	// previous one left.
	mu fifoLock
	// busy counts handlers holding or waiting for mu.
	busy int
	// updates counts the updates this run accepted (see maxUpdatesPerRun).
	updates int
	out     outbox
	// signalling counts signals to conversations not yet delivered.
	signalling int
}

func (ch *chat) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ChatState, error) { return ch.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAutomated,
		func(ctx workflow.Context, r AutomatedRequest) (res AutomatedResult, err error) {
			ch.updates++
			err = ch.locked(ctx, func(ctx workflow.Context) error { res, err = ch.automated(ctx, r); return err })
			return res, err
		}, workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, r AutomatedRequest) error { return asTemporal(checkAutomated(r)) },
		}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateOpenDialog,
		func(ctx workflow.Context, r OpenDialogRequest) (res OpenDialogResult, err error) {
			ch.updates++
			err = ch.locked(ctx, func(ctx workflow.Context) error { res, err = ch.openDialog(ctx, r); return err })
			return res, err
		}, workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, r OpenDialogRequest) error { return asTemporal(ch.checkNoCurrent()) },
		}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateChatWrite,
		func(ctx workflow.Context, r ChatWriteRequest) (res ChatWriteResult, err error) {
			ch.updates++
			err = ch.locked(ctx, func(ctx workflow.Context) error { res, err = ch.write(ctx, r); return err })
			return res, err
		}, workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, r ChatWriteRequest) error { return asTemporal(ch.checkWrite(r)) },
		}); err != nil {
		return err
	}
	receive(ctx, SignalInbound, &ch.busy, func(ctx workflow.Context, b InboundBatch) {
		_ = ch.locked(ctx, func(ctx workflow.Context) error { return ch.onInbound(ctx, b) })
	})
	receive(ctx, SignalConversationChanged, &ch.busy, func(ctx workflow.Context, m ConversationChanged) {
		_ = ch.locked(ctx, func(ctx workflow.Context) error { ch.onConversationChanged(ctx, m); return nil })
	})
	workflow.Go(ctx, ch.out.run)
	return nil
}

// receive handles every signal of a name in order, in its own coroutine. busy counts a signal
// from the moment it is taken off the channel until its handler returns.
func receive[T any](ctx workflow.Context, name string, busy *int, handle func(workflow.Context, T)) {
	sig := workflow.GetSignalChannel(ctx, name)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var v T
			sig.Receive(ctx, &v)
			*busy++
			handle(ctx, v)
			*busy--
		}
	})
}

// locked runs fn holding the chat's mutex.
func (ch *chat) locked(ctx workflow.Context, fn func(workflow.Context) error) error {
	ch.busy++
	defer func() { ch.busy-- }()
	if err := ch.mu.lock(ctx); err != nil {
		return err
	}
	defer ch.mu.unlock()
	ch.st.LastActivity = workflow.Now(ctx)
	return fn(ctx)
}

func (ch *chat) run(ctx workflow.Context) error {
	var idle deadlineTimer
	for {
		if ctx.Err() != nil {
			idle.stop()
			return temporal.NewCanceledError()
		}
		idle.follow(ctx, ch.st.LastActivity.Add(chatIdle), true)
		if err := workflow.Await(ctx, func() bool { return idle.fired() || ch.tooLong(ctx) }); err != nil {
			return err
		}
		if ch.tooLong(ctx) {
			idle.stop()
			return ch.continueAsNew(ctx)
		}
		idle.done()
		if workflow.Now(ctx).Before(ch.st.LastActivity.Add(chatIdle)) {
			continue // activity since the timer was armed: wait for the rest
		}
		if len(ch.st.Conversations) == 0 && len(ch.st.Queue) == 0 && len(ch.st.Early) == 0 && ch.out.idle() && ch.quiet(ctx) {
			return nil // idle: the next message starts the chat again
		}
		ch.st.LastActivity = workflow.Now(ctx)
	}
}

// quiet tells whether no handler runs or waits, no signal waits to be handled and every signal
// the chat sent has reached its conversation.
func (ch *chat) quiet(ctx workflow.Context) bool {
	return ch.busy == 0 && ch.signalling == 0 && workflow.AllHandlersFinished(ctx) &&
		workflow.GetSignalChannel(ctx, SignalInbound).Len() == 0 &&
		workflow.GetSignalChannel(ctx, SignalConversationChanged).Len() == 0
}

// tooLong tells when this run should continue as new: its history is long, or it accepted
// enough updates to near the server's cap.
func (ch *chat) tooLong(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() || ch.updates >= maxUpdatesPerRun
}

// continueAsNew starts the next run once no handler is halfway through a change; the queue and
// the messages still to deliver go with the state, so it never waits for a slow channel.
func (ch *chat) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return ch.quiet(ctx) }); err != nil {
		return err
	}
	next := ch.in
	st := ch.st
	st.Outbox = slices.Clone(ch.out.ids)
	next.State = &st
	return workflow.NewContinueAsNewError(ctx, ChatWorkflow, next)
}

// current is the chat's queued or active conversation, if any.
func (ch *chat) current() *OpenConversation {
	for i := range ch.st.Conversations {
		if ch.st.Conversations[i].Status != StatusPaused {
			return &ch.st.Conversations[i]
		}
	}
	return nil
}

// latestPaused is the most recently paused dialog, if any.
func (ch *chat) latestPaused() *OpenConversation {
	for i := len(ch.st.Conversations) - 1; i >= 0; i-- {
		if ch.st.Conversations[i].Status == StatusPaused {
			return &ch.st.Conversations[i]
		}
	}
	return nil
}

func (ch *chat) find(number int64) int {
	return slices.IndexFunc(ch.st.Conversations, func(c OpenConversation) bool { return c.Number == number })
}

// onInbound applies a batch of inbound messages in sequence order, each once, and records in the
// read model where they went.
func (ch *chat) onInbound(ctx workflow.Context, b InboundBatch) error {
	if ch.st.NextSeq == 0 {
		var routed RoutedSeqResult
		if err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, linkOptions), ActivityRoutedSeq,
			RoutedSeqInput{ChatID: ch.in.ChatID}).Get(ctx, &routed); err != nil {
			return err
		}
		ch.st.NextSeq = routed.Seq + 1
	}
	for _, m := range b.Messages {
		if m.Seq < ch.st.NextSeq || slices.ContainsFunc(ch.st.Early, func(e InboundMessage) bool { return e.Seq == m.Seq }) {
			continue // applied already, or already waiting
		}
		i, _ := slices.BinarySearchFunc(ch.st.Early, m.Seq, func(e InboundMessage, seq int64) int { return int(e.Seq - seq) })
		ch.st.Early = slices.Insert(ch.st.Early, i, m)
	}
	var links []InboundLink
	applied := false
	for len(ch.st.Early) > 0 && ch.st.Early[0].Seq == ch.st.NextSeq {
		m := ch.st.Early[0]
		ch.st.Early = ch.st.Early[1:]
		ch.st.NextSeq++
		applied = true
		links = append(links, InboundLink{MessageID: m.MessageID, Conversation: ch.routeInbound(ctx, m)})
	}
	if len(ch.st.Early) == 0 {
		ch.st.Early = nil
	}
	if !applied {
		return nil
	}
	return ch.link(ctx, links)
}

// link records the routing of the messages applied so far and publishes the open client turn.
func (ch *chat) link(ctx workflow.Context, links []InboundLink) error {
	turn := ch.turn()
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, linkOptions), ActivityLinkInbound,
		LinkInboundInput{ChatID: ch.in.ChatID, Seq: ch.st.NextSeq - 1, Turn: turn, Links: links}).Get(ctx, nil)
	if err == nil {
		ch.st.Turn = turn
	}
	return err
}

// turn is the conversation whose client turn is open: the current conversation, once a client
// message was forwarded to it and until an operator answers (0: none).
func (ch *chat) turn() int64 {
	if cur := ch.current(); cur != nil && cur.ClientTurn {
		return cur.Number
	}
	return 0
}

// routeInbound decides where one client message goes and returns its conversation (0: the chat).
func (ch *chat) routeInbound(ctx workflow.Context, m InboundMessage) int64 {
	// A CSAT answer counts only for a conversation of this chat; any other button press is a
	// client message like any other. The answer is recorded on the conversation, not counted as
	// an unread message, so the message itself stays in the chat.
	if number, score, ok := ParseCSATPayload(m.Button); ok && slices.Contains(ch.st.Opened, number) {
		ch.signalConversation(ctx, number, SignalCSATAnswer, CSATAnswer{Score: score, MessageID: m.MessageID, At: m.At})
		return 0
	}
	n, err := ch.route(ctx, ClientMessage{MessageID: m.MessageID, At: m.At})
	if err != nil {
		// The message is stored and shown in the chat; only opening a conversation for it failed.
		workflow.GetLogger(ctx).Error("client message not routed to a conversation", "message_id", m.MessageID, "error", err)
		return 0
	}
	return n
}

// route hands a client message to the current conversation, resumes the latest paused dialog
// (per line setting), or opens a conversation when the line auto-opens.
func (ch *chat) route(ctx workflow.Context, m ClientMessage) (int64, error) {
	if cur := ch.current(); cur != nil {
		ch.forward(ctx, cur, m)
		return cur.Number, nil
	}
	if p := ch.latestPaused(); p != nil {
		if p.PausedStay {
			return 0, nil
		}
		// The conversation resumes itself when the message reaches it, so this one is forwarded
		// even within a client turn.
		p.Status, p.ClientTurn = StatusActive, false
		ch.forward(ctx, p, m)
		return p.Number, nil
	}
	line, err := ch.loadLine(ctx)
	if err != nil {
		return 0, err
	}
	if !line.AutoOpen {
		return 0, nil
	}
	return ch.open(ctx, line, openSpec{kind: KindRequest, first: &m, key: "message:" + m.MessageID})
}

// forward tells a conversation its client wrote, once per client turn: within a turn a message
// changes nothing the conversation keeps (the read model counts it as unread and as activity).
func (ch *chat) forward(ctx workflow.Context, c *OpenConversation, m ClientMessage) {
	if c.ClientTurn {
		return
	}
	c.ClientTurn = true
	ch.signalConversation(ctx, c.Number, SignalClientMessage, m)
}

type openSpec struct {
	kind         string
	key          string
	first        *ClientMessage
	openedBy     int64
	title        string
	participants []int64
}

// open creates the conversation row and starts its workflow. The caller holds the mutex.
func (ch *chat) open(ctx workflow.Context, line LineConfig, spec openSpec) (int64, error) {
	now := workflow.Now(ctx)
	status := StatusQueued
	if spec.openedBy != 0 {
		status = StatusActive
	}
	create := CreateConversationInput{OpeningKey: ch.in.ChatID + "/" + spec.key, ChatID: ch.in.ChatID, LineID: line.ID,
		Kind: spec.kind, Status: status, AssigneeID: spec.openedBy, Title: spec.title, Type: line.DefaultType, OpenedAt: now}
	var res CreateConversationResult
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions)
	if err := workflow.ExecuteLocalActivity(lctx, ActivityCreateConversation, create).Get(ctx, &res); err != nil {
		return 0, err
	}
	in := ConversationInput{Number: res.Number, ChatID: ch.in.ChatID, ChannelID: res.ChannelID, ContactID: res.ContactID,
		Kind: spec.kind, Line: line, OpenedAt: now, OpenedBy: spec.openedBy, Title: spec.title,
		Participants: spec.participants, FirstMessage: spec.first, NoOutbound: res.NoOutbound}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            ConversationWorkflowID(res.Number),
		TaskQueue:             TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	})
	err := workflow.ExecuteChildWorkflow(cctx, ConversationWorkflow, in).GetChildWorkflowExecution().Get(ctx, nil)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return 0, err
	}
	ch.st.Conversations = append(ch.st.Conversations, OpenConversation{Number: res.Number, Status: status,
		PausedStay: line.PausedClientMessage == PausedStay, ClientTurn: spec.first != nil})
	ch.st.Opened = append(ch.st.Opened, res.Number)
	if len(ch.st.Opened) > openedLimit {
		ch.st.Opened = ch.st.Opened[len(ch.st.Opened)-openedLimit:]
	}
	return res.Number, nil
}

func (ch *chat) loadLine(ctx workflow.Context) (LineConfig, error) {
	var line LineConfig
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions)
	err := workflow.ExecuteLocalActivity(lctx, ActivityLoadLine, LoadLineInput{LineID: ch.in.LineID}).Get(ctx, &line)
	return line, err
}

// checkNoCurrent refuses a new dialog while a conversation is queued or active (seed 003: to
// open another dialog, pause or close the active one); paused dialogs do not count.
func (ch *chat) checkNoCurrent() error {
	if cur := ch.current(); cur != nil {
		return &RuleError{Code: CodeActiveDialogExists, HolderID: cur.Number,
			Message: "the chat already has an active conversation #" + itoa(cur.Number) + " (" + cur.Status + "): pause or close it first"}
	}
	return nil
}

func (ch *chat) openDialog(ctx workflow.Context, r OpenDialogRequest) (OpenDialogResult, error) {
	// The validator judged the state when the update arrived; a handler before this one may
	// have changed it.
	if err := ch.checkNoCurrent(); err != nil {
		return OpenDialogResult{}, asTemporal(err)
	}
	line, err := ch.loadLine(ctx)
	if err != nil {
		return OpenDialogResult{}, err
	}
	key := "dialog:" + workflow.GetCurrentUpdateInfo(ctx).ID
	n, err := ch.open(ctx, line, openSpec{kind: KindDialog, key: key, openedBy: r.ActorID, title: r.Title, participants: r.Participants})
	return OpenDialogResult{Number: n}, err
}

func checkAutomated(r AutomatedRequest) error {
	switch r.Kind {
	case AutomatedTunnel, AutomatedBroadcast, AutomatedAI:
	default:
		return refuse(CodeInvalid, "kind must be tunnel, broadcast or ai")
	}
	if r.Text == "" || r.MessageID == "" {
		return refuse(CodeInvalid, "text and message_id are required")
	}
	return nil
}

// automated sends, queues or drops a bot message: while a conversation is active, funnel and
// broadcast messages wait and AI answers are dropped (seed 003).
func (ch *chat) automated(ctx workflow.Context, r AutomatedRequest) (AutomatedResult, error) {
	m := RecordMessageInput{ID: r.MessageID, ChatID: ch.in.ChatID, Direction: DirectionOut, Text: r.Text,
		Kind: r.Kind, At: workflow.Now(ctx)}
	outcome := OutcomeSent
	m.Status = MessagePending
	if ch.active() {
		if r.Kind == AutomatedAI {
			outcome, m.Status = OutcomeDropped, MessageDropped
		} else {
			outcome, m.Status = OutcomeQueued, MessageQueued
		}
	}
	if err := ch.record(ctx, m); err != nil {
		return AutomatedResult{}, err
	}
	switch outcome {
	case OutcomeQueued:
		ch.st.Queue = append(ch.st.Queue, m.ID)
	case OutcomeSent:
		ch.out.push(m.ID)
	}
	return AutomatedResult{Outcome: outcome, MessageID: m.ID}, nil
}

// active tells whether an operator is in a conversation of the chat.
func (ch *chat) active() bool {
	cur := ch.current()
	return cur != nil && cur.Status == StatusActive
}

// record stores an outbound message of the chat.
func (ch *chat) record(ctx workflow.Context, m RecordMessageInput) error {
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions)
	return workflow.ExecuteLocalActivity(lctx, ActivityRecordMessage, m).Get(ctx, nil)
}

func (ch *chat) checkWrite(r ChatWriteRequest) error {
	if cur := ch.current(); cur != nil && cur.Status == StatusActive {
		return &RuleError{Code: CodeActiveDialogExists, HolderID: cur.Number,
			Message: "conversation #" + itoa(cur.Number) + " is active: write inside it"}
	}
	if r.MessageID == "" || (r.Text == "" && len(r.Attachments) == 0) {
		return refuse(CodeInvalid, "message_id and text or attachments are required")
	}
	return nil
}

// write sends an operator's message in the chat outside any conversation.
func (ch *chat) write(ctx workflow.Context, r ChatWriteRequest) (ChatWriteResult, error) {
	if err := ch.checkWrite(r); err != nil {
		return ChatWriteResult{}, asTemporal(err)
	}
	m := RecordMessageInput{ID: r.MessageID, ChatID: ch.in.ChatID, Direction: DirectionOut, AuthorID: r.ActorID,
		Text: r.Text, Attachments: r.Attachments, Status: MessagePending, Kind: "chat", At: workflow.Now(ctx)}
	if err := ch.record(ctx, m); err != nil {
		return ChatWriteResult{}, err
	}
	ch.out.push(m.ID)
	return ChatWriteResult{MessageID: m.ID}, nil
}

func (ch *chat) onConversationChanged(ctx workflow.Context, m ConversationChanged) {
	if i := ch.find(m.Number); i >= 0 {
		c := ch.st.Conversations[i]
		if c.ClientTurn && m.RepliedAt != nil {
			// The turn is answered. A message that arrived after the answer (routed here or
			// linked by the ingest's fast path) starts the next one.
			c.ClientTurn = false
			var end EndTurnResult
			err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, linkOptions), ActivityEndTurn,
				EndTurnInput{ChatID: ch.in.ChatID, Conversation: c.Number, After: *m.RepliedAt}).Get(ctx, &end)
			if err != nil {
				workflow.GetLogger(ctx).Error("client turn not ended in the read model", "number", c.Number, "error", err)
			}
			if end.Next != nil && m.Status != StatusClosed {
				c.ClientTurn = true
				ch.signalConversation(ctx, c.Number, SignalClientMessage, *end.Next)
			}
			ch.st.Turn = 0 // EndTurn cleared it
		}
		wasPaused := c.Status == StatusPaused
		c.Status = m.Status
		ch.st.Conversations = slices.Delete(ch.st.Conversations, i, i+1)
		switch {
		case m.Status == StatusClosed:
		case m.Status == StatusPaused && !wasPaused:
			ch.st.Conversations = append(ch.st.Conversations, c) // the latest paused is last
		default:
			ch.st.Conversations = slices.Insert(ch.st.Conversations, i, c)
		}
	}
	ch.flushIfInactive()
	if m.FollowUpAssignee != 0 && ch.current() == nil {
		line, err := ch.loadLine(ctx)
		if err == nil {
			_, err = ch.open(ctx, line, openSpec{kind: KindRequest, key: "follow-up:" + itoa(m.Number), openedBy: m.FollowUpAssignee})
		}
		if err != nil {
			workflow.GetLogger(ctx).Error("follow-up conversation not opened", "after", m.Number, "error", err)
		}
	}
	if len(m.LateMessages) > 0 {
		// A closed conversation handed back client messages it got after closing: they go where
		// a new message would.
		var links []InboundLink
		for _, late := range m.LateMessages {
			n, err := ch.route(ctx, late)
			if err != nil {
				workflow.GetLogger(ctx).Error("late client message not routed", "message_id", late.MessageID, "error", err)
			}
			links = append(links, InboundLink{MessageID: late.MessageID, Conversation: n, Moved: true})
		}
		if err := ch.link(ctx, links); err != nil {
			workflow.GetLogger(ctx).Error("late client messages not linked", "error", err)
		}
	}
	if (m.Status == StatusPaused || m.Status == StatusClosed) && ch.st.Turn == m.Number {
		ch.st.Turn = 0 // its projection already stopped the fast path
	}
	if ch.turn() != ch.st.Turn {
		// The turn opened or ended with this change (paused, closed, answered): tell the ingest.
		if err := ch.link(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Error("client turn not published", "error", err)
		}
	}
	ch.flushIfInactive()
}

// flushIfInactive releases the held automated messages, in order, once no conversation is active.
func (ch *chat) flushIfInactive() {
	if ch.active() {
		return
	}
	ch.out.push(ch.st.Queue...)
	ch.st.Queue = []string{}
}

func (ch *chat) signalConversation(ctx workflow.Context, number int64, name string, arg any) {
	f := workflow.SignalExternalWorkflow(ctx, ConversationWorkflowID(number), "", name, arg)
	// The server drops a signal whose sender has continued as new: quiet waits for it.
	ch.signalling++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { ch.signalling-- }()
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("conversation not signalled", "number", number, "signal", name, "error", err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
