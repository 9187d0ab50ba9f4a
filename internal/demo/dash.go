package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/entraweb/entraweb"
)

// dashPage is the dashboard's one page. It links everything relatively,
// so the dashboard works under whatever prefix it is mounted at.
var dashPage = template.Must(template.ParseFS(templateFS, "templates/dash.html"))

// DashboardOptions configure the dashboard.
type DashboardOptions struct {
	// Auth gives the navbar's Sign out button its one-click form (a POST
	// carrying the session's CSRF token); nil sends the button to
	// entraweb's sign-out confirmation page at ../auth/logout instead.
	Auth *entraweb.Auth
	// Now is the dashboard's clock: the months it offers end with the
	// current one. nil means time.Now.
	Now func() time.Time
}

// Dashboard returns the dashboard: a self-contained app, as a Plotly Dash
// app is inside Flask, with its page at "/", its data at "/api/data" and
// its assets under "/assets/". Mount it behind RequireLogin with the
// prefix stripped:
//
//	mux.Handle("/dash/", auth.RequireLogin(http.StripPrefix("/dash", demo.Dashboard(opts))))
//
// It never signs anyone in: it reads the user from the request's context,
// which RequireLogin fills, and only offers the way out.
func Dashboard(o DashboardOptions) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &dashboard{o}
	assetsFS, _ := fs.Sub(staticFS, "static/dash")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.page)
	mux.HandleFunc("GET /api/data", d.data)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", assets(assetsFS)))
	return mux
}

type dashboard struct{ DashboardOptions }

// filter is what the dashboard shows: the months from From to To (the
// first of each, in UTC) split by Group.
type filter struct {
	From, To time.Time
	Group    grouping
}

// readFilter reads the query of the page or of the data: from and to are
// months (YYYY-MM) among those offered, group is a grouping's key. A
// parameter left out takes its default; every bad one is reported, each
// naming the parameter.
func readFilter(q url.Values, offered []time.Time) (filter, []string) {
	f := filter{From: offered[len(offered)-defaultMonths], To: offered[len(offered)-1], Group: groupings[0]}
	var problems []string
	for name, vs := range q {
		switch {
		case name != "from" && name != "to" && name != "group":
			problems = append(problems, fmt.Sprintf("%q is not a parameter (from, to and group are)", name))
		case len(vs) > 1:
			problems = append(problems, name+" is given more than once")
		}
	}
	readMonth := func(name string, dst *time.Time) {
		v := q.Get(name)
		if v == "" {
			return
		}
		m, err := time.Parse("2006-01", v)
		switch {
		case err != nil || monthKey(m) != v:
			problems = append(problems, fmt.Sprintf("%s: %q is not a month written YYYY-MM", name, v))
		case m.Before(offered[0]) || m.After(offered[len(offered)-1]):
			problems = append(problems, fmt.Sprintf("%s: %s is not offered (from %s to %s)", name, v, monthKey(offered[0]), monthKey(offered[len(offered)-1])))
		default:
			*dst = m
		}
	}
	readMonth("from", &f.From)
	readMonth("to", &f.To)
	if f.To.Before(f.From) {
		problems = append(problems, fmt.Sprintf("to: %s is before from, %s", monthKey(f.To), monthKey(f.From)))
	}
	if v := q.Get("group"); v != "" {
		i := slices.IndexFunc(groupings, func(g grouping) bool { return g.Key == v })
		if i < 0 {
			keys := make([]string, len(groupings))
			for j, g := range groupings {
				keys[j] = g.Key
			}
			problems = append(problems, fmt.Sprintf("group: %q is not one of %s", v, strings.Join(keys, ", ")))
		} else {
			f.Group = groupings[i]
		}
	}
	slices.Sort(problems) // the query's map order must not show
	return f, problems
}

// dashView is what the page's template gets.
type dashView struct {
	Name, Username string
	SignOut        signOutForm
	Months         []dashMonth // offered, oldest first
	Groupings      []grouping
	From, To       string // selected months
	Group          string // selected grouping
}

func (d *dashboard) page(w http.ResponseWriter, r *http.Request) {
	u := entraweb.UserFrom(r.Context())
	offered := monthsUpTo(d.Now(), offeredMonths)
	// A bad query in the address bar (an old bookmark, say) opens the
	// dashboard on its defaults rather than on an error.
	f, problems := readFilter(r.URL.Query(), offered)
	if problems != nil {
		f, _ = readFilter(nil, offered)
	}
	v := dashView{
		Name: u.Name, Username: u.Username,
		SignOut:   newSignOutForm(d.Auth, r, "../auth/logout"),
		Groupings: groupings,
		From:      monthKey(f.From), To: monthKey(f.To), Group: f.Group.Key,
	}
	for _, m := range offered {
		v.Months = append(v.Months, newDashMonth(m))
	}
	var buf bytes.Buffer
	if err := dashPage.Execute(&buf, v); err != nil {
		http.Error(w, "the dashboard could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// dashData is the answer of api/data: the months of the filter and, for
// each group, its sign-ins in those months.
type dashData struct {
	User       string       `json:"user"`
	From       string       `json:"from"`
	To         string       `json:"to"`
	Group      string       `json:"group"`
	GroupLabel string       `json:"groupLabel"`
	Unit       string       `json:"unit"`
	Months     []dashMonth  `json:"months"`
	Series     []dashSeries `json:"series"`
	Updated    string       `json:"updated"`
}

type dashMonth struct {
	Key   string `json:"key"`   // 2026-03
	Label string `json:"label"` // Mar
	Year  int    `json:"year"`  // 2026
}

func newDashMonth(m time.Time) dashMonth {
	return dashMonth{Key: monthKey(m), Label: m.Format("Jan"), Year: m.Year()}
}

// dashSeries is one group's sign-ins, a value per month of the answer.
type dashSeries struct {
	Name   string `json:"name"`
	Values []int  `json:"values"`
	Total  int    `json:"total"`
}

func (d *dashboard) data(w http.ResponseWriter, r *http.Request) {
	now := d.Now().UTC()
	f, problems := readFilter(r.URL.Query(), monthsUpTo(now, offeredMonths))
	if problems != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error":    "invalid_parameters",
			"message":  strings.Join(problems, "; "),
			"problems": problems,
		})
		return
	}
	out := dashData{
		User: entraweb.UserFrom(r.Context()).Name, Unit: "sign-ins",
		From: monthKey(f.From), To: monthKey(f.To), Group: f.Group.Key, GroupLabel: f.Group.Label,
		Updated: now.Format(time.RFC3339),
	}
	for m := f.From; !m.After(f.To); m = m.AddDate(0, 1, 0) {
		out.Months = append(out.Months, newDashMonth(m))
	}
	for _, name := range f.Group.Names {
		s := dashSeries{Name: name, Values: make([]int, 0, len(out.Months))}
		for m := f.From; !m.After(f.To); m = m.AddDate(0, 1, 0) {
			v := signIns(m, name)
			s.Values = append(s.Values, v)
			s.Total += v
		}
		out.Series = append(out.Series, s)
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
