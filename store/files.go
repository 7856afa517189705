package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/linedesk/linedesk/blobstore"
	"github.com/linedesk/linedesk/filelink"
)

// File is a stored file's record; its bytes travel apart (SaveFile, FileData).
type File struct {
	ID          uuid.UUID  `json:"id"`
	ChatID      *uuid.UUID `json:"chat_id"`
	Name        string     `json:"name"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	UploadedBy  *int64     `json:"uploaded_by,omitempty"`
	// Public: anyone holding the link reads the file (knowledge-base images).
	Public    bool      `json:"public,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ErrNoStorage means the store was given no attachment storage (WithBlobs).
var ErrNoStorage = errors.New("no attachment storage is configured")

// WithBlobs returns the store keeping attachments' bytes in b.
func (s *Store) WithBlobs(b blobstore.Store) *Store {
	c := *s
	c.blobs = b
	return &c
}

// FileLinks signs links to files for those who fetch them without signing in; its key is
// derived from the secrets key, so every replica signs and checks alike. Links signed with an
// old key (LINEDESK_SECRETS_OLD_KEYS) stay valid until they expire or the old key goes.
func (s *Store) FileLinks() filelink.Signer {
	keys := s.box.DeriveAll("file links")
	return filelink.New(keys[0], keys[1:]...)
}

// KeyFor is a key for purpose derived from the secrets key (signing an OAuth state, say): the
// same in every process of the installation, useless for anything else.
func (s *Store) KeyFor(purpose string) []byte { return s.box.Derive(purpose) }

// blobKey is where a file's bytes live: spread over 256 directories by the id's first byte.
func blobKey(id uuid.UUID) string {
	h := id.String()
	return "files/" + h[:2] + "/" + h
}

func (s *Store) putBlob(ctx context.Context, id uuid.UUID, contentType string, data []byte) (string, error) {
	if s.blobs == nil {
		return "", ErrNoStorage
	}
	key := blobKey(id)
	if err := s.blobs.Put(ctx, key, data, contentType); err != nil {
		return "", fmt.Errorf("store file: %w", err)
	}
	return key, nil
}

// SaveFile stores a file in the chat of conversation number; the file's id is new and random.
// The bytes go to the storage first: a failure after that leaves unreferenced bytes, never a
// record without them. ErrNotFound when there is no such conversation.
func (s *Store) SaveFile(ctx context.Context, number int64, name, contentType string, uploadedBy int64, data []byte) (File, error) {
	var chatID uuid.UUID
	if err := s.pool.QueryRow(ctx, `SELECT chat_id FROM conversations WHERE number = $1`, number).Scan(&chatID); err != nil {
		return File{}, translate(err, "save file")
	}
	f := File{ID: uuid.New(), ChatID: &chatID, Name: name, ContentType: contentType, Size: int64(len(data)), UploadedBy: &uploadedBy}
	key, err := s.putBlob(ctx, f.ID, contentType, data)
	if err != nil {
		return File{}, err
	}
	sum := sha256.Sum256(data)
	err = s.pool.QueryRow(ctx, `INSERT INTO files (id, chat_id, name, content_type, size, sha256, uploaded_by, blob_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at`,
		f.ID, chatID, name, contentType, f.Size, sum[:], uploadedBy, key).Scan(&f.CreatedAt)
	return f, translate(err, "save file")
}

// SavePublicFile stores a file anyone holding its link may read (an article's image), in no chat.
func (s *Store) SavePublicFile(ctx context.Context, name, contentType string, uploadedBy int64, data []byte) (File, error) {
	f := File{ID: uuid.New(), Name: name, ContentType: contentType, Size: int64(len(data)), UploadedBy: &uploadedBy, Public: true}
	key, err := s.putBlob(ctx, f.ID, contentType, data)
	if err != nil {
		return File{}, err
	}
	sum := sha256.Sum256(data)
	err = s.pool.QueryRow(ctx, `INSERT INTO files (id, name, content_type, size, sha256, uploaded_by, blob_key, public)
		VALUES ($1, $2, $3, $4, $5, $6, $7, true) RETURNING created_at`,
		f.ID, name, contentType, f.Size, sum[:], uploadedBy, key).Scan(&f.CreatedAt)
	return f, translate(err, "save public file")
}

// SaveChannelFile stores a file a client sent through a channel, before its message (and maybe
// its chat) exists. The caller derives id from the event, so a redelivered event stores nothing
// new: the same bytes go to the same key and the first record stands.
func (s *Store) SaveChannelFile(ctx context.Context, id uuid.UUID, name, contentType string, data []byte) (File, error) {
	f := File{ID: id, Name: name, ContentType: contentType, Size: int64(len(data))}
	key, err := s.putBlob(ctx, id, contentType, data)
	if err != nil {
		return File{}, err
	}
	sum := sha256.Sum256(data)
	_, err = s.pool.Exec(ctx, `INSERT INTO files (id, name, content_type, size, sha256, blob_key) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO NOTHING`, id, name, contentType, f.Size, sum[:], key)
	return f, translate(err, "save channel file")
}

// LinkFilesToChat gives files a channel stored ahead of their message the chat the message
// joined, so the chat's operators may read them.
func (s *Store) LinkFilesToChat(ctx context.Context, ids []uuid.UUID, chatID uuid.UUID) error {
	_, err := s.pool.Exec(ctx, `UPDATE files SET chat_id = $2 WHERE id = ANY($1) AND chat_id IS NULL`, ids, chatID)
	return translate(err, "link files to chat")
}

// FileInfo returns a file's record; ErrNotFound for an unknown id.
func (s *Store) FileInfo(ctx context.Context, id uuid.UUID) (File, error) {
	var f File
	err := s.pool.QueryRow(ctx, `SELECT id, chat_id, name, content_type, size, uploaded_by, public, created_at FROM files WHERE id = $1`, id).
		Scan(&f.ID, &f.ChatID, &f.Name, &f.ContentType, &f.Size, &f.UploadedBy, &f.Public, &f.CreatedAt)
	return f, translate(err, "file")
}

// FileData reads a file with its bytes; ErrNotFound for an unknown id.
func (s *Store) FileData(ctx context.Context, id uuid.UUID) (File, []byte, error) {
	var f File
	var data []byte
	var key *string
	err := s.pool.QueryRow(ctx, `SELECT id, chat_id, name, content_type, size, uploaded_by, created_at, data, blob_key
		FROM files WHERE id = $1`, id).
		Scan(&f.ID, &f.ChatID, &f.Name, &f.ContentType, &f.Size, &f.UploadedBy, &f.CreatedAt, &data, &key)
	if err != nil {
		return f, nil, translate(err, "file")
	}
	if key == nil {
		return f, data, nil // stored before the storage existed, not moved yet
	}
	if s.blobs == nil {
		return f, nil, ErrNoStorage
	}
	data, err = s.blobs.Get(ctx, *key)
	if err != nil {
		return f, nil, fmt.Errorf("file %s: %w", id, err)
	}
	return f, data, nil
}

// MoveFilesToBlobs moves the bytes of files kept in PostgreSQL to the storage, a batch at a
// time, and returns how many it moved; running it again moves none.
func (s *Store) MoveFilesToBlobs(ctx context.Context) (int, error) {
	if s.blobs == nil {
		return 0, ErrNoStorage
	}
	moved := 0
	for {
		n := 0
		err := s.InTx(ctx, func(tx *Store) error {
			rows, err := tx.pool.Query(ctx, `SELECT id, content_type, data FROM files WHERE blob_key IS NULL LIMIT 20 FOR UPDATE SKIP LOCKED`)
			if err != nil {
				return translate(err, "move files")
			}
			type row struct {
				id   uuid.UUID
				ct   string
				data []byte
			}
			all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
				var x row
				err := r.Scan(&x.id, &x.ct, &x.data)
				return x, err
			})
			if err != nil {
				return translate(err, "move files")
			}
			for _, x := range all {
				key, err := s.putBlob(ctx, x.id, x.ct, x.data)
				if err != nil {
					return err
				}
				if _, err := tx.pool.Exec(ctx, `UPDATE files SET blob_key = $2, data = NULL WHERE id = $1`, x.id, key); err != nil {
					return translate(err, "move files")
				}
			}
			n = len(all)
			return nil
		})
		if err != nil {
			return moved, err
		}
		moved += n
		if n == 0 {
			return moved, nil
		}
	}
}
