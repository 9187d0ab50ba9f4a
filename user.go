package entraweb

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// User is the signed-in user, as the ID token described them at sign-in.
// Identify users by ObjectID and TenantID together, never by Username:
// it can change and is not unique across tenants.
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
)

func (a *Auth) userFromValues(v map[string]string) *User {
	var u User
	if json.Unmarshal([]byte(v[valUser]), &u) != nil || u.ObjectID == "" || u.TenantID == "" {
		return nil
	}
	// The hierarchy is applied on every load, so a changed configuration
	// takes effect without signing everyone out.
	u.Roles = a.s.roles.expand(u.AssignedRoles)
	return &u
}
