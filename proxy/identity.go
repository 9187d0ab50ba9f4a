package proxy

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"

	"github.com/entraweb/entraweb"
)

// Claim types as App Service writes them into X-MS-CLIENT-PRINCIPAL and
// /.auth/me: .NET's default claims mapping turns some of the ID token's
// names into WS-Federation URIs and keeps the others.
const (
	claimObjectID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	claimTenantID = "http://schemas.microsoft.com/identity/claims/tenantid"
	claimEmail    = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
	claimRole     = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
)

// maxTokenGroups is how many groups Entra ID puts in a token before it
// sends an overage marker instead; the principal does the same.
const maxTokenGroups = 200

// maxPrincipalHeader bounds X-MS-CLIENT-PRINCIPAL: common servers refuse
// longer header lines (gunicorn at 8,190 bytes, nginx's default buffers
// at 8 KB), which would lock users in many groups out of the app. Groups
// that do not fit give way to the overage marker.
const maxPrincipalHeader = 7000

// Claim is one claim of App Service's client principal: a type and a
// string value.
type Claim struct {
	Typ string `json:"typ"`
	Val string `json:"val"`
}

// ClientPrincipal is what X-MS-CLIENT-PRINCIPAL holds, base64-encoded
// JSON, as App Service's authentication sends it to the app behind it.
type ClientPrincipal struct {
	AuthTyp string  `json:"auth_typ"`
	Claims  []Claim `json:"claims"`
	NameTyp string  `json:"name_typ"`
	RoleTyp string  `json:"role_typ"`
}

// identity is what the proxy says about one user, prepared once: the
// claims and every header value.
type identity struct {
	claims  []Claim
	headers []headerValue // to the upstream, and in /.auth/verify's 200
	verify  []headerValue // only in /.auth/verify's 200: X-Auth-Request-*
}

// claimsOf lists a user's claims as App Service maps them, roles expanded
// through the hierarchy.
func (s *settings) claimsOf(u *entraweb.User, withGroups bool) []Claim {
	cs := []Claim{
		{"aud", s.entra.ClientID},
		{"iss", s.issuerBase + "/" + u.TenantID + "/v2.0"},
		{"name", u.Name},
		{claimObjectID, u.ObjectID},
		{"preferred_username", u.Username},
		{claimTenantID, u.TenantID},
	}
	// name_typ names this claim, as in the principals App Service sends;
	// without an email claim, the username (usually the same address)
	// stands in so that the name is never missing.
	email := u.Email
	if email == "" {
		email = u.Username
	}
	cs = append(cs, Claim{claimEmail, email})
	for _, r := range u.Roles {
		cs = append(cs, Claim{"roles", r})
	}
	if len(u.Groups) > maxTokenGroups || !withGroups {
		cs = append(cs, Claim{"hasgroups", "true"})
	} else {
		for _, g := range u.Groups {
			cs = append(cs, Claim{"groups", g})
		}
	}
	return cs
}

func (s *settings) buildIdentity(u *entraweb.User) *identity {
	id := &identity{claims: s.claimsOf(u, true)}
	one := func(name, v string) headerValue { return headerValue{name, []string{headerSafe(v)}} }
	if s.easyAuth {
		p := principalHeader(id.claims)
		if len(p) > maxPrincipalHeader && len(u.Groups) > 0 {
			id.claims = s.claimsOf(u, false)
			p = principalHeader(id.claims)
		}
		id.headers = append(id.headers,
			one("X-Ms-Client-Principal", p),
			one("X-Ms-Client-Principal-Id", u.ObjectID),
			one("X-Ms-Client-Principal-Name", u.Username),
			one("X-Ms-Client-Principal-Idp", "aad"),
		)
	}
	if s.oauth2 {
		vals := []struct{ suffix, v string }{
			{"User", u.ObjectID},
			{"Email", u.Email},
			{"Preferred-Username", u.Username},
			{"Groups", strings.Join(u.Groups, ",")},
			{"Roles", strings.Join(u.Roles, ",")},
		}
		for _, v := range vals {
			if v.v == "" {
				continue
			}
			id.headers = append(id.headers, one("X-Forwarded-"+v.suffix, v.v))
			id.verify = append(id.verify, one("X-Auth-Request-"+v.suffix, v.v))
		}
	}
	return id
}

// principalHeader encodes claims as X-MS-CLIENT-PRINCIPAL: standard,
// padded base64 of the JSON, which .NET's Convert.FromBase64String (App
// Service's documented way to read it) accepts.
func principalHeader(cs []Claim) string {
	b, _ := json.Marshal(ClientPrincipal{AuthTyp: "aad", Claims: cs, NameTyp: claimEmail, RoleTyp: claimRole})
	return base64.StdEncoding.EncodeToString(b)
}

// identityCache keeps the identity of each User value entraweb hands out.
// entraweb shares one *User among the requests of a session's stored
// version, so the pointer is a key that changes when the user does.
// Bounded: when full, an arbitrary entry goes.
type identityCache struct {
	mu sync.Mutex
	m  map[*entraweb.User]*identity
}

const maxCachedIdentities = 10000

func (c *identityCache) get(s *settings, u *entraweb.User) *identity {
	c.mu.Lock()
	id, ok := c.m[u]
	c.mu.Unlock()
	if ok {
		return id
	}
	id = s.buildIdentity(u)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[*entraweb.User]*identity{}
	}
	if len(c.m) >= maxCachedIdentities {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[u] = id
	return id
}
