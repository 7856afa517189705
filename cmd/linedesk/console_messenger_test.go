package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/telegram/telegramtest"
)

// TestConsoleConnectsTelegramAndAnswersAClient: an admin adds a Telegram channel in the console
// with the bot's token, connects it (linedesk sets the bot's webhook on the fake Bot API), a
// Telegram client writes, and the reply typed in the console reaches the client's chat through
// sendMessage.
func TestConsoleConnectsTelegramAndAnswersAClient(t *testing.T) {
	ctx := browser(t)
	dev := devForConsole(t)
	shots := screenshots(t)
	const token = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-Ms"
	fake := telegramtest.New(t, token)
	admin := adminClient(t, dev.url)
	status, line := postJSON(t, admin.c, dev.url+"/api/v1/lines", map[string]any{"name": "Telegram desk", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", line)

	u := ui{t, ctx}
	u.open(dev.url + "/")
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, ctx, dev.url, "admin@example.com", "admin")
	u.open(dev.url + "/admin/channels/new")
	u.fill("Kind", "telegram")
	u.fill("Channel name", "Shop bot")
	u.fill("Line", fmt.Sprint(line["id"]))
	u.fill("Bot token", token)
	u.do("open Advanced", `(() => { const d = document.querySelector("details"); if (!d) return "no details"; d.open = true; return ""; })()`)
	u.fill("Platform API address", fake.URL())
	u.click("Create")
	u.click("Open the channel settings")
	u.see("create a bot with @BotFather")
	u.see("Bot token: set")
	u.click("Connect")
	u.see("Connected: @desk_bot now posts to linedesk.")
	hookURL, secret := fake.Webhook()
	channelID := admin.channelID(t, "Shop bot")
	require.True(t, strings.HasSuffix(hookURL, fmt.Sprintf("/hooks/%d", channelID)), hookURL)
	require.NotEmpty(t, secret)
	u.see("Connected to the platform") // the configuration history
	screenshot(t, ctx, shots, "telegram-channel")

	// A Telegram client writes; the admin answers from the console.
	require.Equal(t, []int{http.StatusOK}, fake.DeliverUntilOK(t, telegramtest.TextUpdate(9001, 424242, "Marta", "Is the store open on Sunday?"), 3))
	u.open(dev.url + "/inbox?view=all")
	u.see("Is the store open on Sunday?")
	u.do("open the conversation", `(() => { const r = document.querySelector('[data-number]'); if (!r) return "no row"; r.click(); return ""; })()`)
	u.click("Take")
	u.do("the reply box opens", `(() => { const c = __ld.control("Reply to the client"); return c && !c.disabled ? "" : "locked"; })()`)
	u.fill("Reply to the client", "Yes, 10:00 to 18:00.")
	u.click("Send")
	deadline := time.Now().Add(20 * time.Second)
	for len(fake.Sent()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	sent := fake.Sent()
	require.Len(t, sent, 1, "the reply did not reach Telegram")
	require.Equal(t, int64(424242), sent[0].ChatID)
	require.Equal(t, "Admin:\nYes, 10:00 to 18:00.", sent[0].Text)
	u.do("the reply shows sent", `document.querySelector(".conv-msg .tick.sent") ? "" : "no sent tick"`)
	screenshot(t, ctx, shots, "telegram-conversation")
}
