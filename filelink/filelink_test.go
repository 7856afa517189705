package filelink_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/filelink"
)

func TestSignedLinks(t *testing.T) {
	s := filelink.New([]byte("key-1"))
	now := time.Unix(1_800_000_000, 0)
	link := s.Sign("https://desk.example/api/v1/files/abc?old=1", "abc", time.Hour, now)
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, "/api/v1/files/abc", u.Path)
	require.False(t, u.Query().Has("old"))
	exp, sig := u.Query().Get("expires"), u.Query().Get("sig")
	require.True(t, s.Valid("abc", exp, sig, now.Add(59*time.Minute)))
	require.False(t, s.Valid("abc", exp, sig, now.Add(61*time.Minute)), "an expired link")
	require.False(t, s.Valid("abd", exp, sig, now), "another file's link")
	require.False(t, filelink.New([]byte("key-2")).Valid("abc", exp, sig, now), "another key")
	require.False(t, s.Valid("abc", "9999999999", sig, now), "a lengthened expiry")
	require.False(t, s.Valid("abc", "x", sig, now))
	require.False(t, s.Valid("abc", exp, "", now))
}

func TestLinksSignedBeforeARotationStayValid(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	old := filelink.New([]byte("key-1"))
	u, err := url.Parse(old.Sign("https://desk.example/api/v1/files/abc", "abc", time.Hour, now))
	require.NoError(t, err)
	exp, sig := u.Query().Get("expires"), u.Query().Get("sig")
	require.True(t, filelink.New([]byte("key-2"), []byte("key-1")).Valid("abc", exp, sig, now), "while the old key is configured")
	require.False(t, filelink.New([]byte("key-2")).Valid("abc", exp, sig, now), "once the old key is gone")
	u, err = url.Parse(filelink.New([]byte("key-2"), []byte("key-1")).Sign("https://desk.example/api/v1/files/abc", "abc", time.Hour, now))
	require.NoError(t, err)
	require.True(t, filelink.New([]byte("key-2")).Valid("abc", u.Query().Get("expires"), u.Query().Get("sig"), now), "new links use the new key")
}
