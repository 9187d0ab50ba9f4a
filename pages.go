package entraweb

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
)

// page is what an entraweb page shows: what happened, what to do, and the
// links that do it. API clients get the same as JSON.
type page struct {
	Status  int
	Code    string // machine-readable: login_required, forbidden, invalid_token...
	Title   string
	Message string
	Fix     string
	Details []string
	Links   []link
	Form    *logoutForm
}

type link struct{ Href, Text string }

type logoutForm struct{ Action, CSRF, Name string }

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f5f5;color:#1b1b1b}
main{max-width:36rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin-top:0}
.fix{background:#eef6fc;border-left:4px solid #0067b8;padding:.6rem .8rem}
.details{font-size:.85rem;color:#555;word-break:break-word}
a.button,button{display:inline-block;background:#0067b8;color:#fff;border:0;border-radius:3px;padding:.5rem 1.2rem;font:inherit;text-decoration:none;cursor:pointer;margin:.3rem .3rem 0 0}
a.secondary{background:#e6e6e6;color:#1b1b1b}
</style></head><body><main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Fix}}<p class="fix"><strong>What to do:</strong> {{.Fix}}</p>{{end}}
{{if .Form}}<form method="post" action="{{.Form.Action}}"><input type="hidden" name="csrf" value="{{.Form.CSRF}}"><button type="submit">Sign out{{if .Form.Name}} {{.Form.Name}}{{end}}</button></form>{{end}}
{{range $i, $l := .Links}}<a class="button{{if $i}} secondary{{end}}" href="{{$l.Href}}">{{$l.Text}}</a>{{end}}
{{if .Details}}<ul class="details">{{range .Details}}<li>{{.}}</li>{{end}}</ul>{{end}}
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

// render answers with the page in HTML or JSON. The page's forms may post
// to this app and, after sign-out, be redirected to Entra ID's end-session
// endpoint: browsers apply form-action to that redirect too.
func (a *Auth) render(w http.ResponseWriter, r *http.Request, p page) {
	render(w, r, p, "form-action 'self' "+a.signOutOrigin)
}

// render answers with the page as HTML to a browser navigation and as JSON
// to anything else.
func render(w http.ResponseWriter, r *http.Request, p page, formAction string) {
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
		for _, l := range p.Links {
			if strings.Contains(l.Href, "/login") {
				body["login_url"] = l.Href
				break
			}
		}
		json.NewEncoder(w).Encode(body)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(p.Status)
	pageTmpl.Execute(w, p)
}
