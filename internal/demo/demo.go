package demo

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/entraweb/entraweb"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// The app roles of the demo, lowest first. The default hierarchy of
// entraweb makes Admin imply Write and Write imply Read.
const (
	RoleRead  = "DemoApp.Read"
	RoleWrite = "DemoApp.Write"
	RoleAdmin = "DemoApp.Admin"
)

// Options configure the demo app.
type Options struct {
	// Auth signs users in; its routes are mounted at /auth/, so its
	// RoutePrefix must be the default.
	Auth *entraweb.Auth
	// GraphURL is Microsoft Graph's base URL: https://graph.microsoft.com,
	// or the emulator's (entratest.Server.GraphURL).
	GraphURL string
	// HTTPClient's transport carries the profile page's calls to Graph,
	// to which Auth.Transport adds the user's token; nil (or a nil
	// Transport) means Auth.Client's, which is the transport of the
	// Auth's Config.HTTPClient.
	HTTPClient *http.Client
	// AuthorityHost is the origin of the identity provider's pages
	// (https://host; an emulator on this machine may use http on
	// loopback). The sign-out form is redirected there, so the
	// Content-Security-Policy's form-action names it.
	AuthorityHost string
	// Tenant describes where users sign in, for the pages' footer, e.g.
	// "Entra ID emulator (in-process)".
	Tenant string
	// Accounts are the test users the signed-out home page offers; empty
	// with a real tenant.
	Accounts []Account
	// Versions shown on the pages; zero means BuildVersions().
	Versions Versions
	// Now is the demo's clock, which the dashboard's months follow; nil
	// means time.Now. Tests and screenshots fix it.
	Now func() time.Time
	// Logger gets a line for each failure; nil means slog.Default().
	Logger *slog.Logger
}

type app struct {
	Options
	routes   http.Handler // entraweb's
	versions Versions
	log      *slog.Logger
	pages    map[string]*template.Template
	csp      string
}

// New returns the demo app as one handler: entraweb's routes under /auth/,
// the pages, the dashboard under /dash/ and the embedded assets.
func New(o Options) (http.Handler, error) {
	if o.Auth == nil {
		return nil, errors.New("demo: Options.Auth is nil")
	}
	if o.GraphURL == "" {
		o.GraphURL = "https://graph.microsoft.com"
	}
	formAction := "'self'"
	if o.AuthorityHost != "" {
		u, err := url.Parse(o.AuthorityHost)
		loopback := u != nil && u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1")
		if err != nil || (u.Scheme != "https" && !loopback) || u.Host == "" {
			return nil, errors.New("demo: Options.AuthorityHost must be an https origin such as https://login.microsoftonline.com (or http on loopback)")
		}
		formAction += " " + u.Scheme + "://" + u.Host
	}
	a := &app{
		Options:  o,
		routes:   o.Auth.Routes(),
		versions: o.Versions,
		log:      o.Logger,
		// No inline script or style anywhere: everything comes from
		// /static/ or /dash/assets/.
		csp: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
			"form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'",
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.versions == (Versions{}) {
		a.versions = BuildVersions()
	}
	var err error
	if a.pages, err = parsePages(); err != nil {
		return nil, err
	}

	auth := o.Auth
	static, _ := fs.Sub(staticFS, "static")
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.routes)
	mux.Handle("GET /static/", http.StripPrefix("/static/", assets(static)))
	mux.HandleFunc("GET /{$}", a.home)
	for _, p := range rolePages {
		mux.Handle("GET "+p.Path, auth.RequireRole(p.Role, a.rolePage(p)))
	}
	mux.Handle("GET /profile", auth.RequireLogin(http.HandlerFunc(a.profile)))
	// The dashboard is an app of its own, protected as a whole by its
	// prefix: every path under /dash/, its page, its data and its assets,
	// needs a signed-in user.
	mux.Handle("/dash/", auth.RequireLogin(http.StripPrefix("/dash", Dashboard(DashboardOptions{Auth: auth, Now: o.Now}))))
	mux.HandleFunc("/", a.notFound)
	return a.secure(mux), nil
}

// secure adds the security headers of every answer. entraweb's own pages
// replace the Content-Security-Policy with theirs.
func (a *app) secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", a.csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// assets serves embedded files. They change only with the binary, so a
// short cache is enough to spare reloads without serving stale files
// after an upgrade.
func assets(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}
