// Package blobstore keeps the bytes of attachments — clients' media from every channel,
// operators' uploads, call recordings — in one place chosen by configuration: a directory (dev's
// data dir, or a volume every replica shares) or S3-compatible object storage (AWS S3, MinIO,
// Yandex Object Storage…) through minio-go. PostgreSQL keeps each file's record; the bytes live
// here under a key derived from the file's id.
package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ErrNotFound means no object has the key.
var ErrNotFound = errors.New("blobstore: no such object")

// Store keeps objects by key. Keys are slash-separated paths of letters, digits, '-', '_' and
// '.', without empty, "." or ".." segments.
type Store interface {
	// Put stores data under key, replacing what was there.
	Put(ctx context.Context, key string, data []byte, contentType string) error
	// Get returns the object's bytes.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes the object; a missing one is no error.
	Delete(ctx context.Context, key string) error
	// String names the store for logs, without credentials.
	String() string
}

// CheckKey reports whether key is a valid object key.
func CheckKey(key string) error {
	if key == "" || len(key) > 512 {
		return fmt.Errorf("blobstore: bad key %q", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("blobstore: bad key %q", key)
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				return fmt.Errorf("blobstore: bad key %q", key)
			}
		}
	}
	return nil
}

// Open opens the store a URL names:
//
//	file:///var/lib/linedesk/files   a directory
//	s3://bucket/prefix?endpoint=host:port&region=ru-central1&secure=true
//
// For s3, the access key and secret come from the URL's user info or from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY; endpoint defaults to s3.amazonaws.com; secure (TLS) defaults to true.
func Open(raw string) (Store, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("storage URL: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" || u.Host != "" {
			return nil, fmt.Errorf("storage URL %q: a directory is file:///absolute/path", raw)
		}
		return NewDir(u.Path)
	case "s3":
		q := u.Query()
		endpoint := q.Get("endpoint")
		if endpoint == "" {
			endpoint = "s3.amazonaws.com"
		}
		secure := true
		if s := q.Get("secure"); s != "" {
			if secure, err = strconv.ParseBool(s); err != nil {
				return nil, fmt.Errorf("storage URL: secure=%q is not true or false", s)
			}
		}
		access, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
		if u.User != nil {
			access = u.User.Username()
			secret, _ = u.User.Password()
		}
		if u.Host == "" {
			return nil, fmt.Errorf("storage URL %q: s3://bucket[/prefix]", raw)
		}
		return NewS3(S3Config{Endpoint: endpoint, Secure: secure, Region: q.Get("region"), Bucket: u.Host,
			Prefix: strings.Trim(u.Path, "/"), AccessKey: access, SecretKey: secret})
	}
	return nil, fmt.Errorf("storage URL %q: the scheme is file:// or s3://", raw)
}

// Dir keeps objects as files under a directory.
type Dir struct{ root string }

// NewDir returns a store in root, creating it.
func NewDir(root string) (*Dir, error) {
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("blobstore: directory %q is not absolute", root)
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return &Dir{root: root}, nil
}

func (d *Dir) path(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put writes the object durably: a temporary file, synced, renamed into place.
func (d *Dir) Put(_ context.Context, key string, data []byte, _ string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("blobstore: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return fmt.Errorf("blobstore: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, nothing is left to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("blobstore: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("blobstore: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("blobstore: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("blobstore: %w", err)
	}
	return nil
}

// Get reads the object.
func (d *Dir) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return data, err
}

// Delete removes the object.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blobstore: %w", err)
	}
	return nil
}

func (d *Dir) String() string { return "file://" + d.root }

// S3Config names a bucket on an S3-compatible service.
type S3Config struct {
	Endpoint  string
	Secure    bool
	Region    string
	Bucket    string
	Prefix    string
	AccessKey string
	SecretKey string
}

// S3 keeps objects in a bucket.
type S3 struct {
	c   *minio.Client
	cfg S3Config
}

// NewS3 returns a store on the bucket (which must exist).
func NewS3(cfg S3Config) (*S3, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure, Region: cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return &S3{c: c, cfg: cfg}, nil
}

func (s *S3) name(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	if s.cfg.Prefix == "" {
		return key, nil
	}
	return s.cfg.Prefix + "/" + key, nil
}

// Put uploads the object.
func (s *S3) Put(ctx context.Context, key string, data []byte, contentType string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	_, err = s.c.PutObject(ctx, s.cfg.Bucket, name, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("blobstore: put %s: %w", name, err)
	}
	return nil
}

// Get downloads the object.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	obj, err := s.c.GetObject(ctx, s.cfg.Bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blobstore: get %s: %w", name, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("blobstore: get %s: %w", name, err)
	}
	return data, nil
}

// Delete removes the object.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("blobstore: delete %s: %w", name, err)
	}
	return nil
}

func (s *S3) String() string {
	scheme := "https"
	if !s.cfg.Secure {
		scheme = "http"
	}
	return fmt.Sprintf("s3 %s://%s/%s/%s", scheme, s.cfg.Endpoint, s.cfg.Bucket, s.cfg.Prefix)
}
