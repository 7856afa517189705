package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/api"
	"github.com/linedesk/linedesk/connectors/vk/vktest"
)

// followVK walks the admin's browser through VK's dialogs from authorizeURL and returns where it
// lands in the console.
func followVK(t *testing.T, c *http.Client, authorizeURL string) url.Values {
	t.Helper()
	res, err := c.Get(authorizeURL)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, "/admin/channels", res.Request.URL.Path, "landed on %s", res.Request.URL)
	return res.Request.URL.Query()
}

// TestVKConnectThroughOAuth: an admin signs in to VK, VK lists the communities they administer to
// tick, and each ticked community becomes a vk channel of the line with its token, its
// confirmation code and the desk added as its Callback API server (confirmed, new messages on),
// so a community's messages arrive with nothing pasted by hand. Connecting again renews a
// community's token without a second channel; a forged state connects nothing.
func TestVKConnectThroughOAuth(t *testing.T) {
	t.Parallel()
	const appID, appSecret = "51700001", "vk-app-secret-0123456789"
	fake := vktest.NewAccount(t, appID, appSecret,
		vktest.Community{ID: 214167102, Name: "Shop community", Confirmation: "a1b2c3d4"},
		vktest.Community{ID: 214167103, Name: "Shop support", Confirmation: "e5f6a7b8"})
	a := newApp(t, appOptions{vk: api.VKApp{AppID: appID, AppSecret: appSecret, OAuthURL: fake.URL(), APIURL: fake.URL()}})
	res := a.do(a.http, "POST", "/api/v1/lines", map[string]any{"name": "VK line", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var line struct {
		ID int64 `json:"id"`
	}
	res.json(t, &line)

	start := func() string {
		res := a.do(a.http, "POST", "/api/v1/vk/connect", map[string]any{"line_id": line.ID}, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var out struct {
			AuthorizeURL string `json:"authorize_url"`
		}
		res.json(t, &out)
		require.True(t, strings.HasPrefix(out.AuthorizeURL, fake.URL()+"/authorize?"), out.AuthorizeURL)
		return out.AuthorizeURL
	}
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "POST", "/api/v1/vk/connect", map[string]any{"line_id": 999999}, nil).status)

	landed := followVK(t, a.http, start())
	require.Equal(t, "Shop community, Shop support", landed.Get("vk_connected"), "%v", landed)
	channels := func() int { return a.queryInt(`SELECT count(*) FROM channels WHERE kind = 'vk'`) }
	require.Equal(t, 2, channels())
	for _, gid := range []int64{214167102, 214167103} {
		srv, ok := fake.Server(gid)
		require.True(t, ok, "community %d has no Callback API server", gid)
		require.True(t, srv.Confirmed)
		require.True(t, srv.MessageNew)
		require.Contains(t, srv.URL, a.url+"/hooks/")
		// A client writes to the community: the message arrives through the server VK now knows.
		var id int64
		require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT id FROM channels WHERE kind = 'vk' AND settings->>'group_id' = $1`,
			fmt.Sprint(gid)).Scan(&id))
		require.Equal(t, fmt.Sprintf("%s/hooks/%d", a.url, id), srv.URL)
		body, _ := json.Marshal(map[string]any{"group_id": gid, "type": "message_new", "event_id": fmt.Sprintf("ev-%d", gid), "v": "5.199",
			"secret": srv.Secret, "object": map[string]any{"message": map[string]any{"date": 1733472000, "from_id": 42, "peer_id": 42, "id": 7,
				"out": 0, "text": "Hello from VK", "attachments": []any{}}}})
		status, answer := vktest.Post(t, srv.URL, body)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "ok", answer)
		a.conversationOf(id, "42")
	}
	var raw []byte
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT credentials FROM channels WHERE kind = 'vk' ORDER BY id LIMIT 1`).Scan(&raw))
	require.NotContains(t, string(raw), "community-token", "the token is stored in the clear")

	// Connecting one community again renews its token on the same channel.
	fake.Tick(214167103)
	landed = followVK(t, a.http, start())
	require.Equal(t, "Shop support", landed.Get("vk_connected"), "%v", landed)
	require.Equal(t, 2, channels())

	// A state not signed here, or another user's, connects nothing.
	landed = followVK(t, a.http, a.url+"/api/v1/vk/oauth?code=code1&state=forged.state")
	require.Contains(t, landed.Get("vk_error"), "not started here")
	_, op := a.newOperator("vk.op@example.com", "Olga")
	require.Equal(t, http.StatusForbidden, a.do(op, "POST", "/api/v1/vk/connect", map[string]any{"line_id": line.ID}, nil).status)
	require.Equal(t, 2, channels())
}

func TestVKConnectWithoutAnApp(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	res := a.do(a.http, "POST", "/api/v1/vk/connect", map[string]any{"line_id": 1}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "vk_app_not_configured", res.errorCode(t))
}
