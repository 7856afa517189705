package secretbox_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/linedesk/linedesk/secretbox"
)

func TestSealOpen(t *testing.T) {
	b, err := secretbox.New(secretbox.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal("channels.credentials", []byte("123456:bot-token"))
	if bytes.Contains(sealed, []byte("bot-token")) {
		t.Fatal("the sealed value shows the secret")
	}
	if again := b.Seal("channels.credentials", []byte("123456:bot-token")); bytes.Equal(again, sealed) {
		t.Fatal("two seals of one secret are equal: the nonce is not random")
	}
	plain, err := b.Open("channels.credentials", sealed)
	if err != nil || string(plain) != "123456:bot-token" {
		t.Fatalf("open = %q, %v", plain, err)
	}
	if _, err := b.Open("webhooks.secret", sealed); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Fatalf("opened under another purpose: %v", err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := b.Open("channels.credentials", tampered); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Fatalf("a tampered value opened: %v", err)
	}
	other := secretbox.Ephemeral()
	if _, err := other.Open("channels.credentials", sealed); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Fatalf("another key opened it: %v", err)
	}
	if _, err := b.Open("x", []byte("ldx1")); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Fatalf("a truncated value: %v", err)
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := secretbox.NewKey(), secretbox.NewKey()
	oldBox, _ := secretbox.New(oldKey)
	sealed := oldBox.Seal("p", []byte("s"))
	rotated, err := secretbox.New(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := rotated.Open("p", sealed); err != nil || string(plain) != "s" {
		t.Fatalf("the rotated box does not open the old value: %q %v", plain, err)
	}
	if rotated.SealedWithPrimary(sealed) || !rotated.SealedWithPrimary(rotated.Seal("p", []byte("s"))) {
		t.Fatal("SealedWithPrimary is wrong")
	}
}

func TestLegacyAndEmpty(t *testing.T) {
	b := secretbox.Ephemeral()
	if plain, err := b.Open("p", []byte("ldw_plain")); err != nil || string(plain) != "ldw_plain" {
		t.Fatalf("legacy = %q %v", plain, err)
	}
	if b.Seal("p", nil) != nil {
		t.Fatal("an empty secret was sealed")
	}
}

func TestParseKey(t *testing.T) {
	k := secretbox.NewKey()
	for _, s := range []string{secretbox.EncodeKey(k), " " + secretbox.EncodeKey(k) + "\n"} {
		got, err := secretbox.ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Fatalf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	hex := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	if got, err := secretbox.ParseKey(hex); err != nil || got[31] != 0x1f {
		t.Fatalf("hex key: %x %v", got, err)
	}
	for _, bad := range []string{"", "short", "c2hvcnQ="} {
		if _, err := secretbox.ParseKey(bad); err == nil {
			t.Fatalf("ParseKey(%q) accepted", bad)
		}
	}
}

func TestKeyIDsNameTheKeyAValueNeeds(t *testing.T) {
	oldKey, newKey := secretbox.NewKey(), secretbox.NewKey()
	oldBox, _ := secretbox.New(oldKey)
	sealed := oldBox.Seal("p", []byte("s"))
	if got, want := secretbox.SealedKeyID(sealed), secretbox.KeyID(oldKey); got != want || len(got) != 8 {
		t.Fatalf("SealedKeyID = %q, want %q", got, want)
	}
	if secretbox.KeyID(newKey) == secretbox.KeyID(oldKey) {
		t.Fatal("two keys share an id")
	}
	if secretbox.SealedKeyID([]byte("legacy")) != "" || secretbox.SealedKeyID([]byte("ldx1ab")) != "" {
		t.Fatal("a legacy or truncated value names a key")
	}
}

func TestDeriveAllStartsWithThePrimary(t *testing.T) {
	oldKey, newKey := secretbox.NewKey(), secretbox.NewKey()
	oldBox, _ := secretbox.New(oldKey)
	rotated, _ := secretbox.New(newKey, oldKey)
	all := rotated.DeriveAll("file links")
	if len(all) != 2 || !bytes.Equal(all[0], rotated.Derive("file links")) || !bytes.Equal(all[1], oldBox.Derive("file links")) {
		t.Fatal("DeriveAll is not the primary's derived key followed by the old key's")
	}
	if bytes.Equal(rotated.Derive("file links"), rotated.Derive("vk oauth state")) {
		t.Fatal("two purposes share a derived key")
	}
}
