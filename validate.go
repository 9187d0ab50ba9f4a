package entraweb

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/entraweb/entraweb/internal/guid"

	"github.com/entraweb/entraweb/session"
)

// problems collects what is wrong with a Config, each with its key.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

// validate checks a Config and derives settings, one section at a time,
// reporting every problem at once with the name of its key.
func (c Config) validate() (*settings, error) {
	s := &settings{cfg: c, development: strings.EqualFold(c.Environment, "Development")}
	var p problems
	c.validateAuthority(s, &p)
	c.validateCredential(s, &p)
	c.validateResources(s, &p)
	c.validateRoutes(s, &p)
	c.validateOrigin(s, &p)
	c.validateRoles(s, &p)
	c.validateSession(s, &p)
	c.validateAPI(&p)
	return s, errors.Join(p...)
}

// validateAuthority checks where users sign in: the instance, the tenant (and the tenants allowed in a multi-tenant app) and the client id.
func (c Config) validateAuthority(s *settings, p *problems) {
	inst := c.Instance
	if inst == "" {
		inst = defaultInstance
	}
	u, err := url.Parse(inst)
	switch {
	case err != nil || u.Host == "":
		p.add("AzureAd:Instance", "%q is not a URL such as https://login.microsoftonline.com/", inst)
	case u.Scheme != "https":
		p.add("AzureAd:Instance", "%q: the authority must use https", inst)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		p.add("AzureAd:Instance", "%q must be a host URL only (no path, query or credentials); put the tenant in TenantId", inst)
	default:
		s.authorityHost = "https://" + u.Host
	}

	s.tenant = strings.ToLower(strings.TrimSpace(c.TenantID))
	switch {
	case s.tenant == "":
		p.add("AzureAd:TenantId", "missing: set the directory (tenant) id, a verified domain, or organizations")
	case s.tenant == "consumers":
		p.add("AzureAd:TenantId", "consumers (personal Microsoft accounts) is not supported: their tokens carry no tenant or app roles")
	case multiTenantWords[s.tenant]:
		s.multiTenant = true
	case guid.Valid(s.tenant):
	case strings.Contains(s.tenant, ".") && !strings.ContainsAny(s.tenant, "/?#@: "):
	default:
		p.add("AzureAd:TenantId", "%q is not a tenant id (GUID), a domain, organizations or common", c.TenantID)
	}
	s.authority = s.authorityHost + "/" + s.tenant

	if !guid.Valid(c.ClientID) {
		if c.ClientID == "" {
			p.add("AzureAd:ClientId", "missing: set the app registration's application (client) id")
		} else {
			p.add("AzureAd:ClientId", "%q is not a GUID (the application (client) id of the app registration)", c.ClientID)
		}
	}
	switch {
	case s.multiTenant && len(c.AllowedTenants) == 0:
		p.add("Entraweb:AllowedTenants", "required when TenantId is %s: list the tenant ids whose users may sign in, or [\"*\"] for every tenant", s.tenant)
	case !s.multiTenant && len(c.AllowedTenants) > 0:
		p.add("Entraweb:AllowedTenants", "only applies when TenantId is organizations or common")
	case slices.Contains(c.AllowedTenants, "*"):
		if len(c.AllowedTenants) > 1 {
			p.add("Entraweb:AllowedTenants", "\"*\" cannot be combined with tenant ids")
		}
	case s.multiTenant:
		s.allowed = map[string]bool{}
		for i, t := range c.AllowedTenants {
			if !guid.Valid(t) {
				p.add(fmt.Sprintf("Entraweb:AllowedTenants:%d", i), "%q is not a tenant id (GUID)", t)
			}
			s.allowed[strings.ToLower(t)] = true
		}
	}
}

// validateCredential checks that exactly one client credential is configured.
func (c Config) validateCredential(s *settings, p *problems) {
	var creds []string
	if c.ClientSecret != "" {
		creds = append(creds, "a client secret")
	}
	if c.ClientCertificate.set() {
		creds = append(creds, "a certificate")
		if c.ClientCertificate.Path != "" && c.ClientCertificate.Base64 != "" {
			p.add("AzureAd:ClientCredentials", "a certificate is given both as a path and in base64: keep one")
		}
	}
	if c.FederatedTokenFile != "" {
		creds = append(creds, "a federated token file")
	}
	if c.ManagedIdentity != nil {
		creds = append(creds, "a managed identity")
	}
	switch {
	case len(creds) == 0:
		p.add("AzureAd:ClientCredentials", "missing: a web app needs a client credential: a secret (AZURE_CLIENT_SECRET), a certificate (AZURE_CLIENT_CERTIFICATE_PATH), a federated token file (AZURE_FEDERATED_TOKEN_FILE) or a managed identity")
	case len(creds) > 1:
		p.add("AzureAd:ClientCredentials", "%s are configured; keep one", strings.Join(creds, " and "))
	}
}

// validateResources checks what the app asks for beyond sign-in: scopes, Graph, client capabilities.
func (c Config) validateResources(s *settings, p *problems) {
	if c.GraphURL != "" {
		gu, err := url.Parse(c.GraphURL)
		if err != nil || gu.Scheme != "https" || gu.Host == "" || gu.RawQuery != "" || gu.Fragment != "" {
			p.add("Entraweb:GraphUrl", "%q must be an https URL such as https://graph.microsoft.com", c.GraphURL)
		}
	}
	for i, cp := range c.ClientCapabilities {
		if cp == "" || strings.ContainsAny(cp, " \t\"") {
			p.add(fmt.Sprintf("AzureAd:ClientCapabilities:%d", i), "%q is not a capability such as CP1", cp)
		}
	}

	for i, sc := range c.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\n") {
			p.add(fmt.Sprintf("Entraweb:Scopes:%d", i), "%q is not a single scope", sc)
		}
		switch strings.ToLower(sc) {
		case "openid", "profile", "offline_access", "email":
			p.add(fmt.Sprintf("Entraweb:Scopes:%d", i), "%q is always requested; list only resource scopes such as User.Read", sc)
		}
	}

}

// validateRoutes checks the route prefix and the callback paths.
func (c Config) validateRoutes(s *settings, p *problems) {
	s.prefix = c.RoutePrefix
	if s.prefix == "" {
		s.prefix = "/auth/"
	}
	if !strings.HasPrefix(s.prefix, "/") || !strings.HasSuffix(s.prefix, "/") || strings.ContainsAny(s.prefix, "?#\\ ") || strings.Contains(s.prefix, "//") {
		p.add("Entraweb:RoutePrefix", "%q must be a path that starts and ends with /", s.prefix)
	}
	s.callbackPath = c.CallbackPath
	if s.callbackPath == "" {
		s.callbackPath = s.prefix + "callback"
	}
	// A callback outside the prefix (ASP.NET Core's /signin-oidc) is
	// served too: Routes answers it wherever it is mounted, and Mount
	// mounts it at both places.
	if !strings.HasPrefix(s.callbackPath, "/") || strings.HasPrefix(s.callbackPath, "//") || s.callbackPath == s.prefix ||
		strings.HasSuffix(s.callbackPath, "/") || strings.ContainsAny(s.callbackPath, "?#\\ ") {
		p.add("AzureAd:CallbackPath", "%q must be an absolute path such as /auth/callback or /signin-oidc", s.callbackPath)
	}
	s.signedOutPath = c.SignedOutCallbackPath
	if s.signedOutPath == "" {
		s.signedOutPath = "/"
	}
	if !strings.HasPrefix(s.signedOutPath, "/") || strings.HasPrefix(s.signedOutPath, "//") || strings.ContainsAny(s.signedOutPath, "?#\\ ") {
		p.add("AzureAd:SignedOutCallbackPath", "%q must be an absolute path such as /", s.signedOutPath)
	}

}

// validateOrigin checks the public base URL and the trusted proxies.
func (c Config) validateOrigin(s *settings, p *problems) {
	if c.PublicBaseURL != "" {
		pu, err := url.Parse(c.PublicBaseURL)
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" || pu.RawQuery != "" || pu.Fragment != "" || pu.User != nil {
			p.add("Entraweb:PublicBaseUrl", "%q must be an absolute http(s) URL without query or fragment", c.PublicBaseURL)
		} else {
			pu.Path = strings.TrimSuffix(pu.Path, "/")
			s.origin.PublicBase = pu
		}
	}
	for i, proxy := range c.TrustedProxies {
		pf, err := netip.ParsePrefix(proxy)
		if err != nil {
			a, err2 := netip.ParseAddr(proxy)
			if err2 != nil {
				p.add(fmt.Sprintf("Entraweb:TrustedProxies:%d", i), "%q is not an IP address or CIDR range", proxy)
				continue
			}
			pf = netip.PrefixFrom(a, a.BitLen())
		}
		s.origin.Proxies = append(s.origin.Proxies, pf.Masked())
	}

}

// validateRoles checks the role hierarchy and the minimum role.
func (c Config) validateRoles(s *settings, p *problems) {
	rs, err := newRoleSet(c.Roles, c.MinimumRole)
	if err != nil {
		*p = append(*p, err)
	}
	s.roles = rs

}

// validateSession checks timeouts, keys and the store.
func (c Config) validateSession(s *settings, p *problems) {
	s.idle = c.Session.IdleTimeout.or(time.Hour)
	s.life = c.Session.Lifetime.or(12 * time.Hour)
	if s.idle > s.life {
		p.add("Entraweb:Session:IdleTimeout", "%v is longer than Session:Lifetime %v", s.idle, s.life)
	}
	// Activity is recorded at most every TouchInterval(idle); a timeout
	// no longer than that would sign out users who are active.
	if ti := session.TouchInterval(s.idle); ti >= s.idle {
		p.add("Entraweb:Session:IdleTimeout", "%v is too short: activity is recorded every %v at best, so active users would be signed out; use at least 2s (minutes in practice)", s.idle, ti)
	}
	for i, k := range append([]Secret{c.Session.Key}, c.Session.PreviousKeys...) {
		if k == "" {
			if i > 0 {
				p.add(fmt.Sprintf("Entraweb:Session:PreviousKeys:%d", i-1), "empty key")
			}
			continue
		}
		key, err := decodeKey(string(k))
		if err != nil {
			name := "Entraweb:Session:Key"
			if i > 0 {
				name = fmt.Sprintf("Entraweb:Session:PreviousKeys:%d", i-1)
			}
			p.add(name, "%v", err)
			continue
		}
		s.sessionKeys = append(s.sessionKeys, key)
	}
	if c.Session.Key == "" && len(c.Session.PreviousKeys) > 0 {
		p.add("Entraweb:Session:Key", "PreviousKeys are set but Key is not")
	}
	s.store = c.Session.Store
	if s.store == "" && c.Session.RedisURL != "" {
		s.store = "redis"
	}
	switch s.store {
	case "", "memory", "bolt":
		if s.store == "bolt" && c.Store == nil && strings.TrimSpace(c.Session.Path) == "" {
			p.add("Entraweb:Session:Path", "required with the bolt store: the file to keep sessions in, such as /var/lib/myapp/sessions.db")
		}
		if s.store != "bolt" && c.Session.Path != "" {
			p.add("Entraweb:Session:Path", "only applies when Session:Store is bolt")
		}
		if c.Session.RedisURL != "" {
			p.add("Entraweb:Session:RedisUrl", "only applies when Session:Store is redis, not %s", s.store)
		}
		if c.Session.KeyPrefix != "" {
			p.add("Entraweb:Session:KeyPrefix", "only applies when Session:Store is redis, not %s", s.store)
		}
	case "redis":
		if c.Store != nil {
			break // a store built in code replaces the configured one
		}
		u := string(c.Session.RedisURL)
		switch {
		case u == "":
			p.add("Entraweb:Session:RedisUrl", "missing: the redis store needs a URL such as redis://host:6379/0 (or set ENTRAWEB_REDIS_URL)")
		case !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://"):
			// The URL may hold a password: it is not quoted.
			p.add("Entraweb:Session:RedisUrl", "must start with redis:// or rediss:// (TLS)")
		}
		if c.Session.Key == "" {
			p.add("Entraweb:Session:Key", "required with the redis store: every instance must encrypt with the same key, or a session or sign-in started on one instance fails on the others (make one with: openssl rand -base64 32)")
		}
	default:
		p.add("Entraweb:Session:Store", "%q: use memory, bolt or redis", c.Session.Store)
	}
}
