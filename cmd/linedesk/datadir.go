package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is the file in the data dir a running `linedesk dev` holds locked.
const lockFile = "lock"

// errDataDirBusy says another `linedesk dev` holds the data dir.
var errDataDirBusy = errors.New("data dir in use")

// lockDataDir takes an exclusive advisory lock on <dataDir>/lock for the life of the process,
// so a second `linedesk dev` cannot run a second Temporal server on the same files. The kernel
// drops the lock when the process ends, however it ends, so a crash leaves nothing to clean up.
// The file holds the holder's PID for the message a second process prints.
func lockDataDir(dataDir string) (release func(), err error) {
	path := filepath.Join(dataDir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		holder := "another process"
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				holder = fmt.Sprintf("another linedesk dev (pid %d)", pid)
			}
		}
		return nil, fmt.Errorf("%w: %s already runs on data dir %s; stop it first, or give this one "+
			"its own data dir (LINEDESK_DATA_DIR or --data-dir)", errDataDirBusy, holder, dataDir)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		_ = f.Truncate(0)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// devDatabaseName names dev's database on a shared PostgreSQL server after its data dir, so two
// checkouts on one machine (each with its own ./.linedesk) never share a database by accident:
// linedesk_<folder>_<8 hex digits of the absolute data dir path>. The folder is the data dir's
// own name, or its parent's when it is hidden (the default .linedesk sits in the checkout), so
// the name says whose it is. It stays short enough for the _temporal_visibility suffix within
// PostgreSQL's 63-byte limit.
func devDatabaseName(absDataDir string) string {
	folder := filepath.Base(absDataDir)
	if strings.HasPrefix(folder, ".") {
		folder = filepath.Base(filepath.Dir(absDataDir))
	}
	var b strings.Builder
	for _, r := range strings.ToLower(folder) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
		if b.Len() >= 16 {
			break
		}
	}
	name := "linedesk_"
	if s := strings.Trim(b.String(), "_"); s != "" {
		name += s + "_"
	}
	sum := sha256.Sum256([]byte(absDataDir))
	return name + hex.EncodeToString(sum[:4])
}
