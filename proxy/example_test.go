package proxy_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/entraweb/entraweb/proxy"
)

// The package documentation's program: it needs a tenant, so it is
// compiled here but not run.
func Example() {
	cfg, err := proxy.LoadConfig() // appsettings.json, AZURE_*, and its "Proxy" section
	if err != nil {
		log.Fatal(err)
	}
	cfg.Upstream = "http://127.0.0.1:8050"
	cfg.Rules = []proxy.Rule{{Path: "/admin", Role: "DemoApp.Admin"}}
	cfg.PublicPaths = []string{"/assets/"}
	h, err := proxy.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	srv := &http.Server{Addr: "127.0.0.1:4180", Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// An upstream written in Go reads the user from X-MS-CLIENT-PRINCIPAL as
// an app behind App Service does.
func ExampleClientPrincipal() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := base64.StdEncoding.DecodeString(r.Header.Get("X-MS-CLIENT-PRINCIPAL"))
		var p proxy.ClientPrincipal
		if err != nil || json.Unmarshal(b, &p) != nil {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		for _, c := range p.Claims {
			switch c.Typ {
			case "name", "roles":
				fmt.Fprintf(w, "%s: %s\n", c.Typ, c.Val)
			}
		}
	})

	// What the proxy sends for Alice, an Admin (roles expanded).
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-MS-CLIENT-PRINCIPAL", "eyJhdXRoX3R5cCI6ImFhZCIsImNsYWltcyI6W3sidHlwIjoibmFtZSIsInZhbCI6IkFsaWNlIEFkbWluIn0seyJ0eXAiOiJwcmVmZXJyZWRfdXNlcm5hbWUiLCJ2YWwiOiJhbGljZUBjb250b3NvLm9ubWljcm9zb2Z0LmNvbSJ9LHsidHlwIjoicm9sZXMiLCJ2YWwiOiJEZW1vQXBwLkFkbWluIn0seyJ0eXAiOiJyb2xlcyIsInZhbCI6IkRlbW9BcHAuUmVhZCJ9LHsidHlwIjoicm9sZXMiLCJ2YWwiOiJEZW1vQXBwLldyaXRlIn1dLCJuYW1lX3R5cCI6Imh0dHA6Ly9zY2hlbWFzLnhtbHNvYXAub3JnL3dzLzIwMDUvMDUvaWRlbnRpdHkvY2xhaW1zL2VtYWlsYWRkcmVzcyIsInJvbGVfdHlwIjoiaHR0cDovL3NjaGVtYXMubWljcm9zb2Z0LmNvbS93cy8yMDA4LzA2L2lkZW50aXR5L2NsYWltcy9yb2xlIn0=")
	w := httptest.NewRecorder()
	app.ServeHTTP(w, req)
	fmt.Print(w.Body)
	// Output:
	// name: Alice Admin
	// roles: DemoApp.Admin
	// roles: DemoApp.Read
	// roles: DemoApp.Write
}
