package entraweb

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entraweb/entraweb/internal/tokencache"
	"github.com/entraweb/entraweb/session"
)

// User is the signed-in user, as the ID token described them at sign-in.
// Identify users by ObjectID and TenantID together, never by Username:
// it can change and is not unique across tenants.
//
// The User that RequireLogin puts in a request's context is shared by the
// requests of its session (decoding it once is what keeps a signed-in
// request cheap): read it, never change it, and copy a slice before
// changing the copy.
type User struct {
	Name     string `json:"name"`
	Username string `json:"username"` // preferred_username: for display only
	Email    string `json:"email,omitempty"`
	ObjectID string `json:"oid"`
	TenantID string `json:"tid"`
	// Roles are the app roles held, expanded through the hierarchy (an
	// Admin also holds Write and Read), sorted.
	Roles []string `json:"roles"`
	// AssignedRoles are the roles as the token carried them.
	AssignedRoles []string `json:"assigned_roles"`
	// Groups are the object ids of the user's groups: from the token, or,
	// for a user in more groups than a token holds, read from Microsoft
	// Graph at sign-in. GroupsOverage is set when they could not be read
	// (Groups is then empty).
	Groups        []string  `json:"groups"`
	GroupsOverage bool      `json:"groups_overage,omitempty"`
	SignedInAt    time.Time `json:"signed_in_at"`
	// IsApp is set for the caller of an API whose access token is
	// app-only (client credentials: a daemon, no user): ObjectID is then
	// the calling app's service principal and Roles its application
	// permissions. Web sign-ins never set it.
	IsApp bool `json:"is_app,omitempty"`

	// tokens names the token cache partition of the session this user
	// came from: each session has its own.
	tokens string
}

// storedUser is a User as a session keeps it, with its session's token
// partition.
type storedUser struct {
	*User
	Tokens string `json:"tk,omitempty"`
}

// partition is where the tokens of u's session are kept.
func (u *User) partition() tokencache.Partition {
	return tokencache.Partition{Key: u.tokens, Account: tokencache.AccountID(u.ObjectID, u.TenantID)}
}

// HasRole reports whether the user holds role, directly or through the
// hierarchy.
func (u *User) HasRole(role string) bool {
	_, ok := slices.BinarySearch(u.Roles, role)
	return ok
}

type userKey struct{}

// UserFrom returns the signed-in user of a request's context, or nil.
// RequireLogin and RequireRole put it there.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

// WithUser returns a context carrying u, for tests of handlers.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// Session values entraweb keeps.
const (
	valUser      = "user"
	valCSRF      = "csrf"
	valLoginHint = "login_hint"
	valSID       = "sid"     // the Entra session's id, for front-channel logout
	valStepUp    = "step_up" // when and for what this session's sign-in was a step-up
)

// sessionUser is the user of a session, for Session.Memo.
func (a *Auth) sessionUser(s *session.Session) any {
	if u := a.userFromValues(s.Values); u != nil {
		return u
	}
	return nil
}

// userFromValues decodes the user a session keeps, or takes it from the
// cache of users decoded before (a new version of a session, after a
// last-seen write, holds the same user text).
func (a *Auth) userFromValues(v map[string]string) *User {
	raw := v[valUser]
	if u, ok := a.users.get(raw); ok {
		return u
	}
	a.users.decodes.Add(1)
	u, ok := decodeUser(raw)
	if !ok || u.ObjectID == "" || u.TenantID == "" {
		return nil
	}
	// The hierarchy is applied when a session is read, not when it was
	// written, so a changed configuration takes effect at once.
	u.Roles = a.s.roles.expand(u.AssignedRoles)
	a.users.put(raw, u)
	return u
}

// userCache keeps the users decoded from session values, keyed by the
// stored text itself: a session read again yields the same text, and the
// same text always decodes to the same user. Bounded.
type userCache struct {
	mu sync.Mutex
	m  map[string]*User

	off     bool         // benchmarks of the miss path turn it off
	decodes atomic.Int64 // users decoded from their stored text
}

const maxCachedUsers = 10000

func (c *userCache) get(raw string) (*User, bool) {
	if c.off {
		return nil, false
	}
	c.mu.Lock()
	u, ok := c.m[raw]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return u, true
}

func (c *userCache) put(raw string, u *User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*User{}
	}
	if len(c.m) >= maxCachedUsers {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[raw] = u
}
