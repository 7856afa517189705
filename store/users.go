package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/argon2"
)

// User roles.
const (
	RoleAdmin      = "admin"
	RoleSupervisor = "supervisor"
	RoleOperator   = "operator"
)

// User is a person who signs in to the console.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Presence  string    `json:"presence"`
	CreatedAt time.Time `json:"created_at"`
	// TokenID is the API token the request was authenticated with (0: a session); the audit log
	// names it.
	TokenID int64 `json:"-"`
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Role     string
}

const userColumns = `id, email, name, role, presence, created_at`

func scanUser(row rowScanner) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Presence, &u.CreatedAt)
	return u, err
}

// CreateUser stores a user with an argon2id hash of the password.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	hash, err := HashPassword(nu.Password)
	if err != nil {
		return User{}, err
	}
	if nu.Role == "" {
		nu.Role = RoleOperator
	}
	row := s.pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash, role)
		VALUES ($1, $2, $3, $4) RETURNING `+userColumns,
		strings.TrimSpace(nu.Email), nu.Name, hash, nu.Role)
	u, err := scanUser(row)
	return u, translate(err, "create user")
}

// CountUsers tells whether the database has any user yet.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, translate(err, "count users")
}

// UserByID returns an enabled user.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = $1 AND disabled_at IS NULL`, id))
	return u, translate(err, "user by id")
}

// Authenticate checks an email and password. It returns ErrNotFound for an unknown email or a
// wrong password alike, and spends the same hashing work on both so timing does not tell them apart.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	var hash string
	u, err := scanUserWithHash(s.pool.QueryRow(ctx,
		`SELECT `+userColumns+`, password_hash FROM users WHERE lower(email) = lower($1) AND disabled_at IS NULL`,
		strings.TrimSpace(email)), &hash)
	if err != nil {
		_ = CheckPassword(dummyHash, password)
		return User{}, translate(err, "authenticate")
	}
	if !CheckPassword(hash, password) {
		return User{}, fmt.Errorf("authenticate: %w", ErrNotFound)
	}
	return u, nil
}

func scanUserWithHash(row rowScanner, hash *string) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Presence, &u.CreatedAt, hash)
	return u, err
}

// Session lifetime for the console.
const SessionTTL = 14 * 24 * time.Hour

// CreateSession stores a new session for the user and returns the cookie value.
func (s *Store) CreateSession(ctx context.Context, userID int64) (string, error) {
	token := randomToken("lds_")
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		tokenHash(token), userID, time.Now().Add(SessionTTL))
	return token, translate(err, "create session")
}

// UserBySession returns the user of a live session.
func (s *Store) UserBySession(ctx context.Context, token string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT u.id, u.email, u.name, u.role, u.presence, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL`, tokenHash(token)))
	return u, translate(err, "user by session")
}

// DeleteSession ends a session; ending an unknown one is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token))
	return translate(err, "delete session")
}

// APIToken describes a token without its secret.
type APIToken struct {
	ID     int64  `json:"id"`
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	// Role is the highest role the token acts with ("" : its owner's).
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Revoked    bool       `json:"revoked"`
}

// NewAPIToken is what CreateAPIToken needs.
type NewAPIToken struct {
	UserID    int64
	Name      string
	Role      string // "" acts with the owner's role
	ExpiresAt *time.Time
}

const apiTokenColumns = `id, user_id, name, coalesce(role, ''), created_at, expires_at, last_used_at, revoked_at IS NOT NULL`

func scanAPIToken(row rowScanner) (APIToken, error) {
	var t APIToken
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Role, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.Revoked)
	return t, err
}

// CreateAPIToken stores a hash of a new token and returns the token itself, which is never stored.
func (s *Store) CreateAPIToken(ctx context.Context, nt NewAPIToken) (APIToken, string, error) {
	token := randomToken("ldt_")
	var role *string
	if nt.Role != "" {
		role = &nt.Role
	}
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, role, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+apiTokenColumns, nt.UserID, nt.Name, tokenHash(token), role, nt.ExpiresAt))
	return t, token, translate(err, "create api token")
}

// APITokens lists a user's tokens, newest first, revoked and expired ones included.
func (s *Store) APITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, translate(err, "api tokens")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIToken, error) { return scanAPIToken(r) })
	return out, translate(err, "api tokens")
}

// APITokenByID returns one token.
func (s *Store) APITokenByID(ctx context.Context, id int64) (APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = $1`, id))
	return t, translate(err, "api token")
}

// RevokeAPIToken stops a token at once; revoking a revoked token changes nothing.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) (APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
		WHERE id = $1 RETURNING `+apiTokenColumns, id))
	return t, translate(err, "revoke api token")
}

// UserByAPIToken returns the owner of a live (not revoked, not expired) token and notes its use.
// The user's role is the lower of the owner's and the token's.
func (s *Store) UserByAPIToken(ctx context.Context, token string) (User, error) {
	var u User
	var tokenRole string
	err := s.pool.QueryRow(ctx, `UPDATE api_tokens t SET last_used_at = now()
		FROM users u WHERE u.id = t.user_id AND t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL
			AND (t.expires_at IS NULL OR t.expires_at > now())
		RETURNING u.id, u.email, u.name, u.role, u.presence, u.created_at, coalesce(t.role, ''), t.id`, tokenHash(token)).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Presence, &u.CreatedAt, &tokenRole, &u.TokenID)
	if err != nil {
		return User{}, translate(err, "user by api token")
	}
	if tokenRole != "" && RoleRank(tokenRole) < RoleRank(u.Role) {
		u.Role = tokenRole
	}
	return u, nil
}

// RoleRank orders roles: operator < supervisor < admin (0 for an unknown role).
func RoleRank(role string) int {
	switch role {
	case RoleOperator:
		return 1
	case RoleSupervisor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// randomToken returns prefix + 256 random bits, base64url.
func randomToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is how session cookies and API tokens are kept: a SHA-256 of a 256-bit random
// value needs no salt or stretching.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// argon2id parameters (RFC 9106's second recommended option, with a smaller memory cost that
// suits a small machine).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

var dummyHash, _ = HashPassword("linedesk-dummy-password")

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", errors.New("password is empty")
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a hash made by HashPassword.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var memory, iterations uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &iterations, &threads); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iterations, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// RandomSecret returns 256 random bits, base64url: a password nobody knows, for a user who will
// choose theirs through a one-time link.
func RandomSecret() string { return randomToken("") }
