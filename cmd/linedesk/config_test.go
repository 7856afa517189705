package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/secretbox"
)

// testSecretsKey is the secrets key the tests' api, worker and migrate share.
var testSecretsKey = secretbox.EncodeKey(bytes.Repeat([]byte{7}, secretbox.KeySize))

// testStorageURL is where the tests' api and worker processes keep attachments.
var testStorageURL = "file://" + filepath.Join(os.TempDir(), "linedesk-test-files")

// envOf is an environment of m, with testSecretsKey as LINEDESK_SECRETS_KEY and testStorageURL
// as LINEDESK_STORAGE_URL unless m sets them.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		if !ok && k == "LINEDESK_SECRETS_KEY" {
			return testSecretsKey, true
		}
		if !ok && k == "LINEDESK_STORAGE_URL" {
			return testStorageURL, true
		}
		return v, ok
	}
}

func TestStorageIsRequiredForAPIAndWorker(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"api", "worker"} {
		_, err := loadConfig(command, nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y", "LINEDESK_STORAGE_URL": ""}), io.Discard)
		require.ErrorContains(t, err, "LINEDESK_STORAGE_URL is required", command)
	}
	_, err := loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y", "LINEDESK_STORAGE_URL": "ftp://x"}), io.Discard)
	require.ErrorContains(t, err, "is not file:///dir or s3://")
	cfg, err := loadConfig("migrate", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y", "LINEDESK_STORAGE_URL": ""}), io.Discard)
	require.NoError(t, err, "migrate runs without storage (it then leaves stored files where they are)")
	require.Empty(t, cfg.StorageURL)
}

func TestSecretsKeyIsRequiredOutsideDev(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"api", "worker", "migrate"} {
		_, err := loadConfig(command, nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y", "LINEDESK_SECRETS_KEY": ""}), io.Discard)
		require.ErrorContains(t, err, "LINEDESK_SECRETS_KEY is required", command)
	}
	_, err := loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y", "LINEDESK_SECRETS_KEY": "too-short"}), io.Discard)
	require.ErrorContains(t, err, "openssl rand -base64 32")
	cfg, err := loadConfig("dev", nil, envOf(map[string]string{"LINEDESK_SECRETS_KEY": ""}), io.Discard)
	require.NoError(t, err)
	require.Nil(t, cfg.SecretsKey, "dev without a key keeps one in its data dir")

	dir := t.TempDir()
	first, err := devSecretsBox(cfg, dir)
	require.NoError(t, err)
	sealed := first.Seal("p", []byte("bot-token"))
	again, err := devSecretsBox(cfg, dir)
	require.NoError(t, err)
	plain, err := again.Open("p", sealed)
	require.NoError(t, err, "a restarted dev opens what it sealed before")
	require.Equal(t, "bot-token", string(plain))
	info, err := os.Stat(filepath.Join(dir, secretsKeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig("dev", nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", cfg.HTTPAddr)
	require.Equal(t, "127.0.0.1:8233", cfg.TemporalUIAddr)
	require.Equal(t, ".linedesk", cfg.DataDir)
	require.Equal(t, "admin@example.com", cfg.AdminEmail)
	require.Equal(t, "admin", cfg.AdminPassword)
	require.False(t, cfg.AdminPasswordSet)
	require.Equal(t, "text", cfg.LogFormat)
	require.Equal(t, slog.LevelInfo, cfg.LogLevel)
	require.Equal(t, "sqlite", cfg.TemporalDB)
	require.False(t, cfg.Reset)

	worker, err := loadConfig("worker", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y"}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8081", worker.HTTPAddr)
	require.Equal(t, "json", worker.LogFormat)
}

func TestConfigEnvironmentAndFlags(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{
		"LINEDESK_HTTP_ADDR": "0.0.0.0:9000", "LINEDESK_TEMPORAL_UI_ADDR": "", "LINEDESK_ADMIN_PASSWORD": "s3cret",
		"LINEDESK_LOG_LEVEL": "debug", "LINEDESK_SMTP_HOST": "mail.example.com", "LINEDESK_SMTP_FROM": "a@example.com",
		"LINEDESK_SMTP_PORT": "2525",
	})
	cfg, err := loadConfig("dev", []string{"-http-addr", "127.0.0.1:9100"}, env, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9100", cfg.HTTPAddr, "a flag wins over the environment")
	require.Empty(t, cfg.TemporalUIAddr, "an empty variable turns the UI off")
	require.True(t, cfg.AdminPasswordSet)
	require.Equal(t, slog.LevelDebug, cfg.LogLevel)
	require.Equal(t, 2525, cfg.SMTP.Port)
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	_, err := loadConfig("api", nil, envOf(map[string]string{"LINEDESK_LOG_LEVEL": "loud", "LINEDESK_HTTP_ADDR": "nope",
		"LINEDESK_SMTP_HOST": "mail.example.com", "LINEDESK_SMTP_PORT": "x", "LINEDESK_TEMPORAL_DB": "mysql", "LINEDESK_WORKFLOW_CACHE": "0"}), io.Discard)
	require.Error(t, err)
	for _, want := range []string{"LINEDESK_LOG_LEVEL", "LINEDESK_HTTP_ADDR", "DATABASE_URL is required", "LINEDESK_SMTP_PORT", "LINEDESK_TEMPORAL_DB", "LINEDESK_WORKFLOW_CACHE"} {
		require.True(t, strings.Contains(err.Error(), want), "%q missing from %q", want, err)
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var stderr strings.Builder
	require.Equal(t, 2, run([]string{"serve"}, io.Discard, &stderr))
	require.Contains(t, stderr.String(), `unknown command "serve"`)
	require.Equal(t, 2, run(nil, io.Discard, &stderr))
}

func TestResetIsADevFlagOnly(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig("dev", []string{"--reset", "--temporal-db", "postgres"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.Reset)
	require.Equal(t, "postgres", cfg.TemporalDB)
	_, err = loadConfig("api", []string{"--reset"}, envOf(map[string]string{"DATABASE_URL": "postgres://x/y"}), io.Discard)
	require.Error(t, err, "api has no --reset")
}

// TestDevKeepsTheDefaultPasswordOnLoopback: dev on an address beyond this machine needs a
// password of its own.
func TestDevKeepsTheDefaultPasswordOnLoopback(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:8080", "192.0.2.10:8080", ":8080"} {
		_, err := loadConfig("dev", []string{"-http-addr", addr}, envOf(nil), io.Discard)
		require.ErrorContains(t, err, "set LINEDESK_ADMIN_PASSWORD", addr)
		_, err = loadConfig("dev", []string{"-http-addr", addr, "-admin-password", "a-real-one"}, envOf(nil), io.Discard)
		require.NoError(t, err, addr)
	}
	for _, addr := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080"} {
		_, err := loadConfig("dev", []string{"-http-addr", addr}, envOf(nil), io.Discard)
		require.NoError(t, err, addr)
	}
}

func TestAllowedHosts(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig("dev", nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"localhost", "127.0.0.1", "::1"}, cfg.allowedHosts())
	cfg, err = loadConfig("dev", []string{"-http-addr", "192.0.2.10:8080", "-admin-password", "pw-long-enough",
		"-public-url", "https://desk.example.com"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"desk.example.com", "localhost", "127.0.0.1", "::1", "192.0.2.10"}, cfg.allowedHosts())
	api, err := loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y"}), io.Discard)
	require.NoError(t, err)
	require.Empty(t, api.allowedHosts(), "api without a public URL answers for any host")
	api, err = loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y", "LINEDESK_PUBLIC_URL": "https://Desk.Example.com:8443/"}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"Desk.Example.com"}, api.allowedHosts())
	_, err = loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y", "LINEDESK_PUBLIC_URL": "desk.example.com"}), io.Discard)
	require.ErrorContains(t, err, "LINEDESK_PUBLIC_URL")
}

// TestPrivateCallbacksOnlyInDevByDefault: only dev, on a laptop, lets callback URLs reach
// private addresses unless told otherwise.
func TestPrivateCallbacksOnlyInDevByDefault(t *testing.T) {
	t.Parallel()
	db := map[string]string{"DATABASE_URL": "postgres://x/y"}
	dev, err := loadConfig("dev", nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	require.True(t, dev.AllowPrivateCallbacks)
	for _, cmd := range []string{"api", "worker"} {
		cfg, err := loadConfig(cmd, nil, envOf(db), io.Discard)
		require.NoError(t, err)
		require.False(t, cfg.AllowPrivateCallbacks, cmd)
	}
	cfg, err := loadConfig("worker", []string{"--allow-private-callbacks=true"}, envOf(db), io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.AllowPrivateCallbacks)
	dev, err = loadConfig("dev", nil, envOf(map[string]string{"LINEDESK_ALLOW_PRIVATE_CALLBACKS": "false"}), io.Discard)
	require.NoError(t, err)
	require.False(t, dev.AllowPrivateCallbacks)
	_, err = loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y", "LINEDESK_ALLOW_PRIVATE_CALLBACKS": "maybe"}), io.Discard)
	require.ErrorContains(t, err, "LINEDESK_ALLOW_PRIVATE_CALLBACKS")
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y",
		"LINEDESK_TRUSTED_PROXIES": " 10.1.2.0/24, 192.0.2.7 ,2001:db8::1,::ffff:10.0.0.5"}), io.Discard)
	require.NoError(t, err)
	var got []string
	for _, n := range cfg.TrustedProxies {
		got = append(got, n.String())
	}
	require.Equal(t, []string{"10.1.2.0/24", "192.0.2.7/32", "2001:db8::1/128", "10.0.0.5/32"}, got)

	none, err := loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y"}), io.Discard)
	require.NoError(t, err)
	require.Empty(t, none.TrustedProxies, "no proxy is trusted unless named")

	_, err = loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y",
		"LINEDESK_TRUSTED_PROXIES": "10.0.0.0/99,proxy.local"}), io.Discard)
	require.ErrorContains(t, err, `LINEDESK_TRUSTED_PROXIES: "10.0.0.0/99"`)
	require.ErrorContains(t, err, `"proxy.local"`)
}
