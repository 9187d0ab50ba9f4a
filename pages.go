package entraweb

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// Problem is what went wrong when entraweb answers a request with an
// error page: a refusal (403), a sign-in that did not complete, an
// unavailable provider or store. Config.ErrorPage receives it to render
// the page in the app's own layout.
type Problem struct {
	Status int    // the HTTP status to answer with
	Code   string // machine-readable: forbidden, login_required, aadsts_50011, provider_unavailable...
	// Title, Message and Fix are written for the person in front of the
	// browser: what happened, and what they can do about it.
	Title   string
	Message string
	Fix     string
	// Role and Group are what a refused request needed (403 only).
	Role  string
	Group string
	// User is the signed-in user, when there is one.
	User *User
	// AADSTS is Entra ID's error, when the problem is one.
	AADSTS *AADSTSError
	// TraceID names this occurrence; the log line about it carries the
	// same id, so a user's screenshot leads to the log.
	TraceID string
	// Operator holds the administrator's instructions (which setting,
	// where in the Entra admin center). The default pages show it only
	// when Config.Environment is Development; it is always logged.
	Operator string
	// Details are technical lines (Entra's own error text) for the
	// administrator, shown and logged like Operator.
	Details []string
	// Links are what the default page offers: sign in again, home...
	Links []Link
}

// Link is a link an error page offers.
type Link struct{ Href, Text string }

// page is a page entraweb renders: a Problem, or the sign-out
// confirmation with its form.
type page struct {
	Problem
	Form *logoutForm
	// Development shows the Operator section.
	Development bool
}

type logoutForm struct{ Action, CSRF, Name string }

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f5f5;color:#1b1b1b}
main{max-width:36rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin-top:0}
.fix{background:#eef6fc;border-left:4px solid #0067b8;padding:.6rem .8rem}
.operator{background:#fff8e5;border-left:4px solid #c88a00;padding:.6rem .8rem;font-size:.9rem}
.details,.trace{font-size:.85rem;color:#555;word-break:break-word}
a.button,button{display:inline-block;background:#0067b8;color:#fff;border:0;border-radius:3px;padding:.5rem 1.2rem;font:inherit;text-decoration:none;cursor:pointer;margin:.3rem .3rem 0 0}
a.secondary{background:#e6e6e6;color:#1b1b1b}
</style></head><body><main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Fix}}<p class="fix"><strong>What to do:</strong> {{.Fix}}</p>{{end}}
{{if .Form}}<form method="post" action="{{.Form.Action}}"><input type="hidden" name="csrf" value="{{.Form.CSRF}}"><button type="submit">Sign out{{if .Form.Name}} {{.Form.Name}}{{end}}</button></form>{{end}}
{{range $i, $l := .Links}}<a class="button{{if $i}} secondary{{end}}" href="{{$l.Href}}">{{$l.Text}}</a>{{end}}
{{if .Development}}{{if .Operator}}<p class="operator" id="operator"><strong>For the app's administrator</strong> (shown because the environment is Development): {{.Operator}}</p>{{end}}
{{if .Details}}<ul class="details">{{range .Details}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}
{{if .TraceID}}<p class="trace">Trace id: {{.TraceID}}</p>{{end}}
</main></body></html>`))

// isNavigation tells a browser loading a page (a link, the address bar, a
// form) from a fetch, an XHR or an API call, which must get JSON.
func isNavigation(r *http.Request) bool {
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// mayRedirectToSignIn reports whether an unauthenticated request may be
// sent to the sign-in page: only a page load, never an API call, so that
// single-page apps and dashboards get a 401 they can act on instead of a
// redirect loop.
func mayRedirectToSignIn(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && isNavigation(r)
}

func newTraceID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// fail answers with an error page, after one log line that carries the
// page's trace id, what it was about and cause (which never reaches the
// page). Refusals (4xx) are logged at Info, failures of ours or of the
// provider (5xx) at Error.
func (a *Auth) fail(w http.ResponseWriter, r *http.Request, p Problem, cause error) {
	p.TraceID = newTraceID()
	attrs := []any{"trace_id", p.TraceID, "code", p.Code, "status", p.Status, "path", r.URL.Path}
	if p.User != nil {
		attrs = append(attrs, "user_oid", p.User.ObjectID, "tid", p.User.TenantID)
	}
	if p.Role != "" {
		attrs = append(attrs, "role", p.Role)
	}
	if p.Group != "" {
		attrs = append(attrs, "group", p.Group)
	}
	if p.AADSTS != nil {
		attrs = append(attrs, "aadsts", p.AADSTS.Code, "error", p.AADSTS.Err, "suberror", p.AADSTS.SubError)
	}
	if p.Operator != "" {
		attrs = append(attrs, "fix", p.Operator)
	}
	if len(p.Details) > 0 {
		attrs = append(attrs, "details", strings.Join(p.Details, " | "))
	}
	if cause != nil {
		attrs = append(attrs, "err", cause)
	}
	level := slog.LevelInfo
	if p.Status >= 500 {
		level = slog.LevelError
	}
	a.log.Log(r.Context(), level, "entraweb: "+p.Title, attrs...)
	if a.s.cfg.Observe != nil {
		e := Event{Kind: EventRefused, Reason: p.Code, Status: p.Status}
		if r.Context().Value(inCallback{}) != nil {
			e.Kind = EventSignInFailed
		}
		if p.AADSTS != nil {
			e.Reason = "aadsts"
			if p.AADSTS.Code != 0 {
				e.AADSTS = strconv.Itoa(p.AADSTS.Code)
			}
		}
		a.s.cfg.Observe(r.Context(), e)
	}
	if a.s.cfg.ErrorPage != nil && isNavigation(r) {
		a.s.cfg.ErrorPage(w, r, &p)
		return
	}
	a.render(w, r, page{Problem: p})
}

// render answers with the page as HTML to a browser navigation and as
// JSON to anything else. The page's forms may post to this app and, after
// sign-out, be redirected to Entra ID's end-session endpoint: browsers
// apply form-action to that redirect too.
func (a *Auth) render(w http.ResponseWriter, r *http.Request, p page) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if !isNavigation(r) {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(p.Status)
		body := map[string]any{"error": p.Code, "message": p.Message}
		if p.Fix != "" {
			body["fix"] = p.Fix
		}
		if p.TraceID != "" {
			body["trace_id"] = p.TraceID
		}
		for _, l := range p.Links {
			if strings.Contains(l.Href, "/login") {
				body["login_url"] = l.Href
				break
			}
		}
		json.NewEncoder(w).Encode(body)
		return
	}
	p.Development = a.s.development
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+a.signOutOrigin+"; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(p.Status)
	pageTmpl.Execute(w, p)
}
