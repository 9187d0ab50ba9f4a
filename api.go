package entraweb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/entraweb/entraweb/internal/oidc"
)

// APIConfig configures the protection of a JSON API with Entra access
// tokens. The zero value accepts the tokens Microsoft.Identity.Web
// accepts by default.
type APIConfig struct {
	// Audiences are the accepted aud values of access tokens. Empty means
	// the client id for v2.0 tokens and api://<client id> for v1.0 tokens
	// (as Microsoft.Identity.Web decides); set them when the API's App ID
	// URI is another, e.g. ["api://contoso.com/orders"]. AzureAd:Audience
	// and AzureAd:Audiences set them too.
	Audiences []string
	// AllowTokensWithoutPermissions accepts tokens that carry neither a
	// delegated scope (scp) nor an app role (roles), for an API that
	// decides who may call it from its own access list (by the caller's
	// object id in UserFrom). Off, such tokens are refused with 401.
	// Entraweb:MinimumRole does not apply to them (they hold no role).
	// AzureAd:AllowWebApiToBeAuthorizedByACL sets it.
	AllowTokensWithoutPermissions bool
}

// validateAPI checks the API section.
func (c Config) validateAPI(p *problems) {
	for i, aud := range c.API.Audiences {
		if aud == "" || strings.ContainsAny(aud, " \t\n\"") {
			p.add(fmt.Sprintf("AzureAd:Audiences:%d", i), "%q is not an audience such as api://<client id> or the client id", aud)
		}
	}
}

// maxValidatedTokens bounds the cache of validated bearer tokens.
const maxValidatedTokens = 10000

// apiState is the bearer-token side of an Auth, built at first use from
// the ID-token verifier (the same keys, issuer and tenants).
type apiState struct {
	once     sync.Once
	verifier *oidc.AccessVerifier
	noCache  bool // benchmarks of the miss path turn the cache off
}

func (a *Auth) accessVerifier() *oidc.AccessVerifier {
	a.api.once.Do(func() {
		v := &oidc.AccessVerifier{
			Verifier:           a.verifier,
			V1Issuer:           oidc.V1Issuer(a.verifier.Issuer),
			Audiences:          a.s.cfg.API.Audiences,
			AllowNoPermissions: a.s.cfg.API.AllowTokensWithoutPermissions,
			Principal:          func(c *oidc.AccessClaims) any { return a.apiUser(c) },
		}
		if !a.api.noCache {
			v.EnableCache(maxValidatedTokens)
		}
		a.api.verifier = v
	})
	return a.api.verifier
}

// apiUser is the caller a validated token describes, as a User.
func (a *Auth) apiUser(c *oidc.AccessClaims) *User {
	u := &User{Name: c.Name, Username: c.PreferredUsername, ObjectID: c.ObjectID, TenantID: c.TenantID,
		AssignedRoles: c.Roles, IsApp: c.IsApp()}
	if u.Username == "" {
		u.Username = c.UPN // v1.0 tokens
	}
	if c.IssuedAt != nil {
		u.SignedInAt = c.IssuedAt.Time
	}
	u.Roles = a.s.roles.expand(c.Roles)
	return u
}

// apiCall is a request's validated bearer token, for OnBehalfOf.
type apiCall struct {
	raw    string
	claims *oidc.AccessClaims
}

type apiCallKey struct{}

// RequireScope lets through API calls whose bearer token is a user's
// (delegated) access token for this API holding the scope (a value of
// its scp claim, such as "access_as_user"), with the caller in the
// request's context (UserFrom). Without a token the answer is 401 with a
// bare "WWW-Authenticate: Bearer"; with an invalid one, 401 with
// error="invalid_token" and the reason; a valid token without the scope
// (an app-only token included) gets 403 with error="insufficient_scope".
// Bodies are JSON {"error", "message"}. With Entraweb:MinimumRole set,
// every caller, user or app, also needs that role (directly or through
// the hierarchy), as for signing in; this holds for all the Require*
// middleware of APIs, RequireAccessToken included, except for tokens
// without any permission (APIConfig.AllowTokensWithoutPermissions),
// which are left to the API's own access list.
func (a *Auth) RequireScope(scope string, next http.Handler) http.Handler {
	return a.requireToken(tokenRule{scope: scope}, next)
}

// RequireAppRole lets through API calls whose bearer token, a user's or
// an app's, holds the app role in its roles claim, directly or through
// the hierarchy (RequireAppRole("DemoApp.Read", h) admits a token with
// DemoApp.Admin): for daemons, which get application permissions
// through client credentials. Answers as RequireScope's.
func (a *Auth) RequireAppRole(role string, next http.Handler) http.Handler {
	return a.requireToken(tokenRule{role: role, roleForUsers: true}, next)
}

// RequireScopeOrAppRole admits a user's token that holds scope, or an
// app-only token that holds role (through the hierarchy): the usual rule
// of an API called both by users' clients and by daemons. An empty
// scope (or role) admits no user (or app), unless both are empty, which
// is RequireAccessToken.
func (a *Auth) RequireScopeOrAppRole(scope, role string, next http.Handler) http.Handler {
	return a.requireToken(tokenRule{scope: scope, role: role}, next)
}

// RequireAccessToken admits any valid access token for this API, and
// leaves the decision to next (UserFrom names the caller): for an API
// that keeps its own access list. With APIConfig's
// AllowTokensWithoutPermissions, tokens without scp or roles are valid
// too; without it they get 401.
func (a *Auth) RequireAccessToken(next http.Handler) http.Handler {
	return a.requireToken(tokenRule{}, next)
}

// tokenRule is what requireToken asks of a token: a user's token needs
// scope (roleForUsers: role instead), an app-only token needs role; with
// neither asked, any valid token passes.
type tokenRule struct {
	scope, role  string
	roleForUsers bool // RequireAppRole: users are admitted by the role too
}

func (a *Auth) requireToken(rule tokenRule, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, problem := bearerToken(r)
		switch {
		case problem == errNoBearer:
			a.apiAnswer(w, r, http.StatusUnauthorized, `Bearer`, "unauthorized",
				"This API needs an access token: send Authorization: Bearer <token>, a token from Entra ID for this API's scope.")
			return
		case problem != nil:
			a.apiAnswer(w, r, http.StatusUnauthorized, bearerChallenge("invalid_token", problem.Error(), ""), "invalid_token", problem.Error())
			return
		}
		c, err := a.accessVerifier().VerifyAccessToken(r.Context(), raw)
		if err != nil {
			var te *oidc.TokenError
			if errors.As(err, &te) {
				a.log.Info("entraweb: bearer token refused", "reason", te.Reason)
				msg := "The access token was refused: " + te.Reason + "."
				a.apiAnswer(w, r, http.StatusUnauthorized, bearerChallenge("invalid_token", te.Reason, ""), "invalid_token", msg)
				return
			}
			a.log.Warn("entraweb: could not validate a bearer token", "err", err)
			w.Header().Set("Retry-After", "5")
			a.apiAnswer(w, r, http.StatusServiceUnavailable, "", "temporarily_unavailable",
				"The identity provider's signing keys could not be fetched; try again shortly.")
			return
		}
		u := c.Principal.(*User)
		if m := a.s.roles.minimum; m != "" && !u.HasRole(m) && (len(c.Scopes) > 0 || len(c.Roles) > 0) {
			// Entraweb:MinimumRole is needed to use the app at all: its
			// API as much as its pages (and the proxy's ApiPaths). A token
			// without any permission (admitted only with
			// AllowTokensWithoutPermissions) can hold no role: the API's
			// own access list decides for it.
			a.apiAnswer(w, r, http.StatusForbidden, bearerChallenge("insufficient_scope", "the token lacks "+m, m), "insufficient_scope",
				"The caller lacks the app role "+m+", which this app needs of everyone (Entraweb:MinimumRole): an administrator must grant it to the calling user or app.")
			return
		}
		if want, ok := permitted(c, u, rule); !ok {
			msg := "The access token lacks the permission " + want + ": "
			if want == rule.scope {
				msg += "ask Entra ID for a token with this API's scope " + want + " (the user or an admin must consent to it)."
			} else {
				msg += "an administrator must grant the app role " + want + " to the calling app or user."
			}
			a.apiAnswer(w, r, http.StatusForbidden, bearerChallenge("insufficient_scope", "the token lacks "+want, want), "insufficient_scope", msg)
			return
		}
		ctx := context.WithValue(WithUser(r.Context(), u), apiCallKey{}, &apiCall{raw: raw, claims: c})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// permitted applies requireToken's rule; want is what was missing.
func permitted(c *oidc.AccessClaims, u *User, rule tokenRule) (want string, ok bool) {
	switch {
	case rule.scope == "" && rule.role == "":
		return "", true
	case rule.roleForUsers || u.IsApp:
		if rule.role == "" {
			return rule.scope, false // an app where only users are admitted
		}
		return rule.role, u.HasRole(rule.role)
	case rule.scope == "":
		return rule.role, false // a user where only apps are admitted
	}
	_, ok = slices.BinarySearch(c.Scopes, rule.scope)
	return rule.scope, ok
}

var errNoBearer = errors.New("no bearer token")

// maxAuthorization bounds the Authorization header read at all.
const maxAuthorization = 16<<10 + 64

// bearerToken reads the token of "Authorization: Bearer <token>" (RFC
// 6750, the scheme case-insensitive). errNoBearer: no Authorization
// header, or another scheme; any other error: a malformed one.
func bearerToken(r *http.Request) (string, error) {
	hs := r.Header.Values("Authorization")
	if len(hs) == 0 {
		return "", errNoBearer
	}
	if len(hs) > 1 {
		return "", errors.New("more than one Authorization header")
	}
	h := hs[0]
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNoBearer
	}
	switch {
	case len(h) > maxAuthorization:
		return "", errors.New("the Authorization header is too large")
	case tok == "":
		return "", errors.New("the Authorization header has no token")
	}
	// A JWT is three base64url parts: anything else is refused before
	// it is parsed.
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", errors.New("the token holds characters a JWT never does")
		}
	}
	return tok, nil
}

// bearerChallenge is a WWW-Authenticate value of RFC 6750.
func bearerChallenge(code, description, scope string) string {
	v := `Bearer error="` + code + `", error_description="` + quotedSafe(description) + `"`
	if scope != "" {
		v += `, scope="` + quotedSafe(scope) + `"`
	}
	return v
}

// quotedSafe keeps what may sit in a quoted-string: printable ASCII
// without quotes or backslashes (RFC 6750 §3 allows no more).
func quotedSafe(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b = append(b, '\'')
		case c == '\\' || c < 0x20 || c > 0x7e:
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// apiAnswer writes a JSON error of the API, with its challenge.
func (a *Auth) apiAnswer(w http.ResponseWriter, r *http.Request, status int, challenge, code, msg string) {
	// Every refusal of an API call is one for the metrics, as the web
	// side's are (Reason: unauthorized, invalid_token, insufficient_scope
	// and the others above).
	a.observe(r.Context(), Event{Kind: EventRefused, Reason: code, Status: status})
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // the body is JSON, never HTML: keep <token> legible
	enc.Encode(map[string]string{"error": code, "message": msg})
}
