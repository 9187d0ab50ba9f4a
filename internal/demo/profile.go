package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/entraweb/entraweb"
)

// graphScope is the delegated permission the profile page needs; the
// sign-in asks for it already (Config.Scopes), so the first visit finds
// the token cached.
const graphScope = "User.Read"

// profileData is the profile page's content.
type profileData struct {
	Fields []field
	Raw    string
	Error  string
	Source string
}

type field struct{ Name, Value string }

// profile shows the user as Microsoft Graph's /v1.0/me sees them, read
// with the user's own access token.
func (a *app) profile(w http.ResponseWriter, r *http.Request) {
	me := strings.TrimSuffix(a.GraphURL, "/") + "/v1.0/me"
	d := profileData{Source: me}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, me, nil)
	if err != nil {
		a.profileError(w, r, d, err)
		return
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.graph(r).Do(req)
	// No token (consent needed, a revoked grant) or Conditional Access
	// asking for more (a claims challenge): a new sign-in that comes back
	// here. Graph unreachable: a page that says so.
	if a.Auth.Challenge(w, r, err) {
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		a.profileError(w, r, d, err)
		return
	}
	if resp.StatusCode != http.StatusOK {
		a.profileError(w, r, d, fmt.Errorf("microsoft graph answered HTTP %d", resp.StatusCode))
		return
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		a.profileError(w, r, d, fmt.Errorf("microsoft graph's answer is not JSON: %w", err))
		return
	}
	for _, k := range []struct{ key, name string }{
		{"displayName", "Display name"}, {"userPrincipalName", "User principal name"}, {"mail", "Mail"},
		{"givenName", "Given name"}, {"surname", "Surname"}, {"jobTitle", "Job title"},
		{"officeLocation", "Office"}, {"id", "Object id"},
	} {
		val := "—"
		if s, ok := v[k.key].(string); ok && s != "" {
			val = s
		}
		d.Fields = append(d.Fields, field{k.name, val})
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	d.Raw = string(pretty)
	a.render(w, r, http.StatusOK, "profile", view{Title: "Profile", Active: "/profile", Data: d})
}

// graph is the client the profile page calls Graph with: each request
// carries the user's token (Auth.Client), and goes through
// Options.HTTPClient's transport when one is set.
func (a *app) graph(r *http.Request) *http.Client {
	c := a.Auth.Client(r, graphScope)
	if a.HTTPClient != nil && a.HTTPClient.Transport != nil {
		c.Transport = a.Auth.Transport(a.HTTPClient.Transport, r, graphScope)
	}
	return c
}

func (a *app) profileError(w http.ResponseWriter, r *http.Request, d profileData, err error) {
	u := entraweb.UserFrom(r.Context())
	a.log.Error("demo: reading the profile from Graph", "user_oid", u.ObjectID, "err", err)
	d.Error = err.Error()
	a.render(w, r, http.StatusBadGateway, "profile", view{Title: "Profile", Active: "/profile", Data: d})
}
