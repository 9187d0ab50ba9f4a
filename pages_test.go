package entraweb_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// syncBuffer is a log sink the handlers of several goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAppOwnsTheForbiddenPage: an app's ErrorPage renders the 403 inside
// its own layout, with what happened, and the trace id that the log line
// carries too.
func TestAppOwnsTheForbiddenPage(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := testConfig(srv)
	var logs syncBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	cfg.ErrorPage = func(w http.ResponseWriter, r *http.Request, p *entraweb.Problem) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(p.Status)
		fmt.Fprintf(w, `<nav>My App · <a href="/auth/logout">Sign out %s</a></nav><h1>%s</h1><p>code=%s role=%s user=%s trace=%s</p>`,
			html.EscapeString(p.User.Name), html.EscapeString(p.Title), p.Code, p.Role, html.EscapeString(p.User.Username), p.TraceID)
	}
	a := newApp(t, srv, cfg)
	b := srv.Browser()
	resp, body, err := b.Visit(context.Background(), a.url+"/admin", "bob@contoso.onmicrosoft.com", entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<nav>My App") || !strings.Contains(body, "Sign out Bob") ||
		!strings.Contains(body, "code=forbidden role=DemoApp.Admin user=bob@contoso.onmicrosoft.com") {
		t.Fatalf("the app's page was not used: %d %.500s", resp.StatusCode, body)
	}
	_, trace, _ := strings.Cut(body, "trace=")
	trace, _, _ = strings.Cut(trace, "<")
	line := ""
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "trace_id="+trace) {
			line = l
		}
	}
	if trace == "" || line == "" {
		t.Fatalf("no log line carries the page's trace id %q:\n%s", trace, logs.String())
	}
	for _, want := range []string{"level=INFO", "code=forbidden", "role=DemoApp.Admin", "user_oid=", "Enterprise applications"} {
		if !strings.Contains(line, want) {
			t.Errorf("the refusal's log line lacks %q: %s", want, line)
		}
	}
	// API calls still get entraweb's JSON.
	req, _ := http.NewRequest("GET", a.url+"/admin", nil)
	req.Header.Set("Accept", "application/json")
	resp, err = b.AppClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("API call: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestDefaultForbiddenPageSpeaksToTheUser: the default 403 tells the user
// what to ask for; the administrator's instructions appear only in
// Development.
func TestDefaultForbiddenPageSpeaksToTheUser(t *testing.T) {
	for _, env := range []string{"Production", "Development"} {
		t.Run(env, func(t *testing.T) {
			srv := entratest.NewServer(t, nil)
			cfg := testConfig(srv)
			cfg.Environment = env
			cfg.AccessContact = "the help desk"
			a := newApp(t, srv, cfg)
			resp, body, err := srv.Browser().Visit(context.Background(), a.url+"/admin", "carol@contoso.onmicrosoft.com", entratest.DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Ask the help desk for the role DemoApp.Admin") || !strings.Contains(body, "Trace id: ") {
				t.Fatalf("%d %.600s", resp.StatusCode, body)
			}
			operator := strings.Contains(body, `id="operator"`) && strings.Contains(body, "Enterprise applications")
			if operator != (env == "Development") {
				t.Errorf("administrator's section shown: %v in %s", operator, env)
			}
			if env == "Production" && strings.Contains(body, "Enterprise applications") {
				t.Error("the administrator's instructions reached a user in Production")
			}
		})
	}
}
