package entratest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// Browser stands in for a person at a browser in tests: it keeps the
// emulator's cookies (so a second sign-in is silent), fills in the sign-in
// page and accepts the consent page. It stops where the emulator sends the
// browser back to an app.
type Browser struct {
	srv    *Server
	client *http.Client // stops at redirects that leave the emulator
	all    *http.Client // follows every redirect, same cookies
	// DeclineConsent makes the browser press Cancel on the consent page.
	DeclineConsent bool
}

// Callback is what the emulator sent back to the app: the redirect URI and
// its parameters (from the query, the fragment or the form post).
type Callback struct {
	URL    *url.URL   // the redirect URI, without the response parameters
	Params url.Values // code, state, session_state, or error, error_description...
	Method string     // GET, or POST for response_mode=form_post
}

// Browser returns a new browser with an empty cookie jar.
func (s *Server) Browser() *Browser {
	jar, _ := cookiejar.New(nil)
	base := s.client.Transport
	return &Browser{srv: s, client: &http.Client{
		Transport: base,
		Jar:       jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !s.isEmulator(req.URL) || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}, all: &http.Client{Transport: base, Jar: jar}}
}

// HTTPClient is the browser's client for the emulator: its cookie jar
// holds the SSO cookie, and it stops at a redirect that leaves the
// emulator (to an app's redirect URI).
func (b *Browser) HTTPClient() *http.Client { return b.client }

// AppClient shares the browser's cookies but follows every redirect, as a
// browser visiting an app does.
func (b *Browser) AppClient() *http.Client { return b.all }

// Visit loads a page of an app as a person would: it follows every
// redirect, and when the app sends it to the emulator it signs in as
// username (picking the tile when password is empty) and accepts consent,
// until it lands back on the app. The final response's body is read into
// the returned string and closed.
func (b *Browser) Visit(ctx context.Context, pageURL, username, password string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	for range 6 {
		resp, err := b.all.Do(req)
		if err != nil {
			return nil, "", err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		page := string(body)
		onEmulator := b.srv.isEmulator(resp.Request.URL)
		act := actionRE.FindStringSubmatch(page)
		if !onEmulator || act == nil {
			return resp, page, nil
		}
		hidden := url.Values{}
		for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
			hidden.Set(m[1], html.UnescapeString(m[2]))
		}
		target, err := resp.Request.URL.Parse(html.UnescapeString(act[1]))
		if err != nil {
			return nil, "", err
		}
		switch {
		case strings.Contains(page, `name="hiddenform"`):
			// form_post: the page would post these fields to the app.
		case strings.HasSuffix(target.Path, "/consent"):
			hidden.Set("accept", "yes")
			if b.DeclineConsent {
				hidden.Set("accept", "no")
			}
		case strings.HasSuffix(target.Path, "/login"):
			if m := alertRE.FindStringSubmatch(page); m != nil && resp.StatusCode != http.StatusOK {
				return nil, "", &PageError{Status: resp.StatusCode, Message: html.UnescapeString(m[1])}
			}
			if password != "" {
				hidden.Set("username", username)
				hidden.Set("password", password)
			} else {
				u := b.srv.world.Load().users[strings.ToLower(username)]
				if u == nil {
					return nil, "", errors.New("entratest: no user " + username + " to pick")
				}
				hidden.Set("pick", u.ObjectID)
			}
		default:
			return resp, page, nil
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(hidden.Encode()))
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
	}
	return nil, "", errors.New("entratest: the visit did not settle on a page")
}

// PageError is an error page or sign-in error the emulator showed.
type PageError struct {
	Status  int
	Message string // e.g. "AADSTS50105: ..."
}

func (e *PageError) Error() string {
	return fmt.Sprintf("emulator page (HTTP %d): %s", e.Status, e.Message)
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	actionRE = regexp.MustCompile(`<form method="post"(?: name="hiddenform")? action="([^"]+)">`)
	alertRE  = regexp.MustCompile(`(?s)<p class="error" role="alert">(.*?)</p>`)
)

// SignIn opens an authorization URL and signs in as username. With a
// password it types username and password; with an empty password it picks
// the user's tile (username may then be "" to rely on the SSO session).
func (b *Browser) SignIn(ctx context.Context, authURL, username, password string) (*Callback, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	for range 5 {
		resp, err := b.client.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusFound && loc != "" {
			return parseCallback(resp.Request.URL, loc)
		}
		page := string(body)
		hidden := map[string]string{}
		for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
			hidden[m[1]] = html.UnescapeString(m[2])
		}
		act := actionRE.FindStringSubmatch(page)
		switch {
		case strings.Contains(page, `name="hiddenform"`) && act != nil:
			u, err := url.Parse(html.UnescapeString(act[1]))
			if err != nil {
				return nil, err
			}
			p := url.Values{}
			for k, v := range hidden {
				p.Set(k, v)
			}
			return &Callback{URL: u, Params: p, Method: http.MethodPost}, nil
		case act == nil || hidden["ctx"] == "":
			msg := "unexpected page"
			if m := alertRE.FindStringSubmatch(page); m != nil {
				msg = html.UnescapeString(m[1])
			}
			return nil, &PageError{Status: resp.StatusCode, Message: msg}
		}
		if m := alertRE.FindStringSubmatch(page); m != nil && strings.HasSuffix(act[1], "/login") && resp.StatusCode != http.StatusOK {
			return nil, &PageError{Status: resp.StatusCode, Message: html.UnescapeString(m[1])}
		}
		form := url.Values{"ctx": {hidden["ctx"]}}
		target, _ := resp.Request.URL.Parse(html.UnescapeString(act[1]))
		switch {
		case strings.HasSuffix(target.Path, "/consent"):
			form.Set("accept", "yes")
			if b.DeclineConsent {
				form.Set("accept", "no")
			}
		case password != "":
			form.Set("username", username)
			form.Set("password", password)
		default:
			u := b.srv.world.Load().users[strings.ToLower(username)]
			if u == nil {
				return nil, errors.New("entratest: no user " + username + " to pick")
			}
			form.Set("pick", u.ObjectID)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return nil, errors.New("entratest: sign-in did not finish")
}

// isEmulator reports whether u is one of the emulator's own addresses.
func (s *Server) isEmulator(u *url.URL) bool {
	origin := u.Scheme + "://" + u.Host
	return strings.EqualFold(origin, s.URL) || strings.EqualFold(origin, s.browserURL)
}

func parseCallback(base *url.URL, loc string) (*Callback, error) {
	u, err := base.Parse(loc)
	if err != nil {
		return nil, err
	}
	p := u.Query()
	if u.Fragment != "" {
		p, err = url.ParseQuery(u.Fragment)
		if err != nil {
			return nil, err
		}
	}
	u.RawQuery, u.Fragment = "", ""
	return &Callback{URL: u, Params: p, Method: http.MethodGet}, nil
}
