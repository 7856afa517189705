package store

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/google/uuid"
)

// File is a stored file's record; its bytes travel apart (SaveFile, FileData).
type File struct {
	ID          uuid.UUID  `json:"id"`
	ChatID      *uuid.UUID `json:"chat_id"`
	Name        string     `json:"name"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	UploadedBy  *int64     `json:"uploaded_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// SaveFile stores a file in the chat of conversation number; the file's id is new and random
// (it is the file's link). ErrNotFound when there is no such conversation.
func (s *Store) SaveFile(ctx context.Context, number int64, name, contentType string, uploadedBy int64, data []byte) (File, error) {
	sum := sha256.Sum256(data)
	f := File{ID: uuid.New(), Name: name, ContentType: contentType, Size: int64(len(data)), UploadedBy: &uploadedBy}
	err := s.pool.QueryRow(ctx, `INSERT INTO files (id, chat_id, name, content_type, size, sha256, uploaded_by, data)
		SELECT $1, c.chat_id, $3, $4, $5, $6, $7, $8 FROM conversations c WHERE c.number = $2
		RETURNING chat_id, created_at`,
		f.ID, number, name, contentType, f.Size, sum[:], uploadedBy, data).Scan(&f.ChatID, &f.CreatedAt)
	return f, translate(err, "save file")
}

// SaveChannelFile stores a file a client sent through a channel, before its message (and maybe
// its chat) exists. The caller derives id from the event, so a redelivered event stores nothing
// new: the first copy stands.
func (s *Store) SaveChannelFile(ctx context.Context, id uuid.UUID, name, contentType string, data []byte) (File, error) {
	sum := sha256.Sum256(data)
	f := File{ID: id, Name: name, ContentType: contentType, Size: int64(len(data))}
	_, err := s.pool.Exec(ctx, `INSERT INTO files (id, name, content_type, size, sha256, data) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO NOTHING`, id, name, contentType, f.Size, sum[:], data)
	return f, translate(err, "save channel file")
}

// FileData reads a file with its bytes; ErrNotFound for an unknown id.
func (s *Store) FileData(ctx context.Context, id uuid.UUID) (File, []byte, error) {
	var f File
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT id, chat_id, name, content_type, size, uploaded_by, created_at, data
		FROM files WHERE id = $1`, id).
		Scan(&f.ID, &f.ChatID, &f.Name, &f.ContentType, &f.Size, &f.UploadedBy, &f.CreatedAt, &data)
	return f, data, translate(err, "file")
}
