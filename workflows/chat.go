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

// chatIdle is how long a chat with nothing open waits before its workflow ends; the next
// message starts it again.
const chatIdle = 30 * 24 * time.Hour

// openedLimit bounds the conversation numbers a chat remembers for CSAT answers.
const openedLimit = 50

// seenLimit bounds the inbound message ids a chat remembers for de-duplication.
const seenLimit = 1000

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
	// Open is the chat's open conversation (at most one).
	Open *OpenConversation `json:"open,omitempty"`
	// Queue holds automated messages held back while a conversation is active, in order.
	Queue []string `json:"queue"`
	// Seen maps recent inbound message ids to the conversation they went to (0: none).
	Seen []SeenMessage `json:"seen"`
	// Opened lists the chat's latest conversations, so a CSAT answer is taken only for one of them.
	Opened []int64 `json:"opened,omitempty"`
}

// OpenConversation is what the chat knows of its open conversation.
type OpenConversation struct {
	Number int64  `json:"number"`
	Status string `json:"status"`
	// PausedStay: client messages to it while paused stay in the chat (line setting).
	PausedStay bool `json:"paused_stay,omitempty"`
	// TurnForwarding: the conversation was opened under versionTurnForwarding.
	TurnForwarding bool `json:"turn_forwarding,omitempty"`
	// ClientTurn: a client message was forwarded and no operator has answered yet; further
	// client messages change nothing in the conversation and are not forwarded.
	ClientTurn bool `json:"client_turn,omitempty"`
	// Unforwarded are this turn's messages not forwarded (the latest few), in case the answer
	// crossed them.
	Unforwarded []ClientMessage `json:"unforwarded,omitempty"`
}

// unforwardedLimit bounds the messages a chat keeps per turn.
const unforwardedLimit = 20

// SeenMessage remembers where an inbound message went.
type SeenMessage struct {
	ID           string `json:"id"`
	Conversation int64  `json:"conversation"`
}

// InboundRequest tells the chat its client wrote; the message is already stored.
type InboundRequest struct {
	MessageID string    `json:"message_id"`
	At        time.Time `json:"at"`
	// Button is the payload of a pressed button, if the message is a button press.
	Button string `json:"button,omitempty"`
}

// InboundResult names the conversation the message belongs to (0: it stays in the chat).
type InboundResult struct {
	Conversation int64 `json:"conversation"`
	// CSAT is true when the message was the answer to that conversation's CSAT question.
	CSAT bool `json:"csat,omitempty"`
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

// ChatWorkflow is one chat's entity: every inbound message reaches it, it opens conversations
// (at most one open, so at most one active), forwards client events to the open one and owns
// the automated-message queue.
func ChatWorkflow(ctx workflow.Context, in ChatInput) error {
	ch := &chat{in: in, seen: map[string]int64{}}
	if in.State != nil {
		ch.st = *in.State
		for _, s := range ch.st.Seen {
			ch.seen[s.ID] = s.Conversation
		}
	}
	if ch.st.Queue == nil {
		ch.st.Queue = []string{}
	}
	if err := ch.setup(ctx); err != nil {
		return err
	}
	return ch.run(ctx)
}

type chat struct {
	in      ChatInput
	st      ChatState
	seen    map[string]int64
	opening bool
	changed bool
	// updates counts the updates this run accepted (see maxUpdatesPerRun).
	updates int
	out     outbox
	// tickets and turn keep outbound messages in the order they arrived (see record).
	tickets, turn int
	// signalling counts signals to conversations not yet delivered.
	signalling int
}

func (ch *chat) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ChatState, error) { return ch.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, UpdateInbound, counted(&ch.updates, ch.inbound)); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAutomated, counted(&ch.updates, ch.automated), workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, r AutomatedRequest) error { return asTemporal(checkAutomated(r)) },
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateOpenDialog, counted(&ch.updates, ch.openDialog), workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, r OpenDialogRequest) error { return asTemporal(ch.checkNoOpen()) },
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateChatWrite, counted(&ch.updates, ch.write), workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, r ChatWriteRequest) error { return asTemporal(ch.checkWrite(r)) },
	}); err != nil {
		return err
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		sig := workflow.GetSignalChannel(ctx, SignalConversationChanged)
		for {
			var m ConversationChanged
			sig.Receive(ctx, &m)
			ch.onConversationChanged(ctx, m)
		}
	})
	workflow.Go(ctx, ch.out.run)
	return nil
}

func (ch *chat) run(ctx workflow.Context) error {
	for {
		ch.changed = false
		woke, err := workflow.AwaitWithTimeout(ctx, chatIdle, func() bool {
			return ch.changed || ch.tooLong(ctx)
		})
		if err != nil {
			return err
		}
		quiet := func() bool {
			return !ch.opening && ch.signalling == 0 && ch.out.idle() && workflow.AllHandlersFinished(ctx)
		}
		if !woke && ch.st.Open == nil && len(ch.st.Queue) == 0 && quiet() {
			return nil // idle: the next message starts the chat again
		}
		if ch.tooLong(ctx) {
			if err := workflow.Await(ctx, quiet); err != nil {
				return err
			}
			next := ch.in
			st := ch.st
			st.Seen = ch.seenList()
			next.State = &st
			return workflow.NewContinueAsNewError(ctx, ChatWorkflow, next)
		}
	}
}

// tooLong tells when this run should continue as new: its history is long, or it accepted
// enough updates to near the server's cap.
func (ch *chat) tooLong(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() ||
		ch.updates >= maxUpdatesPerRun && workflow.GetVersion(ctx, versionUpdateCap, workflow.DefaultVersion, 1) == 1
}

// waitOpening serialises the decisions that depend on whether a conversation is open: while one
// is being opened, other messages wait for it, so concurrent messages never open two.
func (ch *chat) waitOpening(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return !ch.opening })
}

func (ch *chat) inbound(ctx workflow.Context, r InboundRequest) (InboundResult, error) {
	ch.changed = true
	// A retry that arrives while its first delivery opens a conversation waits for it, then finds
	// the message seen instead of forwarding it a second time.
	if err := ch.waitOpening(ctx); err != nil {
		return InboundResult{}, err
	}
	if n, ok := ch.seen[r.MessageID]; ok {
		return InboundResult{Conversation: n}, nil
	}
	// A CSAT answer counts only for a conversation of this chat; any other button press is a
	// client message like any other.
	if number, score, ok := ParseCSATPayload(r.Button); ok && (slices.Contains(ch.st.Opened, number) ||
		workflow.GetVersion(ctx, versionOwnCSAT, workflow.DefaultVersion, 1) == workflow.DefaultVersion) {
		ch.remember(r.MessageID, number)
		ch.signalConversation(ctx, number, SignalCSATAnswer, CSATAnswer{Score: score, MessageID: r.MessageID, At: r.At})
		return InboundResult{Conversation: number, CSAT: true}, nil
	}
	n, err := ch.route(ctx, ClientMessage{MessageID: r.MessageID, At: r.At})
	if err != nil {
		return InboundResult{}, err
	}
	ch.remember(r.MessageID, n)
	return InboundResult{Conversation: n}, nil
}

// route hands a client message to the open conversation, or opens one when the line auto-opens.
func (ch *chat) route(ctx workflow.Context, m ClientMessage) (int64, error) {
	if err := ch.waitOpening(ctx); err != nil {
		return 0, err
	}
	if open := ch.st.Open; open != nil {
		if open.Status == StatusPaused && open.PausedStay {
			return 0, nil
		}
		if open.ClientTurn && open.TurnForwarding && open.Status != StatusPaused {
			// Within a client turn a message changes nothing the conversation keeps: the read
			// model counts it as unread and as activity.
			open.Unforwarded = append(open.Unforwarded, m)
			if len(open.Unforwarded) > unforwardedLimit {
				open.Unforwarded = open.Unforwarded[1:]
			}
			return open.Number, nil
		}
		open.ClientTurn, open.Unforwarded = true, nil
		ch.signalConversation(ctx, open.Number, SignalClientMessage, m)
		return open.Number, nil
	}
	ch.opening = true
	defer func() { ch.opening = false }()
	line, err := ch.loadLine(ctx)
	if err != nil {
		return 0, err
	}
	if !line.AutoOpen {
		return 0, nil
	}
	return ch.open(ctx, line, openSpec{kind: KindRequest, first: &m, key: "message:" + m.MessageID})
}

type openSpec struct {
	kind         string
	key          string
	first        *ClientMessage
	openedBy     int64
	title        string
	participants []int64
}

// open creates the conversation row and starts its workflow. The caller holds ch.opening.
func (ch *chat) open(ctx workflow.Context, line LineConfig, spec openSpec) (int64, error) {
	now := workflow.Now(ctx)
	status := StatusQueued
	if spec.openedBy != 0 {
		status = StatusActive
	}
	create := CreateConversationInput{OpeningKey: ch.in.ChatID + "/" + spec.key, ChatID: ch.in.ChatID, LineID: line.ID,
		Kind: spec.kind, Status: status, AssigneeID: spec.openedBy, Title: spec.title, Type: line.DefaultType, OpenedAt: now}
	if spec.first != nil {
		create.MessageID = spec.first.MessageID
	}
	var res CreateConversationResult
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions)
	if err := workflow.ExecuteLocalActivity(lctx, ActivityCreateConversation, create).Get(ctx, &res); err != nil {
		return 0, err
	}
	turns := workflow.GetVersion(ctx, versionTurnForwarding, workflow.DefaultVersion, 1) == 1
	in := ConversationInput{Number: res.Number, ChatID: ch.in.ChatID, ChannelID: res.ChannelID, ContactID: res.ContactID,
		Kind: spec.kind, Line: line, OpenedAt: now, OpenedBy: spec.openedBy, Title: spec.title,
		Participants: spec.participants, FirstMessage: spec.first, TurnForwarding: turns}
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
	ch.st.Open = &OpenConversation{Number: res.Number, Status: status, PausedStay: line.PausedClientMessage == PausedStay,
		TurnForwarding: turns, ClientTurn: spec.first != nil}
	ch.st.Opened = append(ch.st.Opened, res.Number)
	if len(ch.st.Opened) > openedLimit {
		ch.st.Opened = ch.st.Opened[len(ch.st.Opened)-openedLimit:]
	}
	ch.changed = true
	return res.Number, nil
}

func (ch *chat) loadLine(ctx workflow.Context) (LineConfig, error) {
	var line LineConfig
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions)
	err := workflow.ExecuteLocalActivity(lctx, ActivityLoadLine, LoadLineInput{LineID: ch.in.LineID}).Get(ctx, &line)
	return line, err
}

func (ch *chat) checkNoOpen() error {
	if open := ch.st.Open; open != nil {
		if open.Status == StatusActive {
			return &RuleError{Code: CodeActiveDialogExists, HolderID: open.Number,
				Message: "the chat already has an active conversation #" + itoa(open.Number)}
		}
		return &RuleError{Code: CodeOpenConversation, HolderID: open.Number,
			Message: "the chat already has an open conversation #" + itoa(open.Number) + " (" + open.Status + ")"}
	}
	return nil
}

func (ch *chat) openDialog(ctx workflow.Context, r OpenDialogRequest) (OpenDialogResult, error) {
	ch.changed = true
	if err := ch.waitOpening(ctx); err != nil {
		return OpenDialogResult{}, err
	}
	if err := ch.checkNoOpen(); err != nil {
		return OpenDialogResult{}, asTemporal(err)
	}
	ch.opening = true
	defer func() { ch.opening = false }()
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
	ch.changed = true
	if err := ch.waitOpening(ctx); err != nil {
		return AutomatedResult{}, err
	}
	m := RecordMessageInput{ID: r.MessageID, ChatID: ch.in.ChatID, Direction: DirectionOut, Text: r.Text,
		Kind: r.Kind, At: workflow.Now(ctx)}
	outcome := OutcomeSent
	m.Status = MessagePending
	if open := ch.st.Open; open != nil && open.Status == StatusActive {
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
		// The conversation may have stopped being active while the message was recorded.
		ch.flushIfInactive()
	case OutcomeSent:
		ch.out.push(m.ID)
	}
	return AutomatedResult{Outcome: outcome, MessageID: m.ID}, nil
}

// record stores an outbound message of the chat. Recordings run concurrently and may finish in
// any order, so each waits for those that arrived before it: the caller queues or sends the
// message in arrival order.
func (ch *chat) record(ctx workflow.Context, m RecordMessageInput) error {
	ticket := ch.tickets
	ch.tickets++
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions)
	err := workflow.ExecuteLocalActivity(lctx, ActivityRecordMessage, m).Get(ctx, nil)
	if werr := workflow.Await(ctx, func() bool { return ch.turn == ticket }); werr != nil {
		return werr
	}
	ch.turn++
	return err
}

func (ch *chat) checkWrite(r ChatWriteRequest) error {
	if open := ch.st.Open; open != nil && open.Status == StatusActive {
		return &RuleError{Code: CodeActiveDialogExists, HolderID: open.Number,
			Message: "conversation #" + itoa(open.Number) + " is active: write inside it"}
	}
	if r.MessageID == "" || (r.Text == "" && len(r.Attachments) == 0) {
		return refuse(CodeInvalid, "message_id and text or attachments are required")
	}
	return nil
}

// write sends an operator's message in the chat outside any conversation.
func (ch *chat) write(ctx workflow.Context, r ChatWriteRequest) (ChatWriteResult, error) {
	ch.changed = true
	if err := ch.waitOpening(ctx); err != nil {
		return ChatWriteResult{}, err
	}
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
	ch.changed = true
	if open := ch.st.Open; open != nil && open.Number == m.Number {
		if m.Status == StatusClosed {
			ch.st.Open = nil
		} else {
			open.Status = m.Status
		}
		if open.ClientTurn && m.RepliedAt != nil {
			// The turn is answered. A message that arrived after the answer starts the next one.
			open.ClientTurn = false
			var next *ClientMessage
			for i := range open.Unforwarded {
				if open.Unforwarded[i].At.After(*m.RepliedAt) {
					next = &open.Unforwarded[i]
					break
				}
			}
			if next != nil && m.Status != StatusClosed {
				open.ClientTurn = true
				ch.signalConversation(ctx, open.Number, SignalClientMessage, *next)
			}
			open.Unforwarded = nil
		}
	}
	ch.flushIfInactive()
	if m.FollowUpAssignee != 0 {
		if err := ch.waitOpening(ctx); err != nil {
			return
		}
		if ch.st.Open == nil {
			ch.opening = true
			line, err := ch.loadLine(ctx)
			if err == nil {
				_, err = ch.open(ctx, line, openSpec{kind: KindRequest, key: "follow-up:" + itoa(m.Number), openedBy: m.FollowUpAssignee})
			}
			ch.opening = false
			if err != nil {
				workflow.GetLogger(ctx).Error("follow-up conversation not opened", "after", m.Number, "error", err)
			}
		}
	}
	for _, late := range m.LateMessages {
		n, err := ch.route(ctx, late)
		if err != nil {
			workflow.GetLogger(ctx).Error("late client message not routed", "message_id", late.MessageID, "error", err)
			continue
		}
		ch.remember(late.MessageID, n)
	}
}

// flushIfInactive releases the held automated messages, in order, once no conversation is active.
func (ch *chat) flushIfInactive() {
	if open := ch.st.Open; open != nil && open.Status == StatusActive {
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

func (ch *chat) remember(id string, conversation int64) {
	if _, ok := ch.seen[id]; ok {
		ch.seen[id] = conversation
		return
	}
	ch.seen[id] = conversation
	ch.st.Seen = append(ch.st.Seen, SeenMessage{ID: id, Conversation: conversation})
	if len(ch.st.Seen) > seenLimit {
		drop := ch.st.Seen[0]
		ch.st.Seen = ch.st.Seen[1:]
		delete(ch.seen, drop.ID)
	}
}

// seenList returns the remembered ids with their current conversations, oldest first.
func (ch *chat) seenList() []SeenMessage {
	out := make([]SeenMessage, len(ch.st.Seen))
	for i, s := range ch.st.Seen {
		out[i] = SeenMessage{ID: s.ID, Conversation: ch.seen[s.ID]}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
