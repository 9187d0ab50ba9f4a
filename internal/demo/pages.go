package demo

import (
	"bytes"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/entraweb/entraweb"
)

// pageNames are the pages built on templates/layout.html.
var pageNames = []string{"home", "landing", "role", "profile", "notfound", "error"}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"in":    func(s []string, v string) bool { return slices.Contains(s, v) },
		"first": func(n int, s []string) []string { return s[:min(n, len(s))] },
		// atBreak splits an address after its @, where a narrow screen
		// should break it (with a <wbr>) rather than inside a word.
		"atBreak": func(s string) []string {
			if local, domain, ok := strings.Cut(s, "@"); ok {
				return []string{local + "@", domain}
			}
			return []string{s}
		},
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// view is what every page gets.
type view struct {
	Title    string
	Active   string // the Path of the navigation entry to highlight
	User     *entraweb.User
	Nav      []navItem
	SignOut  signOutForm
	Tenant   string
	Versions Versions
	Data     any
}

type navItem struct {
	Path, Label string
	Role        string // needed to open it; "" for any signed-in user
	Allowed     bool
}

// rolePage is one of the pages behind an app role.
type rolePage struct {
	Path, Label, Role string
	Intro             string
	Code              string
}

var rolePages = []rolePage{
	{"/read", "Read", RoleRead, "Everyone with an app role can read. Admin and Write include Read through the hierarchy, so all three roles open this page.",
		`mux.Handle("GET /read", auth.RequireRole("DemoApp.Read", read))`},
	{"/write", "Write", RoleWrite, "Writers and administrators can change things. A reader who opens this page gets the 403 page, which names the role to ask for.",
		`mux.Handle("GET /write", auth.RequireRole("DemoApp.Write", write))`},
	{"/admin", "Admin", RoleAdmin, "Only administrators open this page. The role at the top of the hierarchy includes every role below it.",
		`mux.Handle("GET /admin", auth.RequireRole("DemoApp.Admin", admin))`},
}

func (a *app) nav(u *entraweb.User) []navItem {
	items := []navItem{{Path: "/", Label: "Home", Allowed: true}}
	for _, p := range rolePages {
		items = append(items, navItem{Path: p.Path, Label: p.Label, Role: p.Role, Allowed: u != nil && u.HasRole(p.Role)})
	}
	return append(items,
		navItem{Path: "/profile", Label: "Profile", Allowed: u != nil},
		navItem{Path: "/dash/", Label: "Dashboard", Allowed: u != nil})
}

// render writes a page. It renders into a buffer first, so a template
// failure becomes a 500 instead of half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	if v.User == nil {
		v.User = entraweb.UserFrom(r.Context())
	}
	if v.User != nil {
		v.Nav = a.nav(v.User)
		v.SignOut = a.signOutForm(r)
	}
	v.Tenant, v.Versions = a.Tenant, a.versions
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		a.log.Error("demo: rendering a page", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages show who is signed in
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// homeData is the home page's content.
type homeData struct {
	Pages    []navItem // the role pages, with whether the user opens them
	Inherits []string  // roles held only through the hierarchy
	Accounts []Account
}

// home greets a signed-in user with what entraweb knows about them, and a
// visitor with the way in.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	u, err := a.Auth.User(r)
	if err != nil {
		a.log.Error("demo: reading the session", "err", err)
		w.Header().Set("Retry-After", "5")
		a.render(w, r, http.StatusServiceUnavailable, "error", view{Title: "Temporarily unavailable",
			Data: "The session store cannot be reached right now. Try again in a few seconds."})
		return
	}
	if u == nil {
		a.render(w, r, http.StatusOK, "landing", view{Title: "Welcome", Data: homeData{Accounts: a.Accounts}})
		return
	}
	d := homeData{Pages: a.nav(u)[1:4]}
	for _, role := range u.Roles {
		if !slices.Contains(u.AssignedRoles, role) {
			d.Inherits = append(d.Inherits, role)
		}
	}
	a.render(w, r, http.StatusOK, "home", view{Title: "Home", Active: "/", User: u, Data: d})
}

func (a *app) rolePage(p rolePage) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := entraweb.UserFrom(r.Context())
		var via string // the assigned role that opened this page
		for _, held := range u.AssignedRoles {
			if held == p.Role || via == "" {
				via = held
			}
		}
		a.render(w, r, http.StatusOK, "role", view{Title: p.Label, Active: p.Path, Data: struct {
			rolePage
			Via     string
			Matrix  []roleRow
			Inherit bool
		}{p, via, matrix(p.Role), via != p.Role}})
	})
}

// roleRow says whether holders of a role open a page.
type roleRow struct {
	Role  string
	Opens bool
}

func matrix(need string) []roleRow {
	order := []string{RoleRead, RoleWrite, RoleAdmin}
	at := slices.Index(order, need)
	rows := make([]roleRow, 0, len(order)+1)
	for i := len(order) - 1; i >= 0; i-- {
		rows = append(rows, roleRow{order[i], i >= at})
	}
	return append(rows, roleRow{"no role", false})
}

func (a *app) notFound(w http.ResponseWriter, r *http.Request) {
	u, _ := a.Auth.User(r)
	a.render(w, r, http.StatusNotFound, "notfound", view{Title: "Page not found", User: u})
}
