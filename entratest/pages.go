package entratest

import (
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// The pages imitate the platform's: a white card on a grey page, the
// account picker, the consent prompt and the "trouble signing you in"
// error page with its troubleshooting details.
var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
{{with .Refresh}}<meta http-equiv="refresh" content="{{.}}">
{{end}}<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{margin:0;background:#f2f2f2;font-family:"Segoe UI","Helvetica Neue",Arial,sans-serif;color:#1b1b1b}
main{max-width:440px;margin:8vh auto 2em;background:#fff;box-shadow:0 2px 6px rgba(0,0,0,.2);padding:44px;box-sizing:border-box}
.logo{display:grid;grid-template-columns:10px 10px;gap:2px;margin-bottom:16px}
.logo span{width:10px;height:10px}
h1{font-size:24px;font-weight:600;margin:0 0 12px}
.tenant{color:#616161;font-size:13px;margin-bottom:16px}
.tile{display:flex;width:100%;text-align:left;background:none;border:0;border-top:1px solid #e6e6e6;padding:12px 4px;font:inherit;cursor:pointer}
.tile:hover,.tile:focus{background:#f2f2f2}
.tile small{display:block;color:#616161}
label{display:block;font-size:13px;margin-top:14px}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;border:0;border-bottom:1px solid #666;padding:6px 0;font:inherit;font-size:15px}
.btn{background:#0067b8;color:#fff;border:0;padding:8px 24px;font:inherit;min-width:108px;cursor:pointer;margin-top:20px}
.btn.secondary{background:#e6e6e6;color:#1b1b1b}
.error{color:#e81123;font-size:14px;margin:16px 0 20px;padding:8px 12px;border-left:3px solid #e81123;background:#fdf3f4}
.details{font-size:12px;color:#616161;word-break:break-all;border-top:1px solid #e6e6e6;margin-top:20px;padding-top:10px}
footer{text-align:center;font-size:12px;color:#616161}
ul.perms{padding-left:18px}
</style></head><body><main>
<div class="logo" aria-hidden="true"><span style="background:#f25022"></span><span style="background:#7fba00"></span><span style="background:#00a4ef"></span><span style="background:#ffb900"></span></div>
{{end}}
{{define "foot"}}</main><footer>Entra ID emulator (entratest) — not a Microsoft service. Test accounts only.</footer></body></html>{{end}}

{{define "signin"}}{{template "head" .}}
<h1>Sign in</h1>
<div class="tenant">to continue to <strong>{{.AppName}}</strong> · {{.TenantName}}</div>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Users}}<form method="post" action="{{.Action}}">
<input type="hidden" name="ctx" value="{{.Ctx}}">
<p style="margin:0 0 6px">Pick an account</p>
{{range .Users}}<button class="tile" type="submit" name="pick" value="{{.ObjectID}}"><span>{{.DisplayName}}<small>{{.Username}}{{if .Role}} · {{.Role}}{{end}}</small></span></button>
{{end}}</form>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="ctx" value="{{.Ctx}}">
<label for="username">Email, phone, or Skype</label>
<input id="username" name="username" type="text" autocomplete="username" value="{{.Username}}" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button class="btn" type="submit">Sign in</button>
</form>
{{template "foot"}}{{end}}

{{define "consent"}}{{template "head" .}}
<div class="tenant">{{.Username}}</div>
<h1>Permissions requested</h1>
<p><strong>{{.AppName}}</strong> would like to:</p>
<ul class="perms">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">
<input type="hidden" name="ctx" value="{{.Ctx}}">
<button class="btn secondary" type="submit" name="accept" value="no">Cancel</button>
<button class="btn" type="submit" name="accept" value="yes">Accept</button>
</form>
{{template "foot"}}{{end}}

{{define "error"}}{{template "head" .}}
<h1>Sorry, but we’re having trouble signing you in.</h1>
<p class="error" role="alert">{{.Message}}</p>
<div class="details"><strong>Troubleshooting details</strong><br>
Request Id: {{.Trace}}<br>Correlation Id: {{.Corr}}<br>Timestamp: {{.Time}}<br>
Message: {{.Message}}</div>
{{template "foot"}}{{end}}

{{define "formpost"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Working...</title></head>
<body><form method="post" name="hiddenform" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>
</form><script nonce="{{.Nonce}}">document.forms[0].submit()</script></body></html>{{end}}

{{define "signedout"}}{{template "head" .}}
<h1>You signed out of your account</h1>
<p>It’s a good idea to close all browser windows.</p>
{{if .Note}}<p class="error">{{.Note}}</p>{{end}}
{{range .Frames}}<iframe hidden title="Front-channel logout" src="{{.}}"></iframe>
{{end}}{{with .Continue}}<p>Returning you to the application… <a href="{{.}}">Continue</a></p>{{end}}
{{template "foot"}}{{end}}

{{define "home"}}{{template "head" .}}
<h1>Entra ID emulator</h1>
<p>Authorities of this emulator:</p>
<ul>{{range .Tenants}}<li><code>{{.}}</code></li>{{end}}</ul>
<p>Look up an error: <a href="/error?code=50011">/error?code=50011</a></p>
{{template "foot"}}{{end}}
`))

// pageCSP is the pages' Content-Security-Policy: nothing but inline
// styles, a script only with scriptNonce, and frames only from
// frameOrigins (the front-channel logout URLs of the logout page).
func pageCSP(scriptNonce string, frameOrigins []string) string {
	csp := "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'; base-uri 'none'"
	if scriptNonce != "" {
		csp += "; script-src 'nonce-" + scriptNonce + "'"
	}
	if len(frameOrigins) > 0 {
		csp += "; frame-src " + strings.Join(frameOrigins, " ")
	}
	return csp
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data any, scriptNonce string) {
	s.renderPage(w, status, name, data, pageCSP(scriptNonce, nil))
}

func (s *Server) renderPage(w http.ResponseWriter, status int, name string, data any, csp string) {
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("entratest: render", "page", name, "err", err)
	}
}

type tileUser struct{ ObjectID, DisplayName, Username, Role string }

// signInPage shows the account picker and the username/password form,
// with msg above them when it is not empty. The username field holds
// username, or the request's login_hint when that is empty: after a wrong
// password the person retypes only the password.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, req *authRequest, msg, username string) {
	wd := s.world.Load()
	client := wd.apps[req.ClientID]
	a, _ := wd.resolve(req.Tenant)
	tenant := "any work or school account"
	if a.tenant != nil {
		tenant = tenantName(a.tenant)
	}
	var users []tileUser
	for _, t := range wd.cfg.Tenants {
		if a.tenant != nil && t.ID != a.tenant.ID {
			continue
		}
		for _, u := range t.Users {
			if u.Disabled {
				continue
			}
			role := strings.Join(u.AppRoles[client.ClientID], ", ")
			users = append(users, tileUser{u.ObjectID, u.DisplayName, u.Username, role})
		}
	}
	sort.SliceStable(users, func(i, j int) bool { return users[i].Username < users[j].Username })
	req.Authenticated = ""
	status := http.StatusOK
	if msg != "" {
		status = http.StatusUnauthorized
	}
	s.render(w, status, "signin", map[string]any{
		"Title": "Sign in to your account", "AppName": client.DisplayName, "TenantName": tenant,
		"Error": msg, "Users": users, "Username": cmp.Or(username, req.LoginHint),
		"Action": "/" + req.Tenant + "/login", "Ctx": s.seal.seal("ctx", req),
	}, "")
}

func (s *Server) consentPage(w http.ResponseWriter, r *http.Request, req *authRequest, u *userRef, client *appRef, sr *scopeRequest, missing []string) {
	scopes := missing
	if len(scopes) == 0 {
		scopes = append(scopes, sr.raw...)
	}
	s.render(w, http.StatusOK, "consent", map[string]any{
		"Title": "Permissions requested", "AppName": client.DisplayName, "Username": u.Username,
		"Scopes": scopes, "Action": "/" + req.Tenant + "/consent", "Ctx": s.seal.seal("ctx", req),
	}, "")
}

// errorPage shows an error on the emulator's own page: what the platform
// does when it must not, or cannot, send the browser back to the app.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, e *aadError) {
	// The form may hold a password (the sign-in POST): only the two
	// parameters that say which app asked are logged.
	s.log.Info("entratest: sign-in refused", "aadsts", e.code, "client_id", clip(r.Form.Get("client_id")),
		"redirect_uri", clip(r.Form.Get("redirect_uri")), "reason", e.reason())
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	s.render(w, status, "error", map[string]any{
		"Title": "Sign in to your account", "Message": e.description(),
		"Trace": newGUID(), "Corr": newGUID(), "Time": s.now().UTC().Format("2006-01-02T15:04:05Z"),
	}, "")
}

type field struct{ Name, Value string }

func (s *Server) formPostPage(w http.ResponseWriter, action string, v url.Values) {
	var fields []field
	for k, vals := range v {
		for _, val := range vals {
			fields = append(fields, field{k, val})
		}
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	nonce := randomID(16)
	s.render(w, http.StatusOK, "formpost", map[string]any{"Action": template.URL(action), "Fields": fields, "Nonce": nonce}, nonce)
}

// handleErrorLookup is /error?code=N: the meaning of an AADSTS code.
func (s *Server) handleErrorLookup(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Query().Get("code"), "AADSTS"))
	if _, ok := aadCodes[code]; err != nil || !ok {
		s.render(w, http.StatusNotFound, "error", map[string]any{"Title": "Error lookup", "Message": "The emulator does not emit this code.",
			"Trace": "-", "Corr": "-", "Time": s.now().UTC().Format("2006-01-02T15:04:05Z")}, "")
		return
	}
	s.render(w, http.StatusOK, "error", map[string]any{"Title": "Error lookup", "Message": newErr(0, code, "").description(),
		"Trace": "-", "Corr": "-", "Time": s.now().UTC().Format("2006-01-02T15:04:05Z")}, "")
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	var ts []string
	for _, t := range s.world.Load().cfg.Tenants {
		ts = append(ts, s.AuthorityFor(t.ID)+"  ("+t.Domain+")")
	}
	ts = append(ts, s.AuthorityFor("organizations"), s.AuthorityFor("common"))
	s.render(w, http.StatusOK, "home", map[string]any{"Title": "Entra ID emulator", "Tenants": ts}, "")
}
