package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// LineSettings is how a line's conversations behave; it is kept as one JSON document so new
// settings need no migration.
type LineSettings struct {
	// AutoOpen: every first message opens a conversation (seed 002); otherwise messages stay in
	// the chat until an operator opens a dialog (seed 003).
	AutoOpen bool `json:"auto_open"`
	// AutoCloseMinutes closes an active or paused conversation after this much inactivity (0: never).
	AutoCloseMinutes int `json:"auto_close_minutes"`
	// AutoCloseText is sent to the client on auto-close ("" uses the standard message).
	AutoCloseText string `json:"auto_close_text"`
	// DefaultType is the request type new conversations get.
	DefaultType string `json:"default_type"`
	// PausedClientMessage: "resume" or "stay" when the client writes to a paused conversation.
	PausedClientMessage string `json:"paused_client_message"`
	// MergeRepliesAfterClose combines the operator's replies into one record on close.
	MergeRepliesAfterClose bool `json:"merge_replies_after_close"`
	// Routing is how queued conversations find an operator: "manual" (whoever takes it first,
	// seed 004), "round_robin" or "least_busy" over the line's online operators.
	Routing string `json:"routing"`
	// HideOperatorName: clients on messengers and the widget see only the line's name as the
	// author of replies, never the operator's (seed 004 "Имя оператора": show / only the line).
	HideOperatorName bool `json:"hide_operator_name"`
	// AwayPolicy is what happens to an operator's active conversations on this line when they
	// go away or offline: "keep" them, or "return" them to the queue for someone else.
	AwayPolicy string `json:"away_policy"`
	// GreetingText answers a client's new request at once ("" sends nothing); OutOfHoursText
	// answers it instead outside the business hours of the line's regulation (X04).
	GreetingText   string `json:"greeting_text"`
	OutOfHoursText string `json:"out_of_hours_text"`
	// ResponsibleUserID is the employee routing "responsible" offers the line's requests to.
	ResponsibleUserID int64 `json:"responsible_user_id,omitempty"`
	// RoutingRules send a request whose client has a custom field value (or whose conversation
	// has an attribute value) to the operators of one group; the first rule that matches wins.
	RoutingRules []RoutingRule `json:"routing_rules,omitempty"`
}

// RoutingRule is one rule of a line's routing by custom data (X01).
type RoutingRule struct {
	// Key is a client's custom field or a conversation's attribute; Value the value it must have.
	Key     string `json:"key"`
	Value   string `json:"value"`
	GroupID int64  `json:"group_id"`
}

// Line is who handles a set of channels.
type Line struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	RegulationID *int64 `json:"regulation_id"`
	LineSettings
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const lineColumns = `id, name, regulation_id, settings, created_at, updated_at`

func scanLine(row rowScanner) (Line, error) {
	var l Line
	var settings []byte
	if err := row.Scan(&l.ID, &l.Name, &l.RegulationID, &settings, &l.CreatedAt, &l.UpdatedAt); err != nil {
		return l, err
	}
	if err := json.Unmarshal(settings, &l.LineSettings); err != nil {
		return l, fmt.Errorf("line %d settings: %w", l.ID, err)
	}
	return l, nil
}

// CreateLine stores a new line.
func (s *Store) CreateLine(ctx context.Context, l Line) (Line, error) {
	settings, err := json.Marshal(l.LineSettings)
	if err != nil {
		return Line{}, err
	}
	out, err := scanLine(s.pool.QueryRow(ctx, `INSERT INTO lines (name, regulation_id, settings) VALUES ($1, $2, $3)
		RETURNING `+lineColumns, l.Name, l.RegulationID, settings))
	return out, translate(err, "create line")
}

// UpdateLine replaces a line's name, regulation and settings. updated_at is the line's revision:
// it moves only when something changed, so a repeated edit names the same revision (and the
// fan-out of that revision to open conversations is not started twice).
func (s *Store) UpdateLine(ctx context.Context, l Line) (Line, error) {
	settings, err := json.Marshal(l.LineSettings)
	if err != nil {
		return Line{}, err
	}
	out, err := scanLine(s.pool.QueryRow(ctx, `UPDATE lines SET name = $2, regulation_id = $3, settings = $4,
		updated_at = CASE WHEN (name, regulation_id, settings) IS DISTINCT FROM ($2::text, $3::bigint, $4::jsonb)
			THEN now() ELSE updated_at END
		WHERE id = $1 RETURNING `+lineColumns, l.ID, l.Name, l.RegulationID, settings))
	return out, translate(err, "update line")
}

// LineByID returns one line.
func (s *Store) LineByID(ctx context.Context, id int64) (Line, error) {
	l, err := scanLine(s.pool.QueryRow(ctx, `SELECT `+lineColumns+` FROM lines WHERE id = $1`, id))
	return l, translate(err, "line by id")
}

// Lines lists every line by id.
func (s *Store) Lines(ctx context.Context) ([]Line, error) {
	return queryAll(ctx, s, "list lines", `SELECT `+lineColumns+` FROM lines ORDER BY id`, scanLine)
}

// Regulation is an SLA with its business-hours calendar (kept as the JSON the workflows read).
type Regulation struct {
	ID                   int64           `json:"id"`
	Name                 string          `json:"name"`
	FirstResponseMinutes int             `json:"first_response_minutes"`
	NextResponseMinutes  int             `json:"next_response_minutes"`
	ResolutionMinutes    int             `json:"resolution_minutes"`
	WarnBeforeMinutes    int             `json:"warn_before_minutes"`
	PauseStopsClock      bool            `json:"pause_stops_clock"`
	Calendar             json.RawMessage `json:"calendar"`
	CreatedAt            time.Time       `json:"created_at"`
	UpdatedAt            time.Time       `json:"updated_at"`
}

type regulationSettings struct {
	FirstResponseMinutes int             `json:"first_response_minutes"`
	NextResponseMinutes  int             `json:"next_response_minutes"`
	ResolutionMinutes    int             `json:"resolution_minutes"`
	WarnBeforeMinutes    int             `json:"warn_before_minutes"`
	PauseStopsClock      bool            `json:"pause_stops_clock"`
	Calendar             json.RawMessage `json:"calendar"`
}

const regulationColumns = `id, name, settings, created_at, updated_at`

func scanRegulation(row rowScanner) (Regulation, error) {
	var r Regulation
	var raw []byte
	if err := row.Scan(&r.ID, &r.Name, &raw, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return r, err
	}
	var rs regulationSettings
	if err := json.Unmarshal(raw, &rs); err != nil {
		return r, fmt.Errorf("regulation %d settings: %w", r.ID, err)
	}
	r.FirstResponseMinutes, r.NextResponseMinutes, r.ResolutionMinutes = rs.FirstResponseMinutes, rs.NextResponseMinutes, rs.ResolutionMinutes
	r.WarnBeforeMinutes, r.PauseStopsClock, r.Calendar = rs.WarnBeforeMinutes, rs.PauseStopsClock, rs.Calendar
	if len(r.Calendar) == 0 {
		r.Calendar = json.RawMessage(`{}`)
	}
	return r, nil
}

func regulationJSON(r Regulation) ([]byte, error) {
	return json.Marshal(regulationSettings{r.FirstResponseMinutes, r.NextResponseMinutes, r.ResolutionMinutes,
		r.WarnBeforeMinutes, r.PauseStopsClock, r.Calendar})
}

// CreateRegulation stores a new regulation.
func (s *Store) CreateRegulation(ctx context.Context, r Regulation) (Regulation, error) {
	raw, err := regulationJSON(r)
	if err != nil {
		return Regulation{}, err
	}
	out, err := scanRegulation(s.pool.QueryRow(ctx, `INSERT INTO regulations (name, settings) VALUES ($1, $2)
		RETURNING `+regulationColumns, r.Name, raw))
	return out, translate(err, "create regulation")
}

// UpdateRegulation replaces a regulation. Like a line's, its updated_at moves only when something
// changed.
func (s *Store) UpdateRegulation(ctx context.Context, r Regulation) (Regulation, error) {
	raw, err := regulationJSON(r)
	if err != nil {
		return Regulation{}, err
	}
	out, err := scanRegulation(s.pool.QueryRow(ctx, `UPDATE regulations SET name = $2, settings = $3,
		updated_at = CASE WHEN (name, settings) IS DISTINCT FROM ($2::text, $3::jsonb) THEN now() ELSE updated_at END
		WHERE id = $1 RETURNING `+regulationColumns, r.ID, r.Name, raw))
	return out, translate(err, "update regulation")
}

// RegulationByID returns one regulation.
func (s *Store) RegulationByID(ctx context.Context, id int64) (Regulation, error) {
	r, err := scanRegulation(s.pool.QueryRow(ctx, `SELECT `+regulationColumns+` FROM regulations WHERE id = $1`, id))
	return r, translate(err, "regulation by id")
}

// Regulations lists every regulation by id.
func (s *Store) Regulations(ctx context.Context) ([]Regulation, error) {
	return queryAll(ctx, s, "list regulations", `SELECT `+regulationColumns+` FROM regulations ORDER BY id`, scanRegulation)
}

// OpenConversationsUsingRegulation lists, by number, the open conversations numbered above
// after whose line uses the regulation, so a changed regulation can re-arm their timers.
func (s *Store) OpenConversationsUsingRegulation(ctx context.Context, regulationID, after int64) ([]int64, error) {
	return s.numbers(ctx, `SELECT c.number FROM conversations c JOIN lines l ON l.id = c.line_id
		WHERE l.regulation_id = $1 AND c.status <> 'closed' AND c.number > $2 ORDER BY c.number`, regulationID, after)
}

// OpenConversationsOfLine lists, by number, a line's open conversations numbered above after.
func (s *Store) OpenConversationsOfLine(ctx context.Context, lineID, after int64) ([]int64, error) {
	return s.numbers(ctx, `SELECT number FROM conversations WHERE line_id = $1 AND status <> 'closed' AND number > $2
		ORDER BY number`, lineID, after)
}

// settingsFanOutLock is the advisory lock key of WithSettingsFanOutLock ("ldsettng" in ASCII).
const settingsFanOutLock int64 = 0x6c64_7365_7474_6e67

// WithSettingsFanOutLock runs fn while holding a database-wide lock that serialises the fan-outs
// of line and regulation edits to open conversations, across every worker. A fan-out reads the
// settings and signals the conversations inside fn, so each one delivers settings at least as new
// as every fan-out before it, and a conversation never receives an older setting last. The lock
// is transaction-scoped: it is released when fn returns, and by PostgreSQL when the connection
// or the worker dies.
func (s *Store) WithSettingsFanOutLock(ctx context.Context, fn func(ctx context.Context) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(err, "begin settings fan-out lock")
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, settingsFanOutLock); err != nil {
		return translate(err, "take settings fan-out lock")
	}
	if err := fn(ctx); err != nil {
		return err
	}
	return translate(tx.Commit(ctx), "release settings fan-out lock")
}

func (s *Store) numbers(ctx context.Context, sql string, args ...any) ([]int64, error) {
	return queryAll(ctx, s, "list conversation numbers", sql, func(r rowScanner) (int64, error) {
		var n int64
		err := r.Scan(&n)
		return n, err
	}, args...)
}

// Channel is one configured connection to a platform. Secrets never leave the store in it.
type Channel struct {
	ID        int64           `json:"id"`
	Kind      string          `json:"kind"`
	Name      string          `json:"name"`
	LineID    int64           `json:"line_id"`
	Settings  json.RawMessage `json:"settings"`
	Enabled   bool            `json:"enabled"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

const channelColumns = `id, kind, name, line_id, settings, enabled, created_at, updated_at`

func scanChannel(row rowScanner) (Channel, error) {
	var c Channel
	var settings []byte
	err := row.Scan(&c.ID, &c.Kind, &c.Name, &c.LineID, &settings, &c.Enabled, &c.CreatedAt, &c.UpdatedAt)
	c.Settings = settings
	return c, err
}

// ChannelSecrets are created with a channel and shown once.
type ChannelSecrets struct {
	InboundToken string `json:"inbound_token"`
	Secret       string `json:"secret"`
}

// CreateChannel stores a channel with a fresh inbound token (kept hashed) and signing secret.
func (s *Store) CreateChannel(ctx context.Context, c Channel) (Channel, ChannelSecrets, error) {
	secrets := ChannelSecrets{InboundToken: randomToken("ldi_"), Secret: randomToken("ldw_")}
	out, err := scanChannel(s.pool.QueryRow(ctx, `INSERT INTO channels (kind, name, line_id, settings, secret, inbound_token_hash, enabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+channelColumns,
		c.Kind, c.Name, c.LineID, []byte(c.Settings), s.box.Seal(purposeChannelSecret, []byte(secrets.Secret)), tokenHash(secrets.InboundToken), c.Enabled))
	if err != nil {
		return Channel{}, ChannelSecrets{}, translate(err, "create channel")
	}
	return out, secrets, nil
}

// UpdateChannel replaces a channel's name, line, settings and enabled flag.
func (s *Store) UpdateChannel(ctx context.Context, c Channel) (Channel, error) {
	out, err := scanChannel(s.pool.QueryRow(ctx, `UPDATE channels SET name = $2, line_id = $3, settings = $4, enabled = $5, updated_at = now()
		WHERE id = $1 RETURNING `+channelColumns, c.ID, c.Name, c.LineID, []byte(c.Settings), c.Enabled))
	return out, translate(err, "update channel")
}

// ChannelByID returns one channel.
func (s *Store) ChannelByID(ctx context.Context, id int64) (Channel, error) {
	c, err := scanChannel(s.pool.QueryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE id = $1`, id))
	return c, translate(err, "channel by id")
}

// VKChannelByGroup returns the vk channel of a community (the oldest, should there be two);
// ErrNotFound when none.
func (s *Store) VKChannelByGroup(ctx context.Context, groupID int64) (Channel, error) {
	c, err := scanChannel(s.pool.QueryRow(ctx, `SELECT `+channelColumns+` FROM channels
		WHERE kind = 'vk' AND settings->>'group_id' = $1::bigint::text ORDER BY id LIMIT 1`, groupID))
	return c, translate(err, "vk channel by group")
}

// ChannelByInboundToken authenticates an inbound call: the channel must match id and token.
func (s *Store) ChannelByInboundToken(ctx context.Context, id int64, token string) (Channel, error) {
	c, err := scanChannel(s.pool.QueryRow(ctx, `SELECT `+channelColumns+` FROM channels
		WHERE id = $1 AND inbound_token_hash = $2`, id, tokenHash(token)))
	return c, translate(err, "channel by inbound token")
}

// ChannelSecret returns a channel's signing secret (for outbound signatures).
func (s *Store) ChannelSecret(ctx context.Context, id int64) (string, error) {
	var secret []byte
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(secret, '') FROM channels WHERE id = $1`, id).Scan(&secret); err != nil {
		return "", translate(err, "channel secret")
	}
	plain, err := s.box.Open(purposeChannelSecret, secret)
	return string(plain), err
}

// Channels lists every channel by id.
func (s *Store) Channels(ctx context.Context) ([]Channel, error) {
	return queryAll(ctx, s, "list channels", `SELECT `+channelColumns+` FROM channels ORDER BY id`, scanChannel)
}

// StandardMessagesKey is the settings key of the standard messages (the texts the product sends
// clients). The API edits them and the conversations read them; the defaults and the type are the
// workflows contract's (workflows.StandardMessages).
const StandardMessagesKey = "standard_messages"

// Setting reads a JSON setting into v; found is false when it was never saved.
func (s *Store) Setting(ctx context.Context, key string, v any) (found bool, err error) {
	var raw []byte
	err = s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&raw)
	if err != nil {
		err = translate(err, "setting "+key)
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, json.Unmarshal(raw, v)
}

// PutSetting saves a JSON setting.
func (s *Store) PutSetting(ctx context.Context, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`, key, raw)
	return translate(err, "put setting "+key)
}
