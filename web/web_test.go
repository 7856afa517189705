package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// TestScreensOpenOnReloadAndAssetsAreCached: every screen URL gets the app, the hashed bundle it
// names is served with a long cache, and a stale asset name is a 404 rather than HTML the
// browser would try to run as a script.
func TestScreensOpenOnReloadAndAssetsAreCached(t *testing.T) {
	h := Handler()
	res, index := get(t, h, "/")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("/: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	for _, p := range []string{"/inbox", "/inbox/42", "/admin/lines?x=1"} {
		res, body := get(t, h, p)
		if res.StatusCode != http.StatusOK || body != index {
			t.Fatalf("%s: %d, the app expected", p, res.StatusCode)
		}
	}
	script := regexp.MustCompile(`src="(/assets/[^"]+\.js)"`).FindStringSubmatch(index)
	if script == nil {
		t.Fatalf("index.html names no script: %s", index)
	}
	res, _ = get(t, h, script[1])
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("%s: %d %q", script[1], res.StatusCode, res.Header.Get("Cache-Control"))
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Fatalf("%s: content type %q", script[1], ct)
	}
	if res, _ := get(t, h, "/assets/index-00000000.js"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a stale asset: %d, want 404", res.StatusCode)
	}
}

// TestInitialBundleIsWithinBudget: what the browser must fetch before the first screen — the
// scripts and stylesheets index.html names, and the modules they preload — stays within 300 KB
// gzipped (issue 8), so the console opens fast on a small machine or a slow link.
func TestInitialBundleIsWithinBudget(t *testing.T) {
	const budget = 300 << 10
	index, err := fs.ReadFile(console, "console/dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, m := range regexp.MustCompile(`(?:src|href)="/(assets/[^"]+\.(?:js|css))"`).FindAllStringSubmatch(string(index), -1) {
		body, err := fs.ReadFile(console, "console/dist/"+m[1])
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		t.Logf("%s: %d bytes, %d gzipped", m[1], len(body), buf.Len())
		total += buf.Len()
	}
	if total == 0 {
		t.Fatal("index.html names no script or stylesheet")
	}
	if total > budget {
		t.Fatalf("the initial bundle is %d KB gzipped, over the %d KB budget", total>>10, budget>>10)
	}
}
