package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// DefaultOAuthURL is VK's authorization server.
const DefaultOAuthURL = "https://oauth.vk.com"

// OAuth connects communities the way seed 000 describes ("Авторизоваться", "Разрешить", tick one
// or more communities you administer): VK's Authorization Code Flow, first for the admin (scope
// groups, to list the communities they administer), then for the communities (scope messages
// and manage), whose codes give one community token each.
type OAuth struct {
	AppID     string
	AppSecret string
	// OAuthURL and APIURL are VK's (empty: oauth.vk.com and api.vk.com); a fake's in tests.
	OAuthURL string
	APIURL   string
	HTTP     *http.Client
}

func (o OAuth) oauthURL() string {
	if o.OAuthURL == "" {
		return DefaultOAuthURL
	}
	return strings.TrimRight(o.OAuthURL, "/")
}

// UserAuthorizeURL is where the admin signs in to VK and lets the app list their communities.
func (o OAuth) UserAuthorizeURL(redirect, state string) string {
	q := url.Values{"client_id": {o.AppID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"groups"},
		"display": {"page"}, "state": {state}, "v": {APIVersion}}
	return o.oauthURL() + "/authorize?" + q.Encode()
}

// GroupsAuthorizeURL is where the admin ticks the communities to connect (VK's dialog lists
// groupIDs) and allows the app to answer their messages and set up their Callback API.
func (o OAuth) GroupsAuthorizeURL(redirect, state string, groupIDs []int64) string {
	ids := make([]string, len(groupIDs))
	for i, id := range groupIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	q := url.Values{"client_id": {o.AppID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"messages,manage"},
		"group_ids": {strings.Join(ids, ",")}, "display": {"page"}, "state": {state}, "v": {APIVersion}}
	return o.oauthURL() + "/authorize?" + q.Encode()
}

// exchange trades a code for the token answer.
func (o OAuth) exchange(ctx context.Context, redirect, code string) (map[string]json.RawMessage, error) {
	q := url.Values{"client_id": {o.AppID}, "client_secret": {o.AppSecret}, "redirect_uri": {redirect}, "code": {code}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.oauthURL()+"/access_token?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	h := o.HTTP
	if h == nil {
		h = defaultHTTP
	}
	res, err := h.Do(req)
	if err != nil {
		return nil, fmt.Errorf("vk oauth: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("vk oauth: %w", err)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("vk oauth: HTTP %d, the answer is not JSON", res.StatusCode)
	}
	if e, ok := out["error"]; ok {
		var msg string
		_ = json.Unmarshal(out["error_description"], &msg)
		var code string
		_ = json.Unmarshal(e, &code)
		return nil, fmt.Errorf("vk oauth: %s %s", code, msg)
	}
	return out, nil
}

// UserToken trades the admin's code for their token.
func (o OAuth) UserToken(ctx context.Context, redirect, code string) (string, error) {
	out, err := o.exchange(ctx, redirect, code)
	if err != nil {
		return "", err
	}
	var token string
	if json.Unmarshal(out["access_token"], &token) != nil || token == "" {
		return "", errors.New("vk oauth: no access_token in the answer")
	}
	return token, nil
}

// GroupTokens trades the communities' code for a token per community: VK answers
// access_token_<group id> keys (and, in newer versions, a groups list).
func (o OAuth) GroupTokens(ctx context.Context, redirect, code string) (map[int64]string, error) {
	out, err := o.exchange(ctx, redirect, code)
	if err != nil {
		return nil, err
	}
	tokens := map[int64]string{}
	for k, v := range out {
		id, ok := strings.CutPrefix(k, "access_token_")
		if !ok {
			continue
		}
		gid, err := strconv.ParseInt(id, 10, 64)
		var token string
		if err == nil && gid > 0 && json.Unmarshal(v, &token) == nil && token != "" {
			tokens[gid] = token
		}
	}
	var groups []struct {
		GroupID     int64  `json:"group_id"`
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(out["groups"], &groups) == nil {
		for _, g := range groups {
			if g.GroupID > 0 && g.AccessToken != "" {
				tokens[g.GroupID] = g.AccessToken
			}
		}
	}
	if len(tokens) == 0 {
		return nil, errors.New("vk oauth: no community was allowed")
	}
	return tokens, nil
}

// AdminGroups lists the communities the admin (their token) administers.
func (o OAuth) AdminGroups(ctx context.Context, userToken string) ([]Group, error) {
	c := &Client{BaseURL: o.APIURL, Token: userToken, HTTP: o.HTTP}
	var out struct {
		Items []Group `json:"items"`
	}
	err := c.call(ctx, "groups.get", url.Values{"filter": {"admin"}, "extended": {"1"}, "count": {"1000"}}, &out)
	return out.Items, err
}

// AddCallbackServer registers url as the community's Callback API server with the secret key,
// subscribed to new messages, and returns the server's id (the community token needs manage).
func (c *Client) AddCallbackServer(ctx context.Context, groupID int64, serverURL, title, secret string) (int64, error) {
	gid := strconv.FormatInt(groupID, 10)
	var added struct {
		ServerID int64 `json:"server_id"`
	}
	if err := c.call(ctx, "groups.addCallbackServer", url.Values{"group_id": {gid}, "url": {serverURL}, "title": {title},
		"secret_key": {secret}}, &added); err != nil {
		return 0, err
	}
	err := c.call(ctx, "groups.setCallbackSettings", url.Values{"group_id": {gid}, "server_id": {strconv.FormatInt(added.ServerID, 10)},
		"api_version": {APIVersion}, "message_new": {"1"}}, nil)
	return added.ServerID, err
}
