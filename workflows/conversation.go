package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// maxUpdatesPerRun continues a workflow as new well before the server's cap on updates per run
// (history.maxTotalUpdates, 2,000 by default).
var maxUpdatesPerRun = 1000 // a variable so tests can lower it

// csatWindow is how long a closed conversation waits for the client's CSAT answer.
const csatWindow = 7 * 24 * time.Hour

// ConversationWorkflow is one conversation's state machine (ARCHITECTURE §2): queued → active ⇄
// paused → closed, operator actions as updates with validators, client events as signals, SLA
// and auto-close timers, and a projection of every change to PostgreSQL.
func ConversationWorkflow(ctx workflow.Context, in ConversationInput) (ConversationState, error) {
	c := newConversation(ctx, in)
	c.outbox.ids = in.Outbox
	if err := c.setup(ctx); err != nil {
		return c.st, err
	}
	return c.run(ctx)
}

type conversation struct {
	in   ConversationInput
	st   ConversationState
	line LineConfig

	// mu serialises everything that changes the state: operator actions, client events and the
	// timers' work. A handler that awaits (a local activity) never interleaves with another, so
	// two overlapping actions (a double click on Close) are judged one after the other.
	mu fifoLock
	// busy counts handlers holding or waiting for mu.
	busy int
	// clientQueued counts client messages taken off their channel and waiting for mu.
	clientQueued int
	// clientMessages is the channel of SignalClientMessage, looked up once in setup: a
	// validator may only read it.
	clientMessages workflow.ReceiveChannel
	// pending holds timeline events not yet written to the read model.
	pending []Event
	// repliedAt is an operator's answer not yet written to the read model.
	repliedAt *time.Time
	// changed wakes the main loop so it re-arms its timers.
	changed bool
	// notified is the status the chat was last told about.
	notified string
	outbox   outbox
	// background counts activities started by handlers that must finish before the workflow ends.
	background int
	// updates counts the updates this run accepted; the server caps them per run.
	updates int
	std     *StandardMessages
}

func newConversation(ctx workflow.Context, in ConversationInput) *conversation {
	c := &conversation{in: in, line: in.Line}
	if in.State != nil {
		c.st = *in.State
		c.notified = c.st.Status
		return c
	}
	status, assignee := StatusQueued, int64(0)
	participants := []int64{}
	if in.OpenedBy != 0 {
		status, assignee = StatusActive, in.OpenedBy
		participants = append(participants, in.OpenedBy)
	}
	for _, p := range in.Participants {
		if p > 0 && !slices.Contains(participants, p) {
			participants = append(participants, p)
		}
	}
	kind := in.Kind
	if kind == "" {
		kind = KindRequest
	}
	c.st = ConversationState{
		Number: in.Number, ChatID: in.ChatID, Kind: kind, Status: status, AssigneeID: assignee,
		Participants: participants, Title: in.Title, Type: in.Line.DefaultType,
		Reasons: []string{}, Components: []string{},
		CreatedAt: in.OpenedAt, LastActivity: in.OpenedAt,
	}
	if reg := in.Line.Regulation; reg != nil {
		c.st.SLA.Resolution.start(reg.Resolution, in.OpenedAt)
	}
	c.notified = status
	// The opening is recorded before any handler can run: an update that arrives in the same
	// workflow task as the start (a retried first task) is then applied after it.
	c.event(in.OpenedAt, in.OpenedBy, "opened", map[string]any{"kind": c.st.Kind, "status": c.st.Status})
	if m := in.FirstMessage; m != nil {
		c.clientWrote(m.At)
	}
	return c
}

func (c *conversation) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ConversationState, error) {
		return c.snapshot(), nil
	}); err != nil {
		return err
	}
	errs := []error{
		action(ctx, c, UpdateTake, checkTake, c.take),
		action(ctx, c, UpdateAssign, checkAssign, c.assign),
		action(ctx, c, UpdateTransfer, checkTransfer, c.transfer),
		action(ctx, c, UpdateReturn, checkReturn, c.returnToQueue),
		action(ctx, c, UpdatePause, checkPause, c.pause),
		action(ctx, c, UpdateResume, checkResume, c.resume),
		action(ctx, c, UpdateReply, checkReply, c.reply),
		action(ctx, c, UpdateNote, checkNote, c.note),
		action(ctx, c, UpdateEdit, checkEdit, c.edit),
		action(ctx, c, UpdateClose, checkClose, c.close),
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	c.clientMessages = workflow.GetSignalChannel(ctx, SignalClientMessage)
	receive(ctx, SignalClientMessage, &c.busy, func(ctx workflow.Context, m ClientMessage) {
		c.clientQueued++
		_ = c.locked(ctx, func(ctx workflow.Context) error { c.clientQueued--; c.onClientMessage(ctx, m); return nil })
	})
	receive(ctx, SignalCSATAnswer, &c.busy, func(ctx workflow.Context, a CSATAnswer) {
		_ = c.locked(ctx, func(ctx workflow.Context) error { c.onCSAT(ctx, a); return nil })
	})
	receive(ctx, SignalRegulationChanged, &c.busy, func(ctx workflow.Context, r RegulationChanged) {
		_ = c.locked(ctx, func(ctx workflow.Context) error { c.onRegulationChanged(ctx, r); return nil })
	})
	workflow.Go(ctx, c.outbox.run)
	return nil
}

// action registers an operator action: its validator refuses what the rules forbid when the
// update arrives, and the handler checks again once it holds the mutex, because an action
// admitted just before it (in the same workflow task) may have changed the state meanwhile.
func action[T any](ctx workflow.Context, c *conversation, name string, check func(*ConversationState, T) error,
	handle func(workflow.Context, T) (ActionResult, error)) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, r T) (res ActionResult, err error) {
			c.updates++
			err = c.locked(ctx, func(ctx workflow.Context) error {
				if err := check(c.view(ctx), r); err != nil {
					return asTemporal(err)
				}
				res, err = handle(ctx, r)
				return err
			})
			return res, err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r T) error { return asTemporal(check(c.view(ctx), r)) }})
}

// view is the state an action is judged by: a client message that arrived but is not applied
// yet (it waits in the signal channel or for the mutex) already counts as unread.
func (c *conversation) view(ctx workflow.Context) *ConversationState {
	if c.st.ClientWaiting || (c.clientQueued == 0 && c.clientMessages.Len() == 0) {
		return &c.st
	}
	st := c.st
	st.ClientWaiting = true
	return &st
}

// locked runs fn holding the conversation's mutex.
func (c *conversation) locked(ctx workflow.Context, fn func(workflow.Context) error) error {
	c.busy++
	defer func() { c.busy-- }()
	if err := c.mu.lock(ctx); err != nil {
		return err
	}
	defer c.mu.unlock()
	return fn(ctx)
}

// quiet tells whether nothing is halfway done: no handler runs or waits, no signal waits to be
// handled, no background work runs.
func (c *conversation) quiet(ctx workflow.Context) bool {
	return c.busy == 0 && c.background == 0 && workflow.AllHandlersFinished(ctx) &&
		workflow.GetSignalChannel(ctx, SignalClientMessage).Len() == 0 &&
		workflow.GetSignalChannel(ctx, SignalCSATAnswer).Len() == 0 &&
		workflow.GetSignalChannel(ctx, SignalRegulationChanged).Len() == 0
}

// tooLong tells when this run should continue as new: its history is long, or it accepted
// enough updates to near the server's cap.
func (c *conversation) tooLong(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() || c.updates >= maxUpdatesPerRun
}

func (c *conversation) run(ctx workflow.Context) (ConversationState, error) {
	if c.in.State == nil {
		if err := c.locked(ctx, func(ctx workflow.Context) error {
			if err := c.commit(ctx); err != nil {
				return err
			}
			var others []int64
			for _, p := range c.st.Participants {
				if p != c.in.OpenedBy {
					others = append(others, p)
				}
			}
			c.addParticipants(ctx, others, c.in.OpenedBy)
			return c.greet(ctx)
		}); err != nil {
			return c.st, err
		}
	}
	// One timer follows the earliest deadline (SLA warning or breach, auto-close).
	var timer deadlineTimer
	for c.st.Status != StatusClosed {
		if ctx.Err() != nil {
			timer.stop()
			return c.st, temporal.NewCanceledError()
		}
		if c.tooLong(ctx) {
			timer.stop()
			return c.continueAsNew(ctx)
		}
		deadline, ok := c.nextDeadline()
		if ok && !deadline.After(workflow.Now(ctx)) {
			timer.stop()
			if err := c.locked(ctx, c.onDeadline); err != nil {
				return c.st, err
			}
			continue
		}
		timer.follow(ctx, deadline, ok)
		c.changed = false
		if err := workflow.Await(ctx, func() bool {
			return c.changed || c.st.Status == StatusClosed || timer.fired() || c.tooLong(ctx)
		}); err != nil {
			return c.st, err
		}
		if timer.fired() {
			timer.done() // the loop fires what is due, or re-arms for a deadline that moved later
		}
	}
	timer.stop()
	// Closed: wait for the CSAT answer if one was asked, then let deliveries, background work
	// and running handlers finish.
	if c.st.CSATSent && c.st.CSAT == 0 {
		var window deadlineTimer
		window.follow(ctx, workflow.Now(ctx).Add(csatWindow), true)
		if err := workflow.Await(ctx, func() bool { return c.st.CSAT != 0 || window.fired() }); err != nil {
			return c.st, err
		}
		window.stop()
	}
	if err := workflow.Await(ctx, func() bool { return c.outbox.idle() && c.quiet(ctx) }); err != nil {
		return c.st, err
	}
	return c.snapshot(), nil
}

// continueAsNew starts the next run once nothing is halfway done; the messages still to
// deliver go with the state, so it never waits for a slow channel.
func (c *conversation) continueAsNew(ctx workflow.Context) (ConversationState, error) {
	if err := workflow.Await(ctx, func() bool { return c.quiet(ctx) }); err != nil {
		return c.st, err
	}
	next := c.in
	next.Line = c.line
	st := c.snapshot()
	next.State = &st
	next.FirstMessage = nil
	next.Outbox = slices.Clone(c.outbox.ids)
	return c.st, workflow.NewContinueAsNewError(ctx, ConversationWorkflow, next)
}

// nextDeadline is the earliest timer the conversation must react to: an SLA warning or breach,
// or the auto-close after inactivity (active and paused conversations only: a queued one has a
// client waiting for an operator).
func (c *conversation) nextDeadline() (time.Time, bool) {
	next, ok := c.st.SLA.nextDeadline(c.line.Regulation)
	if at, has := c.autoCloseAt(); has && (!ok || at.Before(next)) {
		next, ok = at, true
	}
	return next, ok
}

func (c *conversation) autoCloseAt() (time.Time, bool) {
	if c.line.AutoCloseAfter <= 0 || (c.st.Status != StatusActive && c.st.Status != StatusPaused) {
		return time.Time{}, false
	}
	return c.st.LastActivity.Add(c.line.AutoCloseAfter), true
}

// onDeadline fires what is due now: SLA warnings and breaches, then auto-close.
func (c *conversation) onDeadline(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	fired := c.st.SLA.fireDue(now, c.line.Regulation)
	for _, e := range fired {
		c.event(now, 0, e.Kind, map[string]any{"clock": e.Clock, "due": e.Due})
	}
	if at, ok := c.autoCloseAt(); ok && !now.Before(at) {
		// Client messages within a turn are not forwarded here, but the read model has them all:
		// a later one postpones the close.
		var last LastActivityResult
		err := workflow.ExecuteLocalActivity(c.local(ctx), ActivityLastActivity, LastActivityInput{Number: c.st.Number}).Get(ctx, &last)
		if err != nil {
			return err
		}
		if last.At.After(c.st.LastActivity) {
			c.st.LastActivity = last.At
			if at, _ := c.autoCloseAt(); now.Before(at) {
				if len(fired) > 0 {
					return c.commit(ctx)
				}
				c.changed = true
				return nil // the loop re-arms the timer
			}
		}
		return c.autoClose(ctx, now)
	}
	if len(fired) > 0 {
		return c.commit(ctx)
	}
	return nil
}

// greet answers a client's new request at once with the line's greeting or, outside the
// business hours of the line's regulation, its out-of-hours message (X04). A conversation an
// operator opened gets neither.
func (c *conversation) greet(ctx workflow.Context) error {
	if c.in.FirstMessage == nil || c.in.OpenedBy != 0 || c.in.NoOutbound {
		return nil
	}
	if workflow.GetVersion(ctx, "greeting", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	text, kind := c.line.GreetingText, "greeting"
	if c.line.OutOfHoursText != "" && c.line.Regulation != nil && !c.line.Regulation.Calendar.IsOpen(workflow.Now(ctx)) {
		text, kind = c.line.OutOfHoursText, "out_of_hours"
	}
	if text == "" {
		return nil
	}
	if _, err := c.send(ctx, RecordMessageInput{Direction: DirectionOut, Text: text, Kind: kind}); err != nil {
		// A greeting is a courtesy: the conversation goes on without it.
		workflow.GetLogger(ctx).Warn("greeting not recorded", "conversation", c.in.Number, "error", err)
	}
	return nil
}

func (c *conversation) autoClose(ctx workflow.Context, now time.Time) error {
	text := c.line.AutoCloseText
	if text == "" {
		text = c.standardMessages(ctx).AutoClose
	}
	if text != "" {
		if _, err := c.send(ctx, RecordMessageInput{Direction: DirectionOut, Text: text, Kind: "auto_close"}); err != nil {
			return err
		}
	}
	c.event(now, 0, "auto_closed", map[string]any{"after": c.line.AutoCloseAfter.String()})
	c.closeNow(now, CloseAuto)
	return c.commit(ctx)
}

// --- operator actions -------------------------------------------------------------------------

func (c *conversation) take(ctx workflow.Context, r TakeRequest) (ActionResult, error) {
	if c.st.AssigneeID == r.ActorID && c.st.Status != StatusQueued {
		return ActionResult{State: c.snapshot()}, nil // taking what you hold is a no-op
	}
	if err := c.claim(ctx, r.ActorID); err != nil {
		return ActionResult{}, err
	}
	now := workflow.Now(ctx)
	c.setAssignee(ctx, r.ActorID)
	c.event(now, r.ActorID, "taken", nil)
	return c.result(ctx, "")
}

func (c *conversation) assign(ctx workflow.Context, r AssignRequest) (ActionResult, error) {
	if err := c.claim(ctx, r.AssigneeID); err != nil {
		return ActionResult{}, err
	}
	now := workflow.Now(ctx)
	from := c.st.AssigneeID
	c.setAssignee(ctx, r.AssigneeID)
	if r.Rule != "" {
		c.event(now, 0, "routed", map[string]any{"to": r.AssigneeID, "rule": r.Rule})
	} else {
		c.event(now, r.ActorID, "assigned", map[string]any{"from": from, "to": r.AssigneeID})
	}
	return c.result(ctx, "")
}

func (c *conversation) transfer(ctx workflow.Context, r TransferRequest) (ActionResult, error) {
	if err := c.claim(ctx, r.AssigneeID); err != nil {
		return ActionResult{}, err
	}
	now := workflow.Now(ctx)
	from := c.st.AssigneeID
	c.setAssignee(ctx, r.AssigneeID)
	data := map[string]any{"from": from, "to": r.AssigneeID}
	if r.Comment != "" {
		data["comment"] = r.Comment
	}
	c.event(now, r.ActorID, "transferred", data)
	return c.result(ctx, "")
}

// claim reserves one of the operator's slots before the conversation becomes theirs: the read
// model counts every operator's active conversations under the operator's row lock, so no take,
// assignment or routing decision, however concurrent, gives anyone more than their capacity.
// The slot frees itself when the projection shows the conversation paused, passed on or closed.
func (c *conversation) claim(ctx workflow.Context, operator int64) error {
	if workflow.GetVersion(ctx, "capacity-claim", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	var res ClaimSlotResult
	err := workflow.ExecuteLocalActivity(c.local(ctx), ActivityClaimSlot,
		ClaimSlotInput{Number: c.st.Number, OperatorID: operator}).Get(ctx, &res)
	if err != nil {
		return err
	}
	if !res.Claimed {
		return asTemporal(&RuleError{Code: CodeAtCapacity, HolderID: operator, Message: fmt.Sprintf(
			"operator %d already has %d of %d active conversations", operator, res.Active, res.Capacity)})
	}
	return nil
}

func (c *conversation) setAssignee(ctx workflow.Context, id int64) {
	c.st.AssigneeID = id
	if c.st.Status == StatusQueued {
		c.st.Status = StatusActive
	}
	c.actionIsActivity(ctx)
}

// actionIsActivity restarts the inactivity clock: an operator is in the conversation now.
func (c *conversation) actionIsActivity(ctx workflow.Context) {
	c.st.LastActivity = workflow.Now(ctx)
}

func (c *conversation) returnToQueue(ctx workflow.Context, r ActionRequest) (ActionResult, error) {
	now := workflow.Now(ctx)
	if c.st.Status == StatusPaused {
		c.st.SLA.resumeAll(now)
	}
	from := c.st.AssigneeID
	c.st.AssigneeID, c.st.Status = 0, StatusQueued
	c.event(now, r.ActorID, "returned", map[string]any{"from": from})
	return c.result(ctx, "")
}

func (c *conversation) pause(ctx workflow.Context, r ActionRequest) (ActionResult, error) {
	now := workflow.Now(ctx)
	c.st.Status = StatusPaused
	if reg := c.line.Regulation; reg != nil && reg.PauseStopsClock {
		c.st.SLA.pauseAll(now, reg.Calendar)
	}
	c.event(now, r.ActorID, "paused", nil)
	return c.result(ctx, "")
}

func (c *conversation) resume(ctx workflow.Context, r ActionRequest) (ActionResult, error) {
	now := workflow.Now(ctx)
	c.resumeNow(now)
	c.actionIsActivity(ctx)
	c.event(now, r.ActorID, "resumed", nil)
	return c.result(ctx, "")
}

func (c *conversation) resumeNow(now time.Time) {
	c.st.Status = StatusActive
	c.st.SLA.resumeAll(now)
}

func (c *conversation) reply(ctx workflow.Context, r ReplyRequest) (ActionResult, error) {
	now := workflow.Now(ctx)
	id, err := c.send(ctx, RecordMessageInput{ID: r.MessageID, Direction: DirectionOut, AuthorID: r.ActorID,
		Text: r.Text, Attachments: r.Attachments, Kind: "reply"})
	if err != nil {
		return ActionResult{}, err
	}
	c.repliedAt = &now
	c.st.LastActivity = now
	if c.st.ClientWaiting {
		// The chat stops forwarding client messages during a turn; tell it the turn is answered.
		c.notifyChat(ctx, ConversationChanged{Number: c.st.Number, Status: c.st.Status, RepliedAt: &now})
	}
	c.st.Responded, c.st.ClientWaiting = true, false
	if reg := c.line.Regulation; reg != nil {
		c.st.SLA.FirstResponse.meet(now, reg.Calendar)
		c.st.SLA.NextResponse.meet(now, reg.Calendar)
	}
	c.event(now, r.ActorID, "replied", map[string]any{"message_id": id})
	return c.result(ctx, id)
}

func (c *conversation) note(ctx workflow.Context, r ReplyRequest) (ActionResult, error) {
	now := workflow.Now(ctx)
	err := c.record(ctx, RecordMessageInput{ID: r.MessageID, Direction: DirectionNote, AuthorID: r.ActorID,
		Text: r.Text, Attachments: r.Attachments, Status: MessageInternal, At: now})
	if err != nil {
		return ActionResult{}, err
	}
	c.event(now, r.ActorID, "note_added", map[string]any{"message_id": r.MessageID})
	return c.result(ctx, r.MessageID)
}

func (c *conversation) edit(ctx workflow.Context, r EditRequest) (ActionResult, error) {
	now := workflow.Now(ctx)
	changed := map[string]any{}
	if r.Title != nil && *r.Title != c.st.Title {
		c.st.Title, changed["title"] = *r.Title, *r.Title
	}
	if r.Type != nil && *r.Type != c.st.Type {
		c.st.Type, changed["type"] = *r.Type, *r.Type
	}
	if r.Reasons != nil {
		c.st.Reasons, changed["reasons"] = nonNil(*r.Reasons), *r.Reasons
	}
	if r.Components != nil {
		c.st.Components, changed["components"] = nonNil(*r.Components), *r.Components
	}
	var added []int64
	if r.Participants != nil {
		next := []int64{}
		for _, p := range *r.Participants {
			if p > 0 && !slices.Contains(next, p) {
				next = append(next, p)
				if !slices.Contains(c.st.Participants, p) {
					added = append(added, p)
				}
			}
		}
		if !slices.Equal(next, c.st.Participants) {
			c.st.Participants, changed["participants"] = next, next
		}
	}
	if len(changed) > 0 {
		c.event(now, r.ActorID, "edited", changed)
	}
	if err := c.commit(ctx); err != nil {
		return ActionResult{}, err
	}
	c.addParticipants(ctx, added, r.ActorID)
	return c.snapshotResult(""), nil
}

func (c *conversation) close(ctx workflow.Context, r CloseRequest) (ActionResult, error) {
	now := workflow.Now(ctx)
	if r.Type != "" {
		c.st.Type = r.Type
	}
	if r.Reasons != nil {
		c.st.Reasons = nonNil(r.Reasons)
	}
	if r.Components != nil {
		c.st.Components = nonNil(r.Components)
	}
	c.st.Solution = r.Solution
	c.st.ClientRating = r.ClientRating
	data := map[string]any{"type": c.st.Type}
	if r.ClientRating != 0 {
		data["client_rating"] = r.ClientRating
	}
	if r.SendCSAT {
		data["send_csat"] = true
	}
	if r.OpenTicket {
		data["open_ticket"] = true
	}
	if r.ConfirmUnread && c.st.ClientWaiting {
		data["unread_confirmed"] = true
	}
	c.event(now, r.ActorID, "closed", data)
	if r.SendCSAT {
		std := c.standardMessages(ctx)
		_, err := c.send(ctx, RecordMessageInput{Direction: DirectionOut, Text: std.CSATQuestion, Kind: "csat",
			Buttons: []Button{
				{Text: std.CSATBad, Payload: CSATPayload(c.st.Number, CSATBad)},
				{Text: std.CSATNormal, Payload: CSATPayload(c.st.Number, CSATNormal)},
				{Text: std.CSATExcellent, Payload: CSATPayload(c.st.Number, CSATExcellent)},
			}})
		if err != nil {
			return ActionResult{}, err
		}
		c.st.CSATSent = true
	}
	assignee := c.st.AssigneeID
	if assignee == 0 {
		assignee = r.ActorID
	}
	c.closeNow(now, CloseByOperator)
	var followUp int64
	if r.OpenTicket {
		followUp = assignee
	}
	res, err := c.resultNotify(ctx, followUp)
	if err != nil {
		return res, err
	}
	if r.Solution != "" {
		c.runBackground(ctx, ActivityEmailSolution, EmailSolutionInput{
			Number: c.st.Number, ContactID: c.in.ContactID, Solution: r.Solution, Title: c.st.Title}, "solution_emailed")
	}
	if c.line.MergeRepliesAfterClose {
		c.runBackground(ctx, ActivityMergeReplies, MergeRepliesInput{Number: c.st.Number}, "replies_merged")
	}
	return res, nil
}

func (c *conversation) closeNow(now time.Time, reason string) {
	if reg := c.line.Regulation; reg != nil {
		c.st.SLA.Resolution.meet(now, reg.Calendar)
		c.st.SLA.FirstResponse.pause(now, reg.Calendar)
		c.st.SLA.NextResponse.pause(now, reg.Calendar)
	}
	c.st.Status = StatusClosed
	c.st.CloseReason = reason
	c.st.ClosedAt = &now
	c.changed = true
}

// --- channel events ---------------------------------------------------------------------------

func (c *conversation) onClientMessage(ctx workflow.Context, m ClientMessage) {
	if c.st.Status == StatusClosed {
		// The chat forwarded this before it learnt of the close: hand the message back so it
		// opens a new conversation rather than leaving it here.
		c.notifyChat(ctx, ConversationChanged{Number: c.st.Number, Status: StatusClosed, LateMessages: []ClientMessage{m}})
		return
	}
	now := workflow.Now(ctx)
	project := false
	if c.st.Status == StatusPaused {
		c.resumeNow(now)
		c.event(now, 0, "resumed", map[string]any{"by": "client_message"})
		project = true
	}
	if c.clientWrote(now) {
		project = true
	}
	c.changed = true
	if project {
		_ = c.commit(ctx)
	}
}

// clientWrote notes a client message; it returns true when a client turn starts (the response
// clocks start then).
func (c *conversation) clientWrote(at time.Time) bool {
	c.st.LastActivity = at
	if c.st.ClientWaiting {
		return false
	}
	c.st.ClientWaiting = true
	if reg := c.line.Regulation; reg != nil {
		if !c.st.Responded {
			if c.st.SLA.FirstResponse.Since.IsZero() {
				c.st.SLA.FirstResponse.start(reg.FirstResponse, at)
			}
		} else {
			c.st.SLA.NextResponse.start(reg.NextResponse, at)
		}
		if c.st.Status == StatusPaused && reg.PauseStopsClock {
			c.st.SLA.pauseAll(at, reg.Calendar)
		}
	}
	return true
}

func (c *conversation) onCSAT(ctx workflow.Context, a CSATAnswer) {
	if !c.st.CSATSent || c.st.CSAT != 0 || a.Score < CSATBad || a.Score > CSATExcellent {
		return
	}
	now := workflow.Now(ctx)
	c.st.CSAT = a.Score
	c.event(now, 0, "csat_answered", map[string]any{"score": a.Score})
	if text := c.standardMessages(ctx).CSATThanks; text != "" {
		_, _ = c.send(ctx, RecordMessageInput{Direction: DirectionOut, Text: text, Kind: "csat_thanks"})
	}
	_ = c.commit(ctx)
}

func (c *conversation) onRegulationChanged(ctx workflow.Context, r RegulationChanged) {
	if c.st.Status == StatusClosed {
		return
	}
	now := workflow.Now(ctx)
	old := c.line.Regulation
	if r.Line != nil {
		line := *r.Line
		c.line = line
		c.event(now, 0, "line_changed", map[string]any{"auto_close_after": line.AutoCloseAfter.String(),
			"merge_replies_after_close": line.MergeRepliesAfterClose, "paused_client_message": line.PausedClientMessage})
	}
	c.line.Regulation = r.Regulation
	if !sameRegulation(old, r.Regulation) {
		c.st.SLA.rearm(old, r.Regulation, slaContext{now: now, paused: c.st.Status == StatusPaused,
			responded: c.st.Responded, clientWaiting: c.st.ClientWaiting})
		var regID int64
		if r.Regulation != nil {
			regID = r.Regulation.ID
		}
		c.event(now, 0, "regulation_changed", map[string]any{"regulation_id": regID})
	}
	c.changed = true
	_ = c.commit(ctx)
}

// sameRegulation tells whether two regulations would time the clocks alike.
func sameRegulation(a, b *Regulation) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID && a.FirstResponse == b.FirstResponse && a.NextResponse == b.NextResponse &&
		a.Resolution == b.Resolution && a.WarnBefore == b.WarnBefore && a.PauseStopsClock == b.PauseStopsClock &&
		sameCalendar(a.Calendar, b.Calendar)
}

// sameCalendar compares two (validated) calendars day by day, in a fixed order.
func sameCalendar(a, b Calendar) bool {
	if a.TimeZone != b.TimeZone || !slices.Equal(a.Holidays, b.Holidays) || len(a.Week) != len(b.Week) {
		return false
	}
	for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		if !slices.Equal(a.Week[day], b.Week[day]) {
			return false
		}
	}
	return true
}

// --- effects ----------------------------------------------------------------------------------

var localOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
	},
}

// linkOptions are those of the chat's read-model work on the inbound path: the messages are
// already durable, so routing them waits out a long PostgreSQL outage rather than give up.
var linkOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: 7 * 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute,
	},
}

var deliveryOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute,
	},
}

var backgroundOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    time.Minute,
	ScheduleToCloseTimeout: time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
		MaximumAttempts: 10,
	},
}

func (c *conversation) local(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, localOptions)
}

// record stores a message in the read model.
func (c *conversation) record(ctx workflow.Context, m RecordMessageInput) error {
	m.ChatID, m.ConversationNumber = c.st.ChatID, c.st.Number
	return workflow.ExecuteLocalActivity(c.local(ctx), ActivityRecordMessage, m).Get(ctx, nil)
}

// send records an outbound message and queues its delivery; it returns the message id.
func (c *conversation) send(ctx workflow.Context, m RecordMessageInput) (string, error) {
	if m.ID == "" {
		m.ID = newID(ctx)
	}
	if m.At.IsZero() {
		m.At = workflow.Now(ctx)
	}
	m.Status = MessagePending
	if err := c.record(ctx, m); err != nil {
		return "", err
	}
	c.outbox.push(m.ID)
	return m.ID, nil
}

// runBackground runs a side effect that must not hold up the operator's answer, and records an
// event when it is done.
func (c *conversation) runBackground(ctx workflow.Context, activity string, in any, doneEvent string) {
	c.background++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { c.background-- }()
		actx := workflow.WithActivityOptions(ctx, backgroundOptions)
		var out map[string]any
		err := workflow.ExecuteActivity(actx, activity, in).Get(ctx, &out)
		_ = c.locked(ctx, func(ctx workflow.Context) error {
			now := workflow.Now(ctx)
			if err != nil {
				c.event(now, 0, doneEvent+"_failed", map[string]any{"error": errorMessage(err)})
			} else {
				c.event(now, 0, doneEvent, out)
			}
			return c.commit(ctx)
		})
	})
}

func (c *conversation) addParticipants(ctx workflow.Context, ids []int64, by int64) {
	if len(ids) == 0 {
		return
	}
	now := workflow.Now(ctx)
	c.runBackground(ctx, ActivityAddParticipants, AddParticipantsInput{
		Number: c.st.Number, Title: c.st.Title, UserIDs: ids, AddedBy: by,
		StartsAt: now.Add(5 * time.Minute), At: now}, "participants_notified")
}

func (c *conversation) standardMessages(ctx workflow.Context) StandardMessages {
	if c.std == nil {
		var std StandardMessages
		if err := workflow.ExecuteLocalActivity(c.local(ctx), ActivityLoadStandardMessages).Get(ctx, &std); err != nil {
			std = DefaultStandardMessages()
		}
		c.std = &std
	}
	return *c.std
}

// event appends a timeline entry, written with the next projection.
func (c *conversation) event(at time.Time, actor int64, kind string, data map[string]any) {
	c.st.EventSeq++
	c.pending = append(c.pending, Event{Seq: c.st.EventSeq, At: at, ActorID: actor, Kind: kind, Data: data})
}

func (c *conversation) snapshot() ConversationState {
	st := c.st
	st.Due = c.st.SLA.dueTimes(c.line.Regulation)
	st.Overdue = c.st.SLA.overdue()
	st.Participants = slices.Clone(c.st.Participants)
	st.Reasons = slices.Clone(c.st.Reasons)
	st.Components = slices.Clone(c.st.Components)
	return st
}

func (c *conversation) snapshotResult(messageID string) ActionResult {
	return ActionResult{State: c.snapshot(), MessageID: messageID}
}

// commit writes the state and pending events to the read model and tells the chat about a
// status change.
func (c *conversation) commit(ctx workflow.Context) error {
	return c.commitNotify(ctx, 0)
}

func (c *conversation) commitNotify(ctx workflow.Context, followUp int64) error {
	c.st.Revision++
	c.changed = true
	in := ProjectConversationInput{State: c.snapshot(), Events: c.pending, RepliedAt: c.repliedAt}
	c.pending, c.repliedAt = nil, nil
	var told workflow.Future
	if c.st.Status != c.notified || followUp != 0 {
		c.notified = c.st.Status
		told = c.notifyChat(ctx, ConversationChanged{Number: c.st.Number, Status: c.st.Status, FollowUpAssignee: followUp})
	}
	if err := workflow.ExecuteLocalActivity(c.local(ctx), ActivityProjectConversation, in).Get(ctx, nil); err != nil {
		return err
	}
	if told != nil {
		// The operator's action answers once the chat has the new status in its history, so the
		// next client message or automated message is judged by it (paused, closed…).
		_ = told.Get(ctx, nil)
	}
	return nil
}

func (c *conversation) result(ctx workflow.Context, messageID string) (ActionResult, error) {
	if err := c.commit(ctx); err != nil {
		return ActionResult{}, err
	}
	return c.snapshotResult(messageID), nil
}

func (c *conversation) resultNotify(ctx workflow.Context, followUp int64) (ActionResult, error) {
	if err := c.commitNotify(ctx, followUp); err != nil {
		return ActionResult{}, err
	}
	return c.snapshotResult(""), nil
}

// notifyChat signals the parent chat; a chat that is not running has nothing to learn.
func (c *conversation) notifyChat(ctx workflow.Context, m ConversationChanged) workflow.Future {
	f := workflow.SignalExternalWorkflow(ctx, ChatWorkflowID(c.st.ChatID), "", SignalConversationChanged, m)
	// Background work: the server drops a signal whose sender has already finished (or continued
	// as new), so the workflow waits until the chat has it.
	c.background++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { c.background-- }()
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("chat not told of conversation change", "error", err)
		}
	})
	return f
}

// newID returns a fresh message id, recorded in history so replays see the same one.
func newID(ctx workflow.Context) string {
	var id string
	_ = workflow.SideEffect(ctx, func(workflow.Context) any { return uuid.Must(uuid.NewV7()).String() }).Get(&id)
	return id
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func errorMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// DefaultStandardMessages are the texts used until an admin edits them.
func DefaultStandardMessages() StandardMessages {
	return StandardMessages{
		CSATQuestion:  "Please rate our answer",
		CSATBad:       "Bad",
		CSATNormal:    "Normal",
		CSATExcellent: "Excellent",
		CSATThanks:    "Thank you for your rating!",
		AutoClose:     "The conversation was closed because of inactivity. Write to us again any time.",
	}
}
