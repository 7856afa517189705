package store

import (
	"context"
	"encoding/json"
	"time"
)

// AuditMacro is a macro in the audit log.
var AuditMacro = auditEntity("macro")

// MacroAction is one step of a macro: Type take, pause, tags (Add, Remove), priority (Value),
// reply or note (Text), close (Text as the solution, SendCSAT).
type MacroAction struct {
	Type     string   `json:"type"`
	Text     string   `json:"text,omitempty"`
	Value    string   `json:"value,omitempty"`
	Add      []string `json:"add,omitempty"`
	Remove   []string `json:"remove,omitempty"`
	SendCSAT bool     `json:"send_csat,omitempty"`
}

// Macro is a named list of actions an operator applies with one click (issue 12, X15).
type Macro struct {
	ID        int64         `json:"id"`
	Name      string        `json:"name"`
	Actions   []MacroAction `json:"actions"`
	CreatedBy *int64        `json:"created_by"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

const macroColumns = `id, name, actions, created_by, created_at, updated_at`

func scanMacro(r rowScanner) (Macro, error) {
	var m Macro
	var actions []byte
	err := r.Scan(&m.ID, &m.Name, &actions, &m.CreatedBy, &m.CreatedAt, &m.UpdatedAt)
	if err == nil {
		err = json.Unmarshal(actions, &m.Actions)
	}
	return m, err
}

// Macros lists the macros by name.
func (s *Store) Macros(ctx context.Context) ([]Macro, error) {
	return queryAll(ctx, s, "macros", `SELECT `+macroColumns+` FROM macros ORDER BY lower(name), id LIMIT 500`, scanMacro)
}

// MacroByID reads a macro; ErrNotFound for an unknown id.
func (s *Store) MacroByID(ctx context.Context, id int64) (Macro, error) {
	m, err := scanMacro(s.pool.QueryRow(ctx, `SELECT `+macroColumns+` FROM macros WHERE id = $1`, id))
	return m, translate(err, "macro")
}

// SaveMacro creates (ID 0) or replaces a macro; ErrConflict: another macro has the name.
func (s *Store) SaveMacro(ctx context.Context, m Macro) (Macro, error) {
	actions, _ := json.Marshal(m.Actions) // plain data always marshals
	if m.ID == 0 {
		out, err := scanMacro(s.pool.QueryRow(ctx, `INSERT INTO macros (name, actions, created_by) VALUES ($1, $2, $3)
			RETURNING `+macroColumns, m.Name, actions, m.CreatedBy))
		return out, translate(err, "create macro")
	}
	out, err := scanMacro(s.pool.QueryRow(ctx, `UPDATE macros SET name = $2, actions = $3, updated_at = now() WHERE id = $1
		RETURNING `+macroColumns, m.ID, m.Name, actions))
	return out, translate(err, "update macro")
}

// DeleteMacro deletes a macro; ErrNotFound when there is none with the id.
func (s *Store) DeleteMacro(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM macros WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate(err, "delete macro")
}
