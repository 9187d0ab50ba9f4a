package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/demo"
)

// runDemo serves the demo app. With no tenant configured it starts the
// emulator in-process and signs in against it; with AZURE_* variables or
// an appsettings file naming a tenant, the same app signs in there.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` of the demo app (http)")
	verbose := fs.Bool("v", false, "log every sign-in, sign-out and refused request")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: entraweb demo [flags]\n\n"+
			"Serves the demo app: the signed-in user with their roles and groups, pages\n"+
			"behind DemoApp.Read, DemoApp.Write and DemoApp.Admin, a Microsoft Graph\n"+
			"profile and a dashboard protected as a whole under /dash/.\n\n"+
			"Without a configured tenant it runs the Entra ID emulator in-process, so\n"+
			"no Azure account is needed. With AZURE_TENANT_ID, AZURE_CLIENT_ID and a\n"+
			"credential (or appsettings.json) it signs in against that tenant instead.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "entraweb demo: "+format+"\n", a...)
		return 1
	}

	cfg, err := entraweb.LoadConfig()
	if err != nil {
		return fail("reading the configuration:\n%v", err)
	}
	opts := demo.Options{Logger: logger}
	var emu *entratest.Server
	if strings.TrimSpace(cfg.TenantID) == "" {
		// The pages a person's browser visits are served over plain HTTP on
		// loopback, so no certificate warning stands between the user and
		// the demo; tokens still only travel over the emulator's TLS.
		emu, err = entratest.Start(entratest.Options{Addr: "127.0.0.1:0", BrowserAddr: "127.0.0.1:0", Logger: logger})
		if err != nil {
			return fail("starting the emulator: %v", err)
		}
		defer emu.Close()
		cfg = demo.EmulatorConfig(emu)
		opts.GraphURL, opts.HTTPClient, opts.AuthorityHost = emu.GraphURL(), emu.Client(), emu.BrowserURL()
		opts.Tenant = "the Entra ID emulator (in-process)"
		opts.Accounts = demo.EmulatorAccounts(emu)
	} else {
		if cfg.RoutePrefix != "" && cfg.RoutePrefix != "/auth/" {
			return fail("Entraweb:RoutePrefix is %q; the demo serves entraweb's routes at /auth/, so leave it unset", cfg.RoutePrefix)
		}
		if len(cfg.Scopes) == 0 {
			cfg.Scopes = []string{"User.Read"} // for the profile page
		}
		if cfg.GraphURL == "" {
			cfg.GraphURL = "https://graph.microsoft.com"
		}
		opts.GraphURL, opts.HTTPClient = cfg.GraphURL, cfg.HTTPClient
		opts.AuthorityHost = strings.TrimSuffix(cfg.Instance, "/")
		if opts.AuthorityHost == "" {
			opts.AuthorityHost = "https://login.microsoftonline.com"
		}
		opts.Tenant = "tenant " + cfg.TenantID
		fmt.Fprintf(stdout, "entraweb demo: using the tenant %s from the configuration (AZURE_* or appsettings), not the emulator\n", cfg.TenantID)
	}
	cfg.Logger = logger

	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		return fail("%v", err)
	}
	defer auth.Close()
	opts.Auth = auth
	h, err := demo.New(opts)
	if err != nil {
		return fail("%v", err)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail("%v (choose another address with -listen, such as -listen 127.0.0.1:0)", err)
	}
	appURL := "http://" + displayAddr(ln.Addr().(*net.TCPAddr)) + "/"
	if emu != nil {
		// As an app registration would list it: signing out at the
		// emulator, from any app, ends the demo's session too.
		if err := emu.Update(func(c *entratest.Config) {
			c.Tenants[0].Apps[0].FrontChannelLogoutURL = appURL + "auth/frontchannel-logout"
		}); err != nil {
			return fail("registering the demo's front-channel logout URL: %v", err)
		}
	}
	srv := newDemoServer(h, logger)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	printDemoBanner(stdout, appURL, emu, opts.Accounts, cfg)

	select {
	case err := <-done:
		return fail("%v", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fail("shutting down: %v", err)
	}
	fmt.Fprintln(stdout, "entraweb demo: stopped")
	return 0
}

// newDemoServer is the server the demo serves h with. Each limit stops a
// client from holding a connection, with its goroutine and file
// descriptor, open for as long as it likes: ReadHeaderTimeout alone lets a
// client drip a request body to /auth/callback forever, or park an idle
// keep-alive connection.
func newDemoServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// The whole request, body included; the demo's requests are small.
		ReadTimeout: 30 * time.Second,
		// Longer than the 30 s a call to Entra ID or Graph may take, so a
		// slow call ends in an error page, not a dropped connection.
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  2 * time.Minute,
		// The sign-in cookies take a few KB; the default allows 1 MB.
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// displayAddr is the host:port to print: a wildcard listener is reached
// on the loopback address, which the emulator's app registration accepts.
func displayAddr(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(a.Port))
}

func printDemoBanner(w io.Writer, appURL string, emu *entratest.Server, accounts []demo.Account, cfg entraweb.Config) {
	fmt.Fprintf(w, "entraweb demo: open %s\n\n", appURL)
	if emu == nil {
		u, _ := url.Parse(appURL)
		fmt.Fprintf(w, "Register %sauth/callback as a Web redirect URI of app %s,\n", u, cfg.ClientID)
		fmt.Fprintf(w, "and %s as a front-channel logout / post-logout redirect URI.\n", u)
		fmt.Fprintln(w, "Give users the app roles DemoApp.Read, DemoApp.Write or DemoApp.Admin (README: Register your app in Entra ID).")
		fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
		return
	}
	fmt.Fprintf(w, "No tenant is configured, so the Entra ID emulator runs in-process at %s\n", emu.URL)
	fmt.Fprintln(w, "(no Azure account involved). Sign in as one of its users:")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  username\tpassword\tapp role\tsees")
	for _, a := range accounts {
		role := a.Role
		if role == "" {
			role = "(none)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Username, a.Password, role, a.Sees)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nSet AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET to run the same demo")
	fmt.Fprintln(w, "against a real tenant. Press Ctrl-C to stop.")
}
