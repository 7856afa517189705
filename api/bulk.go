package api

import (
	"context"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// maxBulkNumbers bounds the conversations one bulk request names.
const maxBulkNumbers = 100

// bulkParallel is how many conversations of a bulk request are worked on at once: enough to
// hide the workflow round trips, few enough not to crowd out other requests.
const bulkParallel = 4

// bulkResult is what happened to one conversation of a bulk request: the status and code its
// single route would have answered ("ok" when it went through).
type bulkResult struct {
	Number  int64  `json:"number"`
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
	// LeadID is the lead the conversation is in (convert).
	LeadID *int64 `json:"lead_id,omitempty"`
	// Link is the lead made in the line's external app instead (convert, F025).
	Link *store.ConversationLink `json:"link,omitempty"`
}

// bulkBody is a bulk action on the conversation list: assign takes assign's fields, close
// takes close's wrap-up, convert takes a topic.
type bulkBody struct {
	Action  string  `json:"action"`
	Numbers []int64 `json:"numbers"`
	Topic   string  `json:"topic"`
	assignBody
	closeBody
}

type bulkResponse struct {
	Action  string       `json:"action"`
	Results []bulkResult `json:"results"`
	// Leads are the leads a convert made.
	Leads []store.Lead `json:"leads,omitempty"`
}

// checkNumbers checks a bulk request's conversation numbers and drops repeats, keeping order.
func checkNumbers(numbers []int64) ([]int64, error) {
	var problems fieldErrors
	if len(numbers) == 0 {
		problems.add("numbers is required: the conversations to act on")
	}
	if len(numbers) > maxBulkNumbers {
		// Refused before looking at each one: a long list costs nothing to turn away.
		problems.add("numbers: at most %d conversations at once", maxBulkNumbers)
		return nil, problems.err()
	}
	for i, n := range numbers {
		if n <= 0 {
			problems.add("numbers[%d] must be a conversation number", i)
		}
	}
	return dedupe(numbers), problems.err()
}

// bulkConversations runs one action on many conversations, each through the code its single
// route runs, and reports each one's outcome; one conversation's refusal does not stop the others.
func (s *Server) bulkConversations(c echo.Context) error {
	var body bulkBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	numbers, err := checkNumbers(body.Numbers)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	var run func(ctx context.Context, n, line int64, who workflows.ActionRequest) error
	switch body.Action {
	case "assign":
		if err := s.checkAssignBody(ctx, body.assignBody); err != nil {
			return err
		}
		id := requestID(c.Request().Header, workflows.UpdateAssign)
		run = func(ctx context.Context, n, line int64, who workflows.ActionRequest) error {
			return s.assign(ctx, workflows.UpdateAssign, n, line, who, body.assignBody, id)
		}
	case "close":
		if err := s.checkCloseBody(ctx, body.closeBody); err != nil {
			return err
		}
		id := requestID(c.Request().Header, workflows.UpdateClose)
		run = func(ctx context.Context, n, _ int64, who workflows.ActionRequest) error {
			return s.close(ctx, n, who, body.closeBody, id)
		}
	case "convert":
		if err := checkTopic(body.Topic); err != nil {
			return err
		}
		leads, results, err := s.convert(ctx, u, numbers, body.Topic, s.baseURL(c))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, bulkResponse{Action: body.Action, Results: results, Leads: leads})
	default:
		return newError(http.StatusBadRequest, "invalid_fields", "action must be assign, close or convert")
	}
	results := make([]bulkResult, len(numbers))
	sem := make(chan struct{}, bulkParallel)
	var wg sync.WaitGroup
	for i, n := range numbers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			role, line, err := s.conversationRole(ctx, n, u)
			if err == nil {
				err = run(ctx, n, line, workflows.ActionRequest{ActorID: u.ID, ActorRole: role})
			}
			results[i] = s.bulkOutcome(ctx, n, err)
		}()
	}
	wg.Wait()
	return c.JSON(http.StatusOK, bulkResponse{Action: body.Action, Results: results})
}

// bulkOutcome is the result a single route's answer becomes; unexpected failures are logged
// and reported without their details, as the error handler does.
func (s *Server) bulkOutcome(ctx context.Context, n int64, err error) bulkResult {
	if err == nil {
		return bulkResult{Number: n, Status: http.StatusOK, Code: "ok"}
	}
	e := toAPIError(err)
	if e.Status >= 500 {
		s.logger.ErrorContext(ctx, "bulk action failed", "conversation", n, "error", err)
	}
	return bulkResult{Number: n, Status: e.Status, Code: e.Code, Message: e.Message}
}
