package demo

import (
	"encoding/json"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"time"

	"github.com/entraweb/entraweb"
)

// dashPage is the dashboard's one page. It links everything relatively,
// so the dashboard works under whatever prefix it is mounted at.
var dashPage = template.Must(template.ParseFS(templateFS, "templates/dash.html"))

// Dashboard returns the dashboard: a self-contained app, as a Plotly Dash
// app is inside Flask, with its page at "/", its data at "/api/data" and
// its assets under "/assets/". Mount it behind RequireLogin with the
// prefix stripped:
//
//	mux.Handle("/dash/", auth.RequireLogin(http.StripPrefix("/dash", demo.Dashboard())))
//
// It knows nothing of sign-in: it reads the user from the request's
// context, which RequireLogin fills.
func Dashboard() http.Handler {
	assetsFS, _ := fs.Sub(staticFS, "static/dash")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		u := entraweb.UserFrom(r.Context())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		dashPage.Execute(w, struct{ Name, Username string }{u.Name, u.Username})
	})
	mux.HandleFunc("GET /api/data", dashData)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", assets(assetsFS)))
	return mux
}

// series is the chart's data.
type series struct {
	User    string  `json:"user"`
	Title   string  `json:"title"`
	Unit    string  `json:"unit"`
	Points  []point `json:"points"`
	Updated string  `json:"updated"`
}

type point struct {
	Label string `json:"label"`
	Value int    `json:"value"`
}

// dashData answers the chart's data: made-up monthly sign-ins that drift
// a little every minute, so a refresh visibly redraws.
func dashData(w http.ResponseWriter, r *http.Request) {
	u := entraweb.UserFrom(r.Context())
	now := time.Now().UTC()
	s := series{User: u.Name, Title: "Sign-ins per month", Unit: "sign-ins", Updated: now.Format(time.RFC3339)}
	start := now.AddDate(0, -11, 0)
	drift := float64(now.Minute())
	for i := range 12 {
		m := start.AddDate(0, i, 0)
		v := 900 + 45*float64(i) + 220*math.Sin(float64(m.Month())/12*2*math.Pi) + 30*math.Sin(drift/9+float64(i))
		s.Points = append(s.Points, point{m.Format("Jan"), int(math.Round(v))})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(s)
}
