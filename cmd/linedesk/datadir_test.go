package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDataDirLockKeepsASecondDevOff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	release, err := lockDataDir(dir)
	require.NoError(t, err)

	_, err = lockDataDir(dir)
	require.ErrorIs(t, err, errDataDirBusy)
	require.Contains(t, err.Error(), dir)
	require.Contains(t, err.Error(), fmt.Sprintf("pid %d", os.Getpid()))

	// dev itself refuses before it touches anything.
	cfg, err := loadConfig("dev", nil, envOf(map[string]string{"LINEDESK_DATA_DIR": dir}), io.Discard)
	require.NoError(t, err)
	err = runDev(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard)
	require.ErrorIs(t, err, errDataDirBusy)

	release()
	again, err := lockDataDir(dir)
	require.NoError(t, err, "the lock is free once its holder lets go")
	again()
}

func TestDevDatabaseNameIsReadableAndPerDataDir(t *testing.T) {
	t.Parallel()
	a := devDatabaseName("/home/ann/src/Line-Desk/.linedesk")
	require.Regexp(t, regexp.MustCompile(`^linedesk_line_desk_[0-9a-f]{8}$`), a)
	require.Equal(t, a, devDatabaseName("/home/ann/src/Line-Desk/.linedesk"), "stable for one path")
	require.NotEqual(t, a, devDatabaseName("/home/bob/src/Line-Desk/.linedesk"), "two checkouts, two databases")
	require.Regexp(t, regexp.MustCompile(`^linedesk_data_[0-9a-f]{8}$`), devDatabaseName("/tmp/x/data"))
	long := devDatabaseName(filepath.Join("/tmp", "a-very-long-folder-name-that-goes-on-and-on"))
	require.LessOrEqual(t, len(long+"_temporal_visibility"), 63, long)
	require.Regexp(t, regexp.MustCompile(`^linedesk_[0-9a-f]{8}$`), devDatabaseName("/.linedesk"))
}
