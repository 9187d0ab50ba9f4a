package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/entraweb/entraweb/internal/oidc"
)

// application is the part of Graph's application resource compared.
type application struct {
	Web struct {
		RedirectURIs []string `json:"redirectUris"`
	} `json:"web"`
	AppRoles []struct {
		Value     string `json:"value"`
		IsEnabled bool   `json:"isEnabled"`
	} `json:"appRoles"`
}

// checkRegistration reads the app registration through Microsoft Graph,
// with the app's own token, and compares its redirect URIs and app roles
// with the configuration. Graph answers only when the app holds
// Application.Read.All; otherwise nothing is compared, and nothing fails.
func checkRegistration(ctx context.Context, in Input, token string) []Result {
	skip := func(msg, fix string) []Result {
		return []Result{{Name: "registration", Status: Skip, Message: msg, Fix: fix}}
	}
	switch {
	case in.Quick:
		return skip("not compared (quick)", "")
	case token == "":
		return skip("not compared: no app token (see credential)", "")
	}
	u := strings.TrimSuffix(in.GraphURL, "/") + "/v1.0/applications(appId='" + url.PathEscape(in.ClientID) + "')"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return skip(fmt.Sprintf("not compared: %v", err), "")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := in.HTTPClient.Do(req)
	if err != nil {
		return []Result{{Name: "registration", Status: Warn, Message: fmt.Sprintf("Microsoft Graph does not answer: %v", err),
			Fix: "check Entraweb:GraphUrl and the network"}}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return skip("not compared: Microsoft Graph does not let the app read its own registration",
			"optional: grant the app the Microsoft Graph application permission Application.Read.All (with admin consent) to have the registration compared with the configuration")
	case resp.StatusCode == http.StatusNotFound:
		return []Result{{Name: "registration", Status: Fail, Message: "Microsoft Graph knows no application " + in.ClientID + " in this tenant",
			Fix: "check AzureAd:ClientId: it is the registration's Application (client) ID, not its Object ID"}}
	case resp.StatusCode != http.StatusOK:
		return []Result{{Name: "registration", Status: Warn, Message: fmt.Sprintf("Microsoft Graph answered HTTP %d", resp.StatusCode)}}
	}
	var app application
	if err := json.Unmarshal(body, &app); err != nil {
		return []Result{{Name: "registration", Status: Warn, Message: "Microsoft Graph's answer is not an application"}}
	}
	return []Result{compareRedirects(in, app.Web.RedirectURIs), compareRoles(in, app)}
}

func compareRedirects(in Input, registered []string) Result {
	r := Result{Name: "registered redirect URIs"}
	if in.PublicBaseURL == "" {
		r.Status, r.Message = Skip, fmt.Sprintf("not compared: Entraweb:PublicBaseUrl is not set; registered: %s", strings.Join(registered, ", "))
		return r
	}
	cb := redirectURI(in.PublicBaseURL, in.CallbackPath)
	out := redirectURI(in.PublicBaseURL, in.SignedOutPath)
	switch {
	case !matchRedirect(registered, cb):
		r.Status = Fail
		r.Message = fmt.Sprintf("%s is not a redirect URI of the registration: Entra ID will refuse every sign-in (AADSTS50011)", cb)
		r.Fix = fmt.Sprintf("add %s under Authentication > Web > Redirect URIs (entraweb manifest -redirect %s prints what to register)", cb, cb)
	case !matchRedirect(registered, out):
		r.Status = Warn
		r.Message = fmt.Sprintf("%s is registered, but %s (where sign-out ends) is not: Entra ID leaves signed-out users on its own page", cb, out)
		r.Fix = fmt.Sprintf("add %s as a Web redirect URI too", out)
	default:
		r.Status, r.Message = OK, fmt.Sprintf("%s and %s are registered", cb, out)
	}
	return r
}

// matchRedirect applies Entra ID's rule: an exact match, except that a
// registered http URI on a loopback host matches any port.
func matchRedirect(registered []string, uri string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	for _, reg := range registered {
		if reg == uri {
			return true
		}
		ru, err := url.Parse(reg)
		if err == nil && ru.Scheme == "http" && u.Scheme == "http" && oidc.IsLoopbackHost(ru.Hostname()) &&
			ru.Hostname() == u.Hostname() && ru.EscapedPath() == u.EscapedPath() && ru.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func compareRoles(in Input, app application) Result {
	r := Result{Name: "app roles"}
	defined := map[string]bool{} // value -> enabled
	var names []string
	for _, ar := range app.AppRoles {
		defined[ar.Value] = ar.IsEnabled
		names = append(names, ar.Value)
	}
	if len(in.Roles) == 0 {
		r.Status, r.Message = OK, fmt.Sprintf("the configuration names no role (Entraweb:Roles, Entraweb:MinimumRole); the registration defines %s", listOrNone(names))
		return r
	}
	var missing, disabled []string
	for _, v := range in.Roles {
		enabled, ok := defined[v]
		switch {
		case !ok:
			missing = append(missing, v)
		case !enabled:
			disabled = append(disabled, v)
		}
	}
	switch {
	case len(missing) > 0 || len(disabled) > 0:
		r.Status = Fail
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, strings.Join(missing, ", ")+" not defined")
		}
		if len(disabled) > 0 {
			parts = append(parts, strings.Join(disabled, ", ")+" disabled")
		}
		r.Message = fmt.Sprintf("the configuration names roles the registration lacks (%s): no user can hold them; it defines %s", strings.Join(parts, "; "), listOrNone(names))
		r.Fix = "add them to the registration's appRoles (entraweb manifest -app NAME -roles ... prints them with stable ids), or correct Entraweb:Roles and Entraweb:MinimumRole"
	default:
		r.Status, r.Message = OK, fmt.Sprintf("%s defined and enabled", strings.Join(in.Roles, ", "))
	}
	return r
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(slices.Values(s)), ", ")
}
