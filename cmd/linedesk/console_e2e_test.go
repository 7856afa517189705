package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store/storetest"
)

// The console's end-to-end tests drive the embedded console in real headless Chromium against
// `linedesk dev`, as a person at the keyboard would. Without Chromium they are skipped, except in
// CI (CI=true), where .ci/run installs it and a missing browser is a failure.

// browser starts a headless Chromium at 1280×720 for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a browser against linedesk dev")
	}
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium is not installed; .ci/run installs it")
		}
		t.Skip("no Chromium on this machine (apt-get install chromium)")
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 720), chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser, which lives as long as that action's context: no
	// timeout on it; the test's own actions get one.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720), chromedp.Navigate("about:blank")), "start Chromium")
	ctx, cancelRun := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelRun)
	return ctx
}

// screenshots is where the e2e run leaves its pictures: LINEDESK_E2E_SCREENSHOTS (docs/screenshots
// when making the documentation's), else the test's temporary directory.
func screenshots(t *testing.T) string {
	if d := os.Getenv("LINEDESK_E2E_SCREENSHOTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Sleep(150*time.Millisecond)))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: a PNG
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// devForConsole starts `linedesk dev` on a fresh database for a console test.
func devForConsole(t *testing.T) devProcess {
	t.Helper()
	dev, _ := devForConsoleOn(t)
	return dev
}

// devForConsoleOn is devForConsole that also gives the database's URL, for seeding.
func devForConsoleOn(t *testing.T) (devProcess, string) {
	t.Helper()
	dbURL := storetest.NewDatabase(t)
	cfg, err := loadConfig("dev", nil, envOf(map[string]string{
		"DATABASE_URL":              dbURL,
		"LINEDESK_DATA_DIR":         filepath.Join(t.TempDir(), "data"),
		"LINEDESK_HTTP_ADDR":        "127.0.0.1:0",
		"LINEDESK_TEMPORAL_UI_ADDR": "",
	}), io.Discard)
	require.NoError(t, err)
	return startDev(t, cfg), dbURL
}

// signIn opens the console and signs in through its form.
func signIn(t *testing.T, ctx context.Context, url, email, password string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		// Signed in once the inbox shows: a click before that could land on the sign-in page
		// and be undone by the redirect that follows it.
		chromedp.WaitVisible(chromedp.CSS(".inbox-views")),
	))
}

// brands read the same in Russian: channel and product names.
var brands = []string{"API", "Telegram", "VK", "Viber", "Facebook", "Instagram", "WhatsApp", "OK", "CSAT", "SLA", "URL", "ID", "IP"}

// visibleLatinWords returns the words in Latin letters the page shows, leaving out form controls'
// option lists (the language picker names "English"), input values, the brand and the names the
// test itself gave people and things (data, not the interface).
func visibleLatinWords(t *testing.T, ctx context.Context, data ...string) []string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const body = document.body.cloneNode(true);
		body.querySelectorAll("select, input, textarea, script, style").forEach(e => e.remove());
		document.body.appendChild(body); body.style.position = "absolute"; body.style.left = "-10000px";
		const t = body.innerText; body.remove(); return t;
	})()`))
	require.NoError(t, err)
	var out []string
	for _, w := range regexp.MustCompile(`[A-Za-z]{2,}`).FindAllString(text, -1) {
		if w != "linedesk" && !slices.Contains(brands, w) && !slices.Contains(data, w) {
			out = append(out, w)
		}
	}
	return out
}

// TestConsoleSignsInToALiveInbox: the README's run command serves the console; signing in lands
// on the inbox (not a placeholder), a client's new conversation appears there without a reload,
// and in Russian the page shows no English.
func TestConsoleSignsInToALiveInbox(t *testing.T) {
	ctx := browser(t)
	dev := devForConsole(t)
	shots := screenshots(t)
	ch := setUpAPIChannel(t, dev.url)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(dev.url+"/")))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "ru")`))
	require.NoError(t, err)
	signIn(t, ctx, dev.url, "admin@example.com", "admin")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".inbox-views"))))
	path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	require.NoError(t, err)
	require.Equal(t, "/inbox", path, "the first screen after signing in is the inbox")

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(dev.url+"/inbox?view=all"),
		chromedp.WaitVisible(chromedp.CSS(".inbox-views"))))
	number := ch.write(t, "client-1", "first")
	waitCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(waitCtx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-number="%d"]`, number)))),
		"the new conversation appears without a reload")

	for _, view := range []string{"all", "unassigned"} {
		_, err := chromedp.Run(waitCtx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector('[data-count=%q]').textContent === "1"`, view)))
		require.NoError(t, err, "the %s counter catches up with the new conversation", view)
	}

	words := visibleLatinWords(t, ctx, "Admin", "Site", "Support", "hello")
	require.Empty(t, words, "the Russian console shows English: %s", strings.Join(words, " "))
	screenshot(t, ctx, shots, "inbox-ru")
}
