// Package oidc holds entraweb's OpenID Connect machinery that does not
// depend on the HTTP surface: the provider's discovery document, its
// signing keys (a cached JWKS) and one verifier of the tokens it issues.
package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// ErrProviderUnavailable means the identity provider could not be
// reached or answered with a server error. The root package exports it
// under the same name.
var ErrProviderUnavailable = errors.New("entraweb: the identity provider is unavailable")

// TenantPlaceholder stands for the tenant id in the issuer of a
// multi-tenant authority's discovery document.
const TenantPlaceholder = "{tenantid}"

// Metadata is the part of the OpenID discovery document entraweb uses.
type Metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

// ErrorResponse is an OAuth 2.0 error answer of the identity provider,
// with the fields Entra ID adds. Only parsed fields are kept: the raw
// body may echo request data and is never logged.
type ErrorResponse struct {
	Status      int    // HTTP status; 0 for an error carried by a redirect
	Err         string // error
	SubError    string // suberror
	Description string // error_description, with Entra's trace ids
	Codes       []int  // error_codes
	Claims      string // claims (a claims challenge)
}

func (e *ErrorResponse) Error() string {
	if c := e.Code(); c != 0 {
		return fmt.Sprintf("identity provider: %s (AADSTS%d)", e.Err, c)
	}
	return "identity provider: " + e.Err
}

// Code is the AADSTS number: the first of error_codes, or the one named
// in the description; 0 when there is none.
func (e *ErrorResponse) Code() int {
	if len(e.Codes) > 0 {
		return e.Codes[0]
	}
	return CodeFromDescription(e.Description)
}

var aadstsCodeRE = regexp.MustCompile(`AADSTS(\d{4,8})`)

// CodeFromDescription finds the AADSTS number in an error description.
func CodeFromDescription(desc string) int {
	if m := aadstsCodeRE.FindStringSubmatch(desc); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// ParseErrorResponse reads an OAuth error body; ok is false when body is
// not one.
func ParseErrorResponse(status int, body []byte) (*ErrorResponse, bool) {
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Codes       []int  `json:"error_codes"`
		SubError    string `json:"suberror"`
		Claims      string `json:"claims"`
	}
	if json.Unmarshal(body, &b) != nil || b.Error == "" {
		return nil, false
	}
	return &ErrorResponse{Status: status, Err: b.Error, SubError: b.SubError, Description: b.Description, Codes: b.Codes, Claims: b.Claims}, true
}

// Discover reads and checks the discovery document of authority
// (https://host/tenant). multiTenant says whether the tenant is
// organizations or common, whose issuer must hold the tenant placeholder.
// A refusal by the provider comes back as an *ErrorResponse in the chain.
func Discover(ctx context.Context, client *http.Client, authority string, multiTenant bool) (*Metadata, error) {
	u := authority + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w (check AzureAd:Instance, the network, and for a custom CA SSL_CERT_FILE)", ErrProviderUnavailable, u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		if er, ok := ParseErrorResponse(resp.StatusCode, body); ok {
			return nil, fmt.Errorf("entraweb: discovery at %s refused: %w", u, er)
		}
		if resp.StatusCode >= 500 {
			return nil, fmt.Errorf("%w: GET %s: HTTP %d", ErrProviderUnavailable, u, resp.StatusCode)
		}
		return nil, fmt.Errorf("entraweb: GET %s: HTTP %d (check AzureAd:Instance and AzureAd:TenantId)", u, resp.StatusCode)
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("entraweb: the discovery document at %s is not JSON: %w", u, err)
	}
	for _, f := range []struct {
		name, value string
		optional    bool
		browser     bool // a page the browser visits, not a back-channel call
	}{
		{"issuer", md.Issuer, false, false},
		{"authorization_endpoint", md.AuthorizationEndpoint, false, true},
		{"token_endpoint", md.TokenEndpoint, false, false},
		{"jwks_uri", md.JWKSURI, false, false},
		{"end_session_endpoint", md.EndSessionEndpoint, true, true},
	} {
		if f.value == "" && f.optional {
			continue
		}
		pu, err := url.Parse(f.value)
		ok := err == nil && pu.Host != "" && pu.Scheme == "https"
		// Pages a browser visits may be plain HTTP on loopback only: an
		// emulator on this machine (entraweb demo) serves them so, to spare
		// the browser a certificate warning. Tokens and keys never travel so.
		if !ok && err == nil && pu.Scheme == "http" && f.browser {
			ok = IsLoopbackHost(pu.Hostname())
		}
		if !ok {
			return nil, fmt.Errorf("entraweb: the discovery document at %s has no valid https %s", u, f.name)
		}
	}
	if multiTenant != strings.Contains(md.Issuer, TenantPlaceholder) {
		return nil, fmt.Errorf("entraweb: the discovery document's issuer %q does not fit the configured tenant", md.Issuer)
	}
	return &md, nil
}

// IsLoopbackHost reports whether h (a host without port) is localhost or
// a loopback address.
func IsLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}
