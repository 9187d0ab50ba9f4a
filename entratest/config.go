package entratest

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Well-known identifiers of the default configuration. They are fixed so
// that documentation, configuration files and tests can name them.
const (
	// DemoTenantID is the id of the default tenant (domain contoso.onmicrosoft.com).
	DemoTenantID = "3c0f2e8d-9b6a-4f1e-8d2c-7a5b4e3f2a10"
	// DemoTenantDomain is the primary domain of the default tenant.
	DemoTenantDomain = "contoso.onmicrosoft.com"
	// OtherTenantID is a second tenant (fabrikam.onmicrosoft.com), for
	// multi-tenant tests.
	OtherTenantID = "8e1d7c6b-5a49-4f38-b2e1-0d9c8b7a6f54"
	// DemoClientID is the client id of the default app registration, DemoApp.
	DemoClientID = "9d3b8e2a-4c1f-4a6e-b7d5-2e8f1a0c6b3d"
	// DemoClientSecret is DemoApp's client secret. It only opens the emulator.
	DemoClientSecret = "emu~DemoApp-secret-not-for-production"
	// DemoPassword is the password of every default user.
	DemoPassword = "Passw0rd!"

	// GraphAppID is the application id of Microsoft Graph; it is the
	// audience of the Graph access tokens the emulator issues.
	GraphAppID = "00000003-0000-0000-c000-000000000000"
	// GraphResource is Microsoft Graph's resource URI, the prefix of its
	// fully qualified scopes ("https://graph.microsoft.com/User.Read").
	GraphResource = "https://graph.microsoft.com"
)

// Config is everything the emulator knows: tenants with their app
// registrations, users and groups. Default returns a ready one; LoadConfig
// reads one from JSON.
type Config struct {
	Tenants []Tenant `json:"tenants"`

	// Lifetimes of what the emulator issues. Zero means the platform's
	// defaults: access and ID tokens 1 hour, codes 10 minutes, refresh
	// tokens 90 days, SSO sessions 24 hours. Managed identity tokens live
	// 24 hours, as the platform's do, unless AccessTokenLifetime is set.
	AccessTokenLifetime  Duration `json:"accessTokenLifetime,omitzero"`
	IDTokenLifetime      Duration `json:"idTokenLifetime,omitzero"`
	CodeLifetime         Duration `json:"codeLifetime,omitzero"`
	RefreshTokenLifetime Duration `json:"refreshTokenLifetime,omitzero"`
	SessionLifetime      Duration `json:"sessionLifetime,omitzero"`
}

// Tenant is a directory: its users, groups and the apps registered in it.
type Tenant struct {
	ID          string  `json:"id"`     // a GUID
	Domain      string  `json:"domain"` // primary verified domain, e.g. contoso.onmicrosoft.com
	DisplayName string  `json:"displayName,omitempty"`
	Apps        []App   `json:"apps,omitempty"`
	Users       []User  `json:"users,omitempty"`
	Groups      []Group `json:"groups,omitempty"`
	// ManagedIdentities are the identities of the emulated Azure host
	// (an App Service), served by the managed identity endpoint
	// (Server.ManagedIdentityURL). At most one in the whole configuration
	// is system-assigned.
	ManagedIdentities []ManagedIdentity `json:"managedIdentities,omitempty"`
}

// App is an app registration together with its enterprise application
// (service principal) settings.
type App struct {
	ClientID    string `json:"clientId"`
	DisplayName string `json:"displayName"`
	// IdentifierURI is the App ID URI of the API the app exposes;
	// "api://<clientId>" when empty.
	IdentifierURI string `json:"identifierUri,omitempty"`
	// Secrets are the client secrets (their values).
	Secrets []Secret `json:"secrets,omitempty"`
	// Certificates are PEM certificates whose private keys may sign client
	// assertions for this app.
	Certificates []string `json:"certificates,omitempty"`
	// FederatedCredentials let tokens of other issuers (a Kubernetes
	// cluster, a CI system, a managed identity) stand in as the app's
	// client assertion: workload identity federation.
	FederatedCredentials []FederatedCredential `json:"federatedCredentials,omitempty"`
	// RedirectURIs are the registered web redirect URIs. An http URI on a
	// loopback host (localhost, 127.0.0.1, [::1]) matches any port.
	RedirectURIs []string `json:"redirectUris,omitempty"`
	// PostLogoutRedirectURIs may be used after sign-out, besides RedirectURIs.
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris,omitempty"`
	// FrontChannelLogoutURL is the app's front-channel logout URL: when a
	// browser signs out at the emulator, the logout page loads it in a
	// hidden iframe, with iss and sid appended, for every app signed in
	// during that SSO session. An absolute http(s) URL; https unless the
	// host is loopback.
	FrontChannelLogoutURL string `json:"frontChannelLogoutUrl,omitempty"`
	// PublicClient allows token requests without a client credential.
	PublicClient bool `json:"publicClient,omitempty"`
	// MultiTenant lets users of every tenant sign in (and the app use the
	// organizations and common authorities).
	MultiTenant bool `json:"multiTenant,omitempty"`
	// AssignmentRequired refuses users holding none of the app's roles
	// (AADSTS50105).
	AssignmentRequired bool      `json:"assignmentRequired,omitempty"`
	AppRoles           []AppRole `json:"appRoles,omitempty"`
	// Scopes are the delegated permissions the app's API exposes, e.g.
	// "access_as_user".
	Scopes []string `json:"scopes,omitempty"`
	// ConsentedScopes are the delegated permissions granted to the app for
	// every user, fully qualified ("https://graph.microsoft.com/User.Read",
	// "api://.../access_as_user"). A user is asked to consent to others.
	ConsentedScopes []string `json:"consentedScopes,omitempty"`
	// ApplicationPermissions are the app roles granted to this app itself,
	// used by client credentials: "https://graph.microsoft.com/User.Read.All"
	// or "<identifierUri>/<role value>".
	ApplicationPermissions []string `json:"applicationPermissions,omitempty"`
	// GroupsClaim puts the user's group ids in tokens (groupMembershipClaims).
	GroupsClaim bool `json:"groupsClaim,omitempty"`
	// AccessTokenVersion is the version of access tokens for this app's own
	// API: 2 (the default here) or 1.
	AccessTokenVersion int `json:"accessTokenVersion,omitempty"`
}

// FederatedCredential is a federated identity credential of an app
// registration: a token whose iss, sub and aud match it, signed by the
// issuer, is accepted as the app's client assertion.
type FederatedCredential struct {
	Name string `json:"name,omitempty"`
	// Issuer is the token's iss, compared exactly. Server.Issuer(tenantID)
	// names the emulator itself (a managed identity's tokens); then
	// PublicKeyPEM may be left empty and the emulator's own keys verify.
	Issuer string `json:"issuer"`
	// Subject is the token's sub, compared exactly (case included, as
	// the platform does), e.g. "system:serviceaccount:ns:name" or a
	// managed identity's object id.
	Subject string `json:"subject"`
	// Audiences the token's aud must name one of;
	// ["api://AzureADTokenExchange"] when empty.
	Audiences []string `json:"audiences,omitempty"`
	// PublicKeyPEM is the issuer's RSA signing key: a PEM "PUBLIC KEY",
	// "RSA PUBLIC KEY" or "CERTIFICATE". The platform fetches it from the
	// issuer's JWKS; the emulator has no network, so it is given here.
	PublicKeyPEM string `json:"publicKeyPem,omitempty"`
}

// TokenExchangeAudience is the audience federated credentials expect by
// default, and the resource a managed identity asks a token for when its
// token is to be another app's federated credential.
const TokenExchangeAudience = "api://AzureADTokenExchange"

// ManagedIdentity is a managed identity of the emulated Azure host. Its
// tokens come from the managed identity endpoint, not the token endpoint.
type ManagedIdentity struct {
	// Name is the identity's resource name (for the system-assigned one,
	// the host's name). Required and unique.
	Name string `json:"name"`
	// SystemAssigned marks the host's own identity, the one a request
	// without client_id, object_id or mi_res_id gets.
	SystemAssigned bool `json:"systemAssigned,omitempty"`
	// ClientID is the application id of the identity's service principal;
	// derived from the name when empty.
	ClientID string `json:"clientId,omitempty"`
	// ObjectID is the service principal's object id, the sub and oid of
	// its tokens; derived from the name when empty.
	ObjectID string `json:"objectId,omitempty"`
	// ResourceID is the Azure resource id (mi_res_id); derived from the
	// name when empty.
	ResourceID string `json:"resourceId,omitempty"`
	// ApplicationPermissions are the app roles granted to the identity,
	// as App.ApplicationPermissions.
	ApplicationPermissions []string `json:"applicationPermissions,omitempty"`
}

// Secret is a client secret.
type Secret struct {
	Value   string    `json:"value"`
	Expires time.Time `json:"expires,omitzero"` // zero: never
}

// AppRole is an entry of an app registration's appRoles.
type AppRole struct {
	ID                 string   `json:"id"`
	Value              string   `json:"value"`
	DisplayName        string   `json:"displayName,omitempty"`
	Description        string   `json:"description,omitempty"`
	AllowedMemberTypes []string `json:"allowedMemberTypes,omitempty"` // "User", "Application"; default User
	// Disabled marks a role switched off (isEnabled false in the
	// manifest): Graph shows it so.
	Disabled bool `json:"disabled,omitempty"`
}

// User is a test user of a tenant.
type User struct {
	ObjectID    string `json:"objectId,omitempty"` // generated from the username when empty
	DisplayName string `json:"displayName"`
	GivenName   string `json:"givenName,omitempty"`
	Surname     string `json:"surname,omitempty"`
	Username    string `json:"username"` // user principal name, e.g. alice@contoso.onmicrosoft.com
	Email       string `json:"email,omitempty"`
	Password    string `json:"password"`
	JobTitle    string `json:"jobTitle,omitempty"`
	Disabled    bool   `json:"disabled,omitempty"`
	// AppRoles maps a client id to the values of that app's roles the user
	// is assigned.
	AppRoles map[string][]string `json:"appRoles,omitempty"`
	// Groups are the object ids of the groups the user belongs to.
	Groups []string `json:"groups,omitempty"`
}

// Group is a security group. Users name groups by id; a group needs no
// entry here unless it should have a display name in Graph.
type Group struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// Duration is a time.Duration written as "90s", "10m" or "2160h" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"10m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v <= 0 {
		return fmt.Errorf("duration %q must be positive", s)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) or(def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return time.Duration(d)
}

// StableID derives a GUID-shaped id from a name, so that generated users
// and groups keep their ids from one run to the next.
func StableID(name string) string {
	h := sha1.Sum([]byte("entratest:" + name))
	h[6] = h[6]&0x0f | 0x50 // version 5
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// The app roles of the seed's DemoApp, with the ids its manifest used.
var demoRoles = []AppRole{
	{ID: "a8161423-2e8e-46c4-9997-f984faccb625", Value: "DemoApp.Read", DisplayName: "DemoApp Read", Description: "Read access", AllowedMemberTypes: []string{"User"}},
	{ID: "b8161423-2e8e-46c4-9997-f984faccb625", Value: "DemoApp.Write", DisplayName: "DemoApp Write", Description: "Write access", AllowedMemberTypes: []string{"User"}},
	{ID: "f2ec0750-6aee-4640-8f44-e050b8e35326", Value: "DemoApp.Admin", DisplayName: "DemoApp Admin", Description: "Admin access", AllowedMemberTypes: []string{"User"}},
}

// Default returns the emulator's standard world: tenant contoso with the
// app DemoApp (roles DemoApp.Read, DemoApp.Write, DemoApp.Admin) and the
// users alice (Admin), bob (Write), carol (Read), dave (no role) and erin
// (Read, member of 250 groups: more than a token can carry), all with the
// password DemoPassword; and a second tenant, fabrikam, with frank.
// Contoso also holds the emulated host's system-assigned managed identity,
// "entratest-host", whose ids come from StableID.
func Default() *Config {
	dom := DemoTenantDomain
	user := func(name, display, role string, groups ...string) User {
		u := User{
			DisplayName: display,
			GivenName:   strings.Fields(display)[0],
			Surname:     strings.Fields(display)[1],
			Username:    name + "@" + dom,
			Email:       name + "@" + dom,
			Password:    DemoPassword,
			Groups:      groups,
		}
		if role != "" {
			u.AppRoles = map[string][]string{DemoClientID: {role}}
		}
		return u
	}
	staff := StableID("group:staff")
	admins := StableID("group:admins")
	erin := user("erin", "Erin Many-Groups", "DemoApp.Read", staff)
	var groups []Group
	groups = append(groups, Group{ID: staff, DisplayName: "Staff"}, Group{ID: admins, DisplayName: "Admins"})
	for i := 1; i < 250; i++ {
		g := Group{ID: StableID(fmt.Sprintf("group:project-%03d", i)), DisplayName: fmt.Sprintf("Project %03d", i)}
		groups = append(groups, g)
		erin.Groups = append(erin.Groups, g.ID)
	}
	return &Config{Tenants: []Tenant{
		{
			ID: DemoTenantID, Domain: dom, DisplayName: "Contoso (emulated)",
			Apps: []App{{
				ClientID:    DemoClientID,
				DisplayName: "DemoApp",
				Secrets:     []Secret{{Value: DemoClientSecret}},
				RedirectURIs: []string{
					"http://localhost/auth/callback",
					"http://127.0.0.1/auth/callback",
					"https://localhost/auth/callback",
					// entraweb proxy's callback, in App Service's layout.
					"http://localhost/.auth/login/aad/callback",
					"http://127.0.0.1/.auth/login/aad/callback",
				},
				PostLogoutRedirectURIs: []string{"http://localhost/", "http://127.0.0.1/", "https://localhost/",
					"http://localhost/.auth/logout/done", "http://127.0.0.1/.auth/logout/done"},
				AppRoles: demoRoles,
				Scopes:   []string{"access_as_user"},
				ConsentedScopes: []string{
					GraphResource + "/User.Read",
					GraphResource + "/GroupMember.Read.All",
					"api://" + DemoClientID + "/access_as_user",
				},
				// Application.Read.All lets entraweb doctor compare the
				// registration with the app's configuration.
				ApplicationPermissions: []string{GraphResource + "/User.Read.All", GraphResource + "/Application.Read.All"},
				GroupsClaim:            true,
			}},
			Users: []User{
				user("alice", "Alice Admin", "DemoApp.Admin", staff, admins),
				user("bob", "Bob Writer", "DemoApp.Write", staff),
				user("carol", "Carol Reader", "DemoApp.Read", staff),
				user("dave", "Dave No-Role", ""),
				erin,
			},
			Groups: groups,
			ManagedIdentities: []ManagedIdentity{{
				Name: "entratest-host", SystemAssigned: true,
				ClientID: StableID("managed-identity-client:entratest-host"),
				ObjectID: StableID("managed-identity:entratest-host"),
			}},
		},
		{
			ID: OtherTenantID, Domain: "fabrikam.onmicrosoft.com", DisplayName: "Fabrikam (emulated)",
			Users: []User{{
				DisplayName: "Frank Fabrikam", GivenName: "Frank", Surname: "Fabrikam",
				Username: "frank@fabrikam.onmicrosoft.com", Email: "frank@fabrikam.onmicrosoft.com",
				Password: DemoPassword, AppRoles: map[string][]string{DemoClientID: {"DemoApp.Read"}},
			}},
		},
	}}
}

// LoadConfig reads a configuration from a JSON file (the shape of Config).
// Unknown keys are errors.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses and validates a JSON configuration.
func ParseConfig(b []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("emulator configuration: %w", err)
	}
	if dec.More() {
		return nil, errors.New("emulator configuration: trailing data after the JSON object")
	}
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s has the shape of a GUID.
func IsGUID(s string) bool { return guidRE.MatchString(s) }

// normalize fills derived fields and reports every problem at once.
func (c *Config) normalize() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Tenants) == 0 {
		bad("tenants: at least one tenant is needed")
	}
	tenantSeen := map[string]bool{}
	clientSeen := map[string]bool{}
	for ti := range c.Tenants {
		t := &c.Tenants[ti]
		p := fmt.Sprintf("tenants[%d]", ti)
		t.ID = strings.ToLower(t.ID)
		t.Domain = strings.ToLower(t.Domain)
		if !IsGUID(t.ID) {
			bad("%s.id: %q is not a GUID", p, t.ID)
		}
		if t.Domain == "" || strings.ContainsAny(t.Domain, "/ ") || !strings.Contains(t.Domain, ".") {
			bad("%s.domain: %q is not a domain name such as contoso.onmicrosoft.com", p, t.Domain)
		}
		for _, k := range []string{t.ID, t.Domain} {
			if tenantSeen[k] {
				bad("%s: %q is used by two tenants", p, k)
			}
			tenantSeen[k] = true
		}
		for ai := range t.Apps {
			a := &t.Apps[ai]
			ap := fmt.Sprintf("%s.apps[%d]", p, ai)
			a.ClientID = strings.ToLower(a.ClientID)
			if !IsGUID(a.ClientID) {
				bad("%s.clientId: %q is not a GUID", ap, a.ClientID)
			}
			if clientSeen[a.ClientID] {
				bad("%s.clientId: %q is registered twice", ap, a.ClientID)
			}
			clientSeen[a.ClientID] = true
			if a.IdentifierURI == "" {
				a.IdentifierURI = "api://" + a.ClientID
			}
			if a.AccessTokenVersion == 0 {
				a.AccessTokenVersion = 2
			}
			if a.AccessTokenVersion != 1 && a.AccessTokenVersion != 2 {
				bad("%s.accessTokenVersion: must be 1 or 2", ap)
			}
			for i, s := range a.Secrets {
				if len(s.Value) < 8 {
					bad("%s.secrets[%d]: a secret needs at least 8 characters", ap, i)
				}
			}
			for i, pemText := range a.Certificates {
				if _, err := parseCertPEM(pemText); err != nil {
					bad("%s.certificates[%d]: %v", ap, i, err)
				}
			}
			if len(a.FederatedCredentials) > maxFederatedCredentials {
				bad("%s.federatedCredentials: at most %d per app", ap, maxFederatedCredentials)
			}
			ficSeen := map[string]bool{}
			for i := range a.FederatedCredentials {
				fc := &a.FederatedCredentials[i]
				fp := fmt.Sprintf("%s.federatedCredentials[%d]", ap, i)
				if len(fc.Audiences) == 0 {
					fc.Audiences = []string{TokenExchangeAudience}
				}
				for _, err := range fc.check(c) {
					bad("%s: %v", fp, err)
				}
				if k := fc.Issuer + "\x00" + fc.Subject; ficSeen[k] {
					bad("%s: issuer %q and subject %q are already used by another credential of the app", fp, fc.Issuer, fc.Subject)
				} else {
					ficSeen[k] = true
				}
			}
			for i, u := range append(append([]string{}, a.RedirectURIs...), a.PostLogoutRedirectURIs...) {
				pu, err := url.Parse(u)
				if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" || pu.Fragment != "" {
					bad("%s: redirect URI %d %q must be an absolute http(s) URL without a fragment", ap, i, u)
				} else if pu.Scheme == "http" && !isLoopback(pu.Hostname()) {
					bad("%s: redirect URI %q: plain http is only allowed for localhost and 127.0.0.1", ap, u)
				}
			}
			if a.FrontChannelLogoutURL != "" {
				if err := checkFrontChannelURL(a.FrontChannelLogoutURL); err != nil {
					bad("%s.frontChannelLogoutUrl: %v", ap, err)
				}
			}
			roleSeen := map[string]bool{}
			for i := range a.AppRoles {
				r := &a.AppRoles[i]
				if r.ID == "" {
					r.ID = StableID("role:" + a.ClientID + ":" + r.Value)
				}
				if r.Value == "" || strings.ContainsAny(r.Value, " \t") {
					bad("%s.appRoles[%d].value: %q must be a non-empty word", ap, i, r.Value)
				}
				if roleSeen[r.Value] {
					bad("%s.appRoles[%d].value: %q is defined twice", ap, i, r.Value)
				}
				roleSeen[r.Value] = true
				if len(r.AllowedMemberTypes) == 0 {
					r.AllowedMemberTypes = []string{"User"}
				}
			}
		}
		userSeen := map[string]bool{}
		for ui := range t.Users {
			u := &t.Users[ui]
			up := fmt.Sprintf("%s.users[%d]", p, ui)
			if u.Username == "" || !strings.Contains(u.Username, "@") {
				bad("%s.username: %q must look like name@domain", up, u.Username)
			}
			key := strings.ToLower(u.Username)
			if userSeen[key] {
				bad("%s.username: %q is used twice", up, u.Username)
			}
			userSeen[key] = true
			if u.ObjectID == "" {
				u.ObjectID = StableID("user:" + key)
			}
			u.ObjectID = strings.ToLower(u.ObjectID)
			if !IsGUID(u.ObjectID) {
				bad("%s.objectId: %q is not a GUID", up, u.ObjectID)
			}
			if u.DisplayName == "" {
				u.DisplayName = u.Username
			}
			if u.Password == "" {
				bad("%s.password: empty (every test user needs one)", up)
			}
			for i, g := range u.Groups {
				if !IsGUID(g) {
					bad("%s.groups[%d]: %q is not a GUID", up, i, g)
				}
			}
		}
	}
	c.normalizeManagedIdentities(bad, clientSeen)
	// Role assignments must name roles that exist.
	roles := map[string]map[string]bool{}
	for _, t := range c.Tenants {
		for _, a := range t.Apps {
			m := map[string]bool{}
			for _, r := range a.AppRoles {
				m[r.Value] = true
			}
			roles[a.ClientID] = m
		}
	}
	for ti, t := range c.Tenants {
		for ui, u := range t.Users {
			for cid, vals := range u.AppRoles {
				m, ok := roles[strings.ToLower(cid)]
				if !ok {
					bad("tenants[%d].users[%d].appRoles: no app with client id %q", ti, ui, cid)
					continue
				}
				for _, v := range vals {
					if !m[v] {
						bad("tenants[%d].users[%d].appRoles: app %s has no role %q", ti, ui, cid, v)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

func parseCertPEM(s string) (*x509.Certificate, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// hostRE is a DNS name or an IPv4 address: what a Content-Security-Policy
// source can name. The logout page allows the frames of front-channel
// logout URLs by origin, and CSP has no syntax for an IPv6 literal.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// checkFrontChannelURL validates a front-channel logout URL. It is loaded
// in a frame of an https page, so plain http is only allowed where
// browsers treat it as secure: on loopback.
func checkFrontChannelURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q must be an absolute http(s) URL", raw)
	case u.User != nil || u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%q must have neither user info nor a fragment", raw)
	case u.Port() != "" && !validPort(u.Port()):
		return fmt.Errorf("%q: the port must be a number from 1 to 65535", raw)
	case !hostRE.MatchString(u.Hostname()):
		return fmt.Errorf("%q: the host must be a DNS name or an IPv4 address (use localhost rather than [::1])", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("%q: plain http is only allowed for localhost and 127.0.0.1; use https", raw)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// clone returns a deep copy, so that a Server never shares mutable state
// with its caller.
func (c *Config) clone() *Config {
	b, err := json.Marshal(c)
	if err != nil {
		panic("entratest: config does not marshal: " + err.Error())
	}
	var out Config
	if err := json.Unmarshal(b, &out); err != nil {
		panic("entratest: config does not round-trip: " + err.Error())
	}
	return &out
}
