package oidc

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// GraphAppID is Microsoft Graph's application id, the aud of the v1.0
// tokens Entra issues for it.
const GraphAppID = "00000003-0000-0000-c000-000000000000"

// graphAudiences are Microsoft Graph's resource URIs in each cloud: a
// token with one of them as aud is Graph's, whoever sent it.
var graphAudiences = []string{"https://graph.microsoft.com", "https://graph.microsoft.us",
	"https://dod-graph.microsoft.us", "https://microsoftgraph.chinacloudapi.cn"}

// isGraphAudience reports whether aud names Microsoft Graph.
func isGraphAudience(aud string) bool {
	if strings.EqualFold(aud, GraphAppID) {
		return true
	}
	aud = strings.TrimSuffix(aud, "/")
	return slices.ContainsFunc(graphAudiences, func(g string) bool { return strings.EqualFold(g, aud) })
}

// AccessClaims are the claims of an access token for the app's own API.
type AccessClaims struct {
	jwt.RegisteredClaims
	ObjectID          string   `json:"oid"`
	TenantID          string   `json:"tid"`
	Version           string   `json:"ver"`
	Scope             string   `json:"scp"` // delegated permissions, space separated
	Roles             []string `json:"roles"`
	IDType            string   `json:"idtyp"` // "app" for app-only tokens
	AZP               string   `json:"azp"`   // the calling client (v2.0)
	AppID             string   `json:"appid"` // the calling client (v1.0)
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	UPN               string   `json:"upn"`
	Nonce             string   `json:"nonce"`
	// ClientCapabilities (xms_cc) are what the calling client declared it
	// can handle: "cp1" means it can answer a claims challenge.
	ClientCapabilities []string `json:"xms_cc"`

	// Scopes is Scope split, sorted; filled by VerifyAccessToken.
	Scopes []string `json:"-"`
	// Principal is what AccessVerifier.Principal made of these claims,
	// kept with them in the cache of validated tokens.
	Principal any `json:"-"`
}

// IsApp reports whether the token is app-only (client credentials): its
// idtyp says so, or, where that optional claim is not configured, it
// carries no scp and its subject is the caller's own object id.
func (c *AccessClaims) IsApp() bool {
	if c.IDType != "" {
		return c.IDType == "app"
	}
	return c.Scope == "" && c.Subject != "" && c.Subject == c.ObjectID
}

// Client is the application id of the calling client.
func (c *AccessClaims) Client() string {
	if c.AZP != "" {
		return c.AZP
	}
	return c.AppID
}

// HasCapability reports whether the client declared capability cap
// (case-insensitively) in xms_cc.
func (c *AccessClaims) HasCapability(cap string) bool {
	return slices.ContainsFunc(c.ClientCapabilities, func(v string) bool { return strings.EqualFold(v, cap) })
}

// AccessVerifier validates the bearer tokens clients send to the app's
// API, with the keys, issuer, tenant allow-list, skew and clock of the
// ID-token Verifier it embeds: one key set and one code path for both
// kinds of token.
type AccessVerifier struct {
	*Verifier
	// V1Issuer is the issuer of v1.0 access tokens, with the tenant
	// placeholder: https://sts.windows.net/{tenantid}/ in the public cloud.
	// Empty refuses v1.0 tokens.
	V1Issuer string
	// Audiences are the accepted aud values (compared case-insensitively).
	// Empty means Microsoft.Identity.Web's default: the client id for
	// v2.0 tokens and api://<client id> for v1.0 tokens.
	Audiences []string
	// AllowNoPermissions accepts tokens that carry neither scp nor roles,
	// for an API that keeps its own access list. Off, they are refused.
	AllowNoPermissions bool
	// Principal, when set, is called once per validated token; its result
	// is cached with the claims (AccessClaims.Principal).
	Principal func(*AccessClaims) any

	cache *validatedCache
}

// EnableCache keeps up to size validated tokens (until each expires), so
// a token sent again is not verified again. size <= 0 turns the cache
// off. Call it before the verifier is used.
func (v *AccessVerifier) EnableCache(size int) {
	if size <= 0 {
		v.cache = nil
		return
	}
	v.cache = newValidatedCache(size)
}

// CacheLen is the number of validated tokens cached.
func (v *AccessVerifier) CacheLen() int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}

// maxAccessTokenSize bounds what is parsed at all: Entra's access tokens
// are a few kilobytes even with many groups.
const maxAccessTokenSize = 16 << 10

// VerifyAccessToken validates a bearer token a client sent to the API
// and returns its claims, shared with later calls for the same token:
// read them, never change them. An error is a *TokenError (with Access
// set), or wraps ErrProviderUnavailable when the keys could not be
// fetched.
func (v *AccessVerifier) VerifyAccessToken(ctx context.Context, raw string) (*AccessClaims, error) {
	now := v.Now()
	// Read before verifying: a key retired while this token is verified
	// leaves its entry of an older generation, checked again next time.
	gen := v.Keys.Generation()
	if c, ok := v.cache.get(raw, now, gen); ok {
		return c, nil
	}
	c, err := v.verifyAccess(ctx, raw)
	if err != nil {
		if te, ok := err.(*TokenError); ok {
			te.Access = true
		}
		return nil, err
	}
	if v.Principal != nil {
		c.Principal = v.Principal(c)
	}
	v.cache.put(raw, c, c.ExpiresAt.Time, now, gen)
	return c, nil
}

func (v *AccessVerifier) verifyAccess(ctx context.Context, raw string) (*AccessClaims, error) {
	if len(raw) > maxAccessTokenSize {
		return nil, refuse(fmt.Sprintf("larger than %d bytes", maxAccessTokenSize), nil)
	}
	var c AccessClaims
	keyIssuer, err := v.parse(ctx, raw, Untrusted, &c)
	if err != nil {
		return nil, err
	}
	for _, a := range c.Audience {
		if isGraphAudience(a) {
			return nil, refuse("a Microsoft Graph token (audience "+clip(a)+"): it is for Graph, not for this API; ask Entra ID for a token with this API's scope (api://<client id>/<scope>)", nil)
		}
	}
	switch {
	case c.TenantID == "":
		return nil, refuse("missing tid claim", nil)
	case c.ObjectID == "":
		return nil, refuse("missing oid claim", nil)
	case c.Subject == "":
		return nil, refuse("missing sub claim", nil)
	case c.IssuedAt == nil:
		return nil, refuse("missing iat claim", nil)
	case len(c.Audience) != 1:
		return nil, refuse("the token must have exactly one audience", nil)
	case c.Nonce != "" || c.Client() == "":
		// ID tokens carry the sign-in's nonce and name no calling client
		// (azp/appid); access tokens always name one.
		return nil, refuse("an ID token, not an access token: ask Entra ID for an access token with this API's scope", nil)
	}
	var v1 bool
	switch c.Version {
	case "2.0":
	case "1.0":
		if v.V1Issuer == "" {
			return nil, refuse("a v1.0 token, and v1.0 tokens are not accepted here", nil)
		}
		v1 = true
	default:
		return nil, refuse(fmt.Sprintf("token version %q (1.0 or 2.0 expected)", clip(c.Version)), nil)
	}
	if !v.audienceOK(c.Audience[0], v1) {
		return nil, refuse(fmt.Sprintf("audience %q is not this API (%s)", clip(c.Audience[0]), v.audienceText(v1)), nil)
	}
	want := v.Issuer
	if v1 {
		want = v.V1Issuer
	}
	if err := v.checkIssuer(c.Issuer, c.TenantID, want, keyIssuer, v1); err != nil {
		return nil, err
	}
	c.Scopes = strings.Fields(c.Scope)
	slices.Sort(c.Scopes)
	c.Scopes = slices.Compact(c.Scopes)
	slices.Sort(c.Roles)
	c.Roles = slices.Compact(c.Roles)
	if len(c.Scopes) == 0 && len(c.Roles) == 0 && !v.AllowNoPermissions {
		return nil, refuse("the token grants no permission (neither scp nor roles): grant the client a delegated scope or an app role of this API", nil)
	}
	return &c, nil
}

// V1Issuer is the issuer of the v1.0 access tokens of the tenant (or
// tenant template) whose v2.0 issuer is v2Issuer
// (https://<authority host>/<tenant>/v2.0): the same tenant segment on
// the cloud's v1.0 token service. "" when v2Issuer has no tenant.
func V1Issuer(v2Issuer string) string {
	u, err := url.Parse(v2Issuer)
	if err != nil {
		return ""
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if seg == "" {
		return ""
	}
	switch strings.ToLower(u.Hostname()) {
	case "login.microsoftonline.us":
		return "https://login.microsoftonline.us/" + seg + "/"
	case "login.chinacloudapi.cn", "login.partner.microsoftonline.cn":
		return "https://sts.chinacloudapi.cn/" + seg + "/"
	}
	// The public cloud, and emulators, which issue v1.0 tokens as it does.
	return "https://sts.windows.net/" + seg + "/"
}

func (v *AccessVerifier) audienceOK(aud string, v1 bool) bool {
	if len(v.Audiences) > 0 {
		return slices.ContainsFunc(v.Audiences, func(a string) bool { return strings.EqualFold(a, aud) })
	}
	if v1 {
		return strings.EqualFold(aud, "api://"+v.ClientID)
	}
	return strings.EqualFold(aud, v.ClientID)
}

func (v *AccessVerifier) audienceText(v1 bool) string {
	switch {
	case len(v.Audiences) > 0:
		return "accepted: " + strings.Join(v.Audiences, ", ")
	case v1:
		return "a v1.0 token must be for api://" + v.ClientID
	}
	return "a v2.0 token must be for " + v.ClientID
}

// clip shortens a claim value quoted in a refusal: reasons go into logs
// and WWW-Authenticate headers, and the claims are the sender's to choose.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
