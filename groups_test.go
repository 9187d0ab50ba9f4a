package entraweb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

func groupsApp(t *testing.T, srv *entratest.Server, cfg entraweb.Config) string {
	a := newApp(t, srv, cfg)
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.auth.Routes())
	for name, id := range map[string]string{"staff": entratest.StableID("group:staff"), "admins": entratest.StableID("group:admins"),
		"project-200": entratest.StableID("group:project-200")} {
		mux.Handle("/"+name, a.auth.RequireGroup(id, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s members only", name)
		})))
	}
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs.URL
}

func TestRequireGroup(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	url := groupsApp(t, srv, testConfig(srv))
	ctx := context.Background()
	tests := []struct {
		user, page string
		want       int
	}{
		{"alice", "admins", 200}, // groups in the token
		{"bob", "admins", 403},
		{"bob", "staff", 200},
		{"erin", "project-200", 200}, // 250 groups: read from Graph at sign-in
		{"erin", "admins", 403},
	}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.page, func(t *testing.T) {
			resp, body, err := srv.Browser().Visit(ctx, url+"/"+tt.page, tt.user+"@contoso.onmicrosoft.com", entratest.DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want {
				t.Errorf("%d, want %d: %.200s", resp.StatusCode, tt.want, body)
			}
		})
	}
}

func TestGroupsOverageUnreadable(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := testConfig(srv)
	cfg.GroupsScope = "Directory.Read.All" // not consented for DemoApp in the emulator
	cfg.Environment = "Development"        // the page shows the administrator's fix
	url := groupsApp(t, srv, cfg)
	resp, body, err := srv.Browser().Visit(context.Background(), url+"/project-200", "erin@contoso.onmicrosoft.com", entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 403 || !strings.Contains(body, "could not be read") || !strings.Contains(body, "Directory.Read.All") {
		t.Errorf("%d %.300s", resp.StatusCode, body)
	}
}
