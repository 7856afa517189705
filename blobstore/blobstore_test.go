package blobstore_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/blobstore"
)

// exercise runs the same checks on any store: put, get, replace, delete, missing keys, bad keys.
func exercise(t *testing.T, s blobstore.Store) {
	ctx := t.Context()
	require.NoError(t, s.Put(ctx, "files/ab/abcdef.bin", []byte("first"), "application/octet-stream"))
	got, err := s.Get(ctx, "files/ab/abcdef.bin")
	require.NoError(t, err)
	require.Equal(t, "first", string(got))
	require.NoError(t, s.Put(ctx, "files/ab/abcdef.bin", []byte("second"), "application/octet-stream"))
	got, err = s.Get(ctx, "files/ab/abcdef.bin")
	require.NoError(t, err)
	require.Equal(t, "second", string(got))
	_, err = s.Get(ctx, "files/none")
	require.ErrorIs(t, err, blobstore.ErrNotFound)
	require.NoError(t, s.Delete(ctx, "files/ab/abcdef.bin"))
	require.NoError(t, s.Delete(ctx, "files/ab/abcdef.bin"), "deleting a missing object")
	_, err = s.Get(ctx, "files/ab/abcdef.bin")
	require.ErrorIs(t, err, blobstore.ErrNotFound)
	for _, bad := range []string{"", "../etc/passwd", "a//b", "a/./b", "a b", "/abs"} {
		require.Error(t, s.Put(ctx, bad, []byte("x"), ""), "key %q", bad)
	}
}

func TestDir(t *testing.T) {
	dir := t.TempDir()
	s, err := blobstore.Open("file://" + dir)
	require.NoError(t, err)
	exercise(t, s)
	_, err = blobstore.Open("file://relative/path")
	require.Error(t, err)
}

// TestS3 runs against an in-process server speaking the S3 REST protocol (signature V4,
// PutObject, GetObject's NoSuchKey, DeleteObject).
func TestS3(t *testing.T) {
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	require.NoError(t, backend.CreateBucket("desk"))
	endpoint := strings.TrimPrefix(srv.URL, "http://")
	s, err := blobstore.Open("s3://AKIA:secret@desk/linedesk?endpoint=" + endpoint + "&secure=false&region=us-east-1")
	require.NoError(t, err)
	require.Contains(t, s.String(), "desk")
	require.NotContains(t, s.String(), "secret")
	exercise(t, s)
	// The prefix is where objects go.
	require.NoError(t, s.Put(t.Context(), "files/x", []byte("y"), "text/plain"))
	obj, err := backend.HeadObject("desk", "linedesk/files/x")
	require.NoError(t, err)
	require.Equal(t, int64(1), obj.Size)
}
