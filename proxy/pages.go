package proxy

import (
	"encoding/json"
	"html/template"
	"log"
	"log/slog"
	"net/http"
	"strings"
)

// isNavigation tells a browser loading a page from a fetch, an XHR or an
// API call, as entraweb does: the first gets HTML, the others JSON.
func isNavigation(r *http.Request) bool {
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

var problemPage = template.Must(template.New("problem").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f5f5;color:#1b1b1b}
main{max-width:36rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin-top:0}
a.button{display:inline-block;background:#0067b8;color:#fff;border-radius:3px;padding:.5rem 1.2rem;text-decoration:none}
</style></head><body><main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Link}}<a class="button" href="{{.Link}}">{{.LinkText}}</a>{{end}}
</main></body></html>`))

type problemData struct {
	Title, Message, Link, LinkText string
}

// writeProblem answers with the proxy's own error: a small page for a
// browser, {"error": code, "message": ...} for anything else.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, code, title, msg string) {
	if !isNavigation(r) {
		writeJSON(w, status, map[string]string{"error": code, "message": msg})
		return
	}
	writePage(w, status, problemData{Title: title, Message: msg})
}

func writePage(w http.ResponseWriter, status int, d problemData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.WriteHeader(status)
	problemPage.Execute(w, d)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// errorLog sends what net/http and ReverseProxy log to the structured
// log.
func errorLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelWarn)
}
