//go:build faults

package api_test

import (
	"os"
	"testing"
	"time"
)

// faultDuration is how long a fault lasts: the environment variable name when set (a Go
// duration, so the fault suite can lengthen or shorten it), else def.
func faultDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q is not a positive duration", name, v)
	}
	return d
}
