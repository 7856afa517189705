package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Task kinds: a conversation assigned to the user, or one they were added to as a participant.
const (
	TaskAssignment  = "assignment"
	TaskParticipant = "participant"
)

// Task is a personal task: a conversation assigned to the user (kept by the conversations_tasks
// trigger as the conversation is assigned, passed on and closed), or one a manager was added to.
type Task struct {
	ID                 int64      `json:"id"`
	Kind               string     `json:"kind"`
	AssigneeID         int64      `json:"assignee_id"`
	ConversationNumber *int64     `json:"conversation"`
	Title              string     `json:"title"`
	StartsAt           time.Time  `json:"starts_at"`
	CreatedBy          *int64     `json:"created_by"`
	CreatedAt          time.Time  `json:"created_at"`
	DoneAt             *time.Time `json:"done_at"`
}

// ParticipantTasks gives each user a task for the conversation and a notification that it starts
// soon; a repeated call for the same user and conversation adds nothing.
func (s *Store) ParticipantTasks(ctx context.Context, number int64, title string, userIDs []int64, addedBy int64, startsAt time.Time) error {
	batch := &pgx.Batch{}
	var by *int64
	if addedBy != 0 {
		by = &addedBy
	}
	if title == "" {
		title = fmt.Sprintf("Conversation #%d", number)
	}
	for _, u := range userIDs {
		batch.Queue(`INSERT INTO tasks (assignee_id, conversation_number, title, starts_at, created_by)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (assignee_id, conversation_number, kind) DO NOTHING`, u, number, title, startsAt, by)
		data, _ := json.Marshal(map[string]any{"conversation": number, "starts_at": startsAt})
		batch.Queue(`INSERT INTO notifications (user_id, kind, text, data, dedupe_key) VALUES ($1, 'task_starts', $2, $3, $4)
			ON CONFLICT (dedupe_key) DO NOTHING`, u, fmt.Sprintf("The task \"%s\" starts in 5 minutes", title), data,
			fmt.Sprintf("task_starts:%d:%d", number, u))
	}
	return translate(s.pool.SendBatch(ctx, batch).Close(), "participant tasks")
}

// Task statuses a list may ask for.
const (
	TaskOpen = "open"
	TaskDone = "done"
)

const taskColumns = `id, kind, assignee_id, conversation_number, title, starts_at, created_by, created_at, done_at`

func scanTask(r rowScanner) (Task, error) {
	var t Task
	err := r.Scan(&t.ID, &t.Kind, &t.AssigneeID, &t.ConversationNumber, &t.Title, &t.StartsAt, &t.CreatedBy, &t.CreatedAt, &t.DoneAt)
	return t, err
}

// TasksOf lists a user's tasks: only open or done ones when status says so (TaskOpen,
// TaskDone), else all with the open ones first. Open tasks are listed soonest first, done ones
// latest first, at most 500: done tasks pile up, and must not push the open ones off the list.
func (s *Store) TasksOf(ctx context.Context, userID int64, status string) ([]Task, error) {
	switch status {
	case TaskOpen:
		return queryAll(ctx, s, "tasks", `SELECT `+taskColumns+` FROM tasks WHERE assignee_id = $1 AND done_at IS NULL
			ORDER BY starts_at, id LIMIT 500`, scanTask, userID)
	case TaskDone:
		return queryAll(ctx, s, "tasks", `SELECT `+taskColumns+` FROM tasks WHERE assignee_id = $1 AND done_at IS NOT NULL
			ORDER BY done_at DESC, id DESC LIMIT 500`, scanTask, userID)
	}
	return queryAll(ctx, s, "tasks", `SELECT `+taskColumns+` FROM tasks WHERE assignee_id = $1
		ORDER BY done_at IS NOT NULL, CASE WHEN done_at IS NULL THEN starts_at END, done_at DESC, id LIMIT 500`, scanTask, userID)
}

// CompleteTask marks one of the user's tasks done. ErrNotFound: no such task of theirs;
// ErrConflict: it is done already.
func (s *Store) CompleteTask(ctx context.Context, userID, id int64) (Task, error) {
	t, err := scanTask(s.pool.QueryRow(ctx, `UPDATE tasks SET done_at = now() WHERE id = $1 AND assignee_id = $2 AND done_at IS NULL
		RETURNING `+taskColumns, id, userID))
	if !errors.Is(err, pgx.ErrNoRows) {
		return t, translate(err, "complete task")
	}
	var done bool
	err = s.pool.QueryRow(ctx, `SELECT done_at IS NOT NULL FROM tasks WHERE id = $1 AND assignee_id = $2`, id, userID).Scan(&done)
	if err != nil {
		return t, translate(err, "complete task")
	}
	return t, fmt.Errorf("complete task %d: %w", id, ErrConflict)
}

// Notification is a message to one user.
type Notification struct {
	ID        int64           `json:"id"`
	Kind      string          `json:"kind"`
	Text      string          `json:"text"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
	ReadAt    *time.Time      `json:"read_at"`
}

// NotificationsOf lists a user's latest notifications (only unread ones when asked).
func (s *Store) NotificationsOf(ctx context.Context, userID int64, unreadOnly bool) ([]Notification, error) {
	return queryAll(ctx, s, "notifications", `SELECT id, kind, text, data, created_at, read_at FROM notifications
		WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL) ORDER BY created_at DESC, id DESC LIMIT 100`, func(r rowScanner) (Notification, error) {
		var n Notification
		err := r.Scan(&n.ID, &n.Kind, &n.Text, &n.Data, &n.CreatedAt, &n.ReadAt)
		return n, err
	}, userID, unreadOnly)
}

// UnreadNotifications counts a user's unread notifications.
func (s *Store) UnreadNotifications(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	return n, translate(err, "unread notifications")
}

// MarkNotificationsRead marks the user's notifications read: the given ids, or all when ids is
// nil. Another user's ids are ignored. It returns how many it marked.
func (s *Store) MarkNotificationsRead(ctx context.Context, userID int64, ids []int64) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE notifications SET read_at = now()
		WHERE user_id = $1 AND read_at IS NULL AND ($2::bigint[] IS NULL OR id = ANY($2))`, userID, ids)
	return tag.RowsAffected(), translate(err, "mark notifications read")
}

// UserExists reports whether an enabled user has this id.
func (s *Store) UserExists(ctx context.Context, id int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL)`, id).Scan(&ok)
	return ok, translate(err, "user exists")
}
