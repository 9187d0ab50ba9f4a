package entraweb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// apiTimeout bounds a whole call (connection, redirects, reading the
// body) of the clients that Client and AppClient return.
const apiTimeout = 30 * time.Second

// Client returns an HTTP client that calls an API as the signed-in user
// of r: every request it sends carries a token from AccessToken(r,
// scopes...) in its Authorization header, so tokens come from the cache
// and are refreshed as they expire, request by request.
//
// A failure to get a token ends the call before anything is sent: Do (or
// Get, Post...) returns a *url.Error wrapping AccessToken's error, which
// Challenge answers (a sign-in for consent, say). A 401 answer that
// carries a claims challenge (WWW-Authenticate: Bearer
// error="insufficient_claims", claims="...", as Microsoft Graph sends
// under Conditional Access or continuous access evaluation) is an error
// too, an InteractionRequiredError with those claims, and Challenge signs
// the user in again with them and comes back to the page. Every other
// answer, a 401 or 403 without claims included, is returned as it is:
// check StatusCode as usual.
//
//	resp, err := auth.Client(r, "User.Read").Get("https://graph.microsoft.com/v1.0/me")
//	if auth.Challenge(w, r, err) {
//		return
//	}
//	defer resp.Body.Close()
//
// The token goes only where the request is sent: to https URLs (or plain
// http to a loopback address such as 127.0.0.1, for local tests), and on
// a redirect only if it stays on the same scheme, host and port; a
// redirect elsewhere is followed without the token. The client cannot
// tell an API from any other host, so never send it to a URL taken from
// user input.
//
// The client sends through Config.HTTPClient's transport (its proxy and
// trusted roots), or a transport with connection timeouts when that is
// nil, and gives a call 30 seconds in all. It is new on each call, so
// changing its Timeout or CheckRedirect affects no other. The token is
// fetched under r's context, and also ends when the outgoing request's
// context does; build requests with http.NewRequestWithContext(r.Context(),
// ...) so that a call ends when the visitor leaves.
func (a *Auth) Client(r *http.Request, scopes ...string) *http.Client {
	return a.apiClient(a.Transport(nil, r, scopes...))
}

// AppClient returns an HTTP client that calls an API as the app itself:
// every request carries a token from AppToken(ctx, scopes...), such as
// AppClient("https://graph.microsoft.com/.default"), fetched under the
// request's context. The client is meant to live long and be shared:
// each request gets a current token (MSAL caches them). A failure to get
// a token is returned by Do as a *url.Error wrapping AppToken's error;
// every answer, a 401 included, is returned as it is (no user can answer
// a claims challenge for the app). The token goes only to https URLs (or
// plain http on loopback), and never across a redirect to another host,
// as for Client; timeouts and transport are those of Client too.
func (a *Auth) AppClient(scopes ...string) *http.Client {
	return a.apiClient(a.AppTransport(nil, scopes...))
}

// Transport is Client's transport, for an http.Client of your own (other
// timeouts, a retrying or instrumented transport): requests go through
// base, or through Config.HTTPClient's transport when base is nil.
func (a *Auth) Transport(base http.RoundTripper, r *http.Request, scopes ...string) http.RoundTripper {
	scopes = slices.Clone(scopes) // the caller's slice may change later
	return &tokenTransport{base: a.apiBase(base), challenges: true, scopes: scopes, source: a.userSource(r, scopes)}
}

// AppTransport is AppClient's transport, for an http.Client of your own:
// requests go through base, or through Config.HTTPClient's transport when
// base is nil.
func (a *Auth) AppTransport(base http.RoundTripper, scopes ...string) http.RoundTripper {
	scopes = slices.Clone(scopes)
	return &tokenTransport{base: a.apiBase(base), scopes: scopes, source: func(ctx context.Context) (string, error) {
		return a.AppToken(ctx, scopes...)
	}}
}

func (a *Auth) apiClient(t http.RoundTripper) *http.Client {
	return &http.Client{Transport: t, Timeout: apiTimeout}
}

func (a *Auth) apiBase(base http.RoundTripper) http.RoundTripper {
	if base != nil {
		return base
	}
	if a.s.httpClient.Transport != nil {
		return a.s.httpClient.Transport
	}
	return http.DefaultTransport
}

// userSource gets the tokens of r's user. The user comes from r (its
// context, or its session cookie); the token is fetched under r's context,
// cut short when the outgoing request's context ends first.
func (a *Auth) userSource(r *http.Request, scopes []string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if r == nil {
			return "", errors.New("entraweb: Client needs the incoming request of the signed-in user; for the app's own identity use AppClient")
		}
		tctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		return a.AccessToken(r.WithContext(tctx), scopes...)
	}
}

// tokenTransport adds a bearer token from source to each request. Any
// way of getting a token (a user's, the app's, on-behalf-of an API's
// caller) plugs in as source.
type tokenTransport struct {
	base   http.RoundTripper
	source func(ctx context.Context) (string, error)
	scopes []string
	// challenges turns a 401 with a claims challenge into an
	// InteractionRequiredError (for user tokens, which a new sign-in can
	// satisfy).
	challenges bool
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// The first request of a redirect chain is the one the caller made;
	// the token goes only to its origin.
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	if !sameOrigin(first.URL, req.URL) {
		// Following a redirect to elsewhere: no token. (http.Client also
		// drops an Authorization header the caller set, across hosts.)
		return t.base.RoundTrip(req)
	}
	if err := tokenDestinationOK(req.URL); err != nil {
		closeBody(req)
		return nil, &noTokenError{where: hostPath(req.URL), err: err}
	}
	tok, err := t.source(req.Context())
	if err != nil {
		closeBody(req)
		return nil, &noTokenError{where: hostPath(req.URL), err: err}
	}
	// A RoundTripper must not change the caller's request: send a copy.
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", "Bearer "+tok)
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	// The caller sees its own request, not the copy that holds the token.
	resp.Request = req
	if t.challenges && resp.StatusCode == http.StatusUnauthorized {
		if claims, ok := claimsChallenge(resp.Header.Values("WWW-Authenticate")); ok {
			resp.Body.Close() // unread: a hostile server could trickle it
			return nil, &InteractionRequiredError{Scopes: t.scopes, Claims: claims,
				Cause: fmt.Errorf("%s asked for more claims (a claims challenge): the user must sign in again", req.URL.Host)}
		}
	}
	return resp, nil
}

// noTokenError marks a call that ended for want of a token, so that
// Challenge tells it from a call that could not reach the API, and logs
// where the call was going without the URL's query.
type noTokenError struct {
	where string // scheme://host/path
	err   error
}

func (e *noTokenError) Error() string { return e.err.Error() }
func (e *noTokenError) Unwrap() error { return e.err }

// apiFailed answers a call of Client or AppClient that had its token but
// failed on the way to the API or back: unreachable, a timeout, too many
// redirects. The log names the URL without its query, which may hold
// anything.
func (a *Auth) apiFailed(w http.ResponseWriter, r *http.Request, ue *url.Error) {
	where := "an API"
	if u, err := url.Parse(ue.URL); err == nil {
		where = hostPath(u)
	}
	a.fail(w, r, Problem{Status: http.StatusBadGateway, Code: "api_unavailable", Title: "Temporarily unavailable",
		Message: "A service this page needs could not be reached.", Fix: "Try again in a moment.",
		Links: []Link{{a.samePage(r), "Try again"}}}, fmt.Errorf("%s %s: %w", ue.Op, where, ue.Err))
}

// hostPath is u without its user, query and fragment, for the log.
func hostPath(u *url.URL) string { return u.Scheme + "://" + u.Host + u.Path }

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// sameOrigin compares scheme, host and port, with the scheme's default
// port filled in.
func sameOrigin(a, b *url.URL) bool {
	if !strings.EqualFold(a.Scheme, b.Scheme) || !strings.EqualFold(a.Hostname(), b.Hostname()) {
		return false
	}
	return portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// tokenDestinationOK refuses to put a token where anyone on the network
// could read it: only https, or plain http to a loopback address.
func tokenDestinationOK(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("entraweb: refusing to send an access token over plain http to %s: use https (plain http is allowed only to loopback addresses)", u.Host)
	}
	return fmt.Errorf("entraweb: refusing to send an access token to a %q URL: use https", u.Scheme)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
