package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/entraweb/entraweb/entratest"
)

func runEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8443", "`address` to listen on (TLS): apps fetch tokens, keys and Graph here")
	browserListen := fs.String("browser-listen", "", "loopback `address` where a browser on this machine gets the sign-in, consent and sign-out pages\n"+
		"over plain HTTP, so it needs no trust in the emulator's CA. Default: the -listen host at the next port (127.0.0.1:8444),\n"+
		"a free port when -listen's is 0, none when -listen is not loopback; \"off\" serves the pages on TLS at -listen")
	configFile := fs.String("config", "", "JSON `file` with tenants, apps and users (default: the built-in demo world; see -print-config)")
	caFile := fs.String("ca-file", defaultCAFile(), "`file` to write the emulator's CA certificate to")
	printConfig := fs.Bool("print-config", false, "print the built-in configuration as JSON (a starting point for -config) and exit")
	verbose := fs.Bool("v", false, "log every refused request, and why")
	allowRemote := fs.Bool("allow-remote", false, "allow a -listen address that is not loopback (anyone who reaches it can sign in as the test users)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: entraweb emulator [flags]\n\nServes a local emulator of Microsoft Entra ID (v2.0 endpoints, sign-in page,\ntest users and app roles) so apps and tests run with no Azure account.\nIt is a test identity provider, not for production.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	cfg := entratest.Default()
	if *configFile != "" {
		var err error
		if cfg, err = entratest.LoadConfig(*configFile); err != nil {
			fmt.Fprintf(stderr, "entraweb emulator: %v\n", err)
			return 1
		}
	}
	if *printConfig {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(cfg); err != nil {
			fmt.Fprintf(stderr, "entraweb emulator: %v\n", err)
			return 1
		}
		return 0
	}
	// The emulator's users, passwords, secrets and signing keys are
	// public: on a network anyone could sign in and get tokens. Serving
	// beyond this machine (say from a container, behind a port mapping)
	// must be asked for by name.
	switch loopback, err := isLoopbackListen(*listen); {
	case err != nil:
		fmt.Fprintf(stderr, "entraweb emulator: -listen %q: %v\n", *listen, err)
		return 2
	case !loopback && !*allowRemote:
		fmt.Fprintf(stderr, "entraweb emulator: -listen %q is not a loopback address. The emulator is a test identity provider\n"+
			"whose test users, passwords and client secrets are public: anyone who reaches it can sign in.\n"+
			"Listen on 127.0.0.1:PORT, or add -allow-remote to serve it beyond this machine anyway.\n", *listen)
		return 2
	case !loopback:
		fmt.Fprintf(stderr, "entraweb emulator: WARNING: -allow-remote: serving on %q, beyond this machine. Anyone who reaches it\n"+
			"can sign in as the test users and get tokens it signs. It is a test identity provider: never let it protect anything real.\n", *listen)
	}
	browserAddr, err := browserListenAddr(*listen, *browserListen, flagSet(fs, "browser-listen"))
	if err != nil {
		fmt.Fprintf(stderr, "entraweb emulator: -browser-listen: %v\n", err)
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	srv, err := entratest.Start(entratest.Options{
		Config:      cfg,
		Addr:        *listen,
		BrowserAddr: browserAddr,
		Logger:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		fmt.Fprintf(stderr, "entraweb emulator: %v\n", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintln(stderr, "Another program has the port: choose others with -listen and -browser-listen (127.0.0.1:0 picks a free one).")
		}
		return 1
	}
	defer srv.Close()
	if err := writeCA(*caFile, srv.CACertPEM()); err != nil {
		fmt.Fprintf(stderr, "entraweb emulator: writing the CA certificate: %v\n", err)
		return 1
	}
	printBanner(stdout, srv, *caFile)
	<-ctx.Done()
	fmt.Fprintln(stdout, "entraweb emulator: stopped")
	return 0
}

// isLoopbackListen reports whether a listen address keeps the emulator on
// this machine: its host is localhost, in 127.0.0.0/8 or ::1. An empty
// host (":8443") means every interface, so it is not loopback.
func isLoopbackListen(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, errors.New("want host:port, such as 127.0.0.1:8443")
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// browserListenAddr is where the emulator serves a browser's pages over
// plain HTTP, or "" to serve them on TLS with the rest. A person's browser
// does not trust the emulator's CA and would stop at a certificate
// warning; plain HTTP on loopback avoids that without asking anyone to
// install a CA. Unset, it follows -listen: the next port ("127.0.0.1:8443"
// gives 8444, so two emulators on different ports do not collide), a free
// one for port 0, and none when -listen is beyond loopback, since a
// browser on another machine could not reach a loopback page.
func browserListenAddr(listen, value string, set bool) (string, error) {
	if set {
		if value == "" || value == "off" {
			return "", nil
		}
		switch loopback, err := isLoopbackListen(value); {
		case err != nil:
			return "", fmt.Errorf("%q: %v", value, err)
		case !loopback:
			return "", fmt.Errorf("%q is not a loopback address: the pages carry the sign-in form over plain HTTP, so they stay on this machine", value)
		}
		return value, nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", nil // isLoopbackListen has refused it already
	}
	if loopback, _ := isLoopbackListen(listen); !loopback {
		return "", nil
	}
	p, err := strconv.Atoi(port)
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot follow the -listen port %q; choose an address such as 127.0.0.1:8444, or \"off\"", port)
	case p == 0:
		return net.JoinHostPort(host, "0"), nil
	case p >= 65535:
		return "", fmt.Errorf("the -listen port %d has no next port; choose an address such as 127.0.0.1:8444, or \"off\"", p)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+1)), nil
}

// flagSet reports whether the command line set the named flag, so that
// an explicit empty value can differ from the default.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func defaultCAFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "entraweb", "emulator-ca.pem")
}

func writeCA(path string, pemBytes []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, pemBytes, 0o644)
}

// printBanner tells a person everything needed to point an app at the
// emulator: the authority, the CA to trust, the app's credentials and the
// users to sign in as.
func printBanner(w io.Writer, srv *entratest.Server, caFile string) {
	cfg := srv.Config()
	t := cfg.Tenants[0]
	fmt.Fprintf(w, "Entra ID emulator listening on %s\n\n", srv.URL)
	fmt.Fprintln(w, "This is a TEST identity provider, NOT FOR PRODUCTION: its users, passwords, client")
	fmt.Fprintln(w, "secrets and signing keys are public, so its sign-ins and tokens prove nothing.")
	fmt.Fprintln(w, "Use it for development and tests only.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Authority:   %s   (tenant %s)\n", srv.Authority(), t.Domain)
	fmt.Fprintf(w, "Discovery:   %s/v2.0/.well-known/openid-configuration\n", srv.Authority())
	if srv.BrowserURL() != srv.URL {
		fmt.Fprintf(w, "Browser:     %s   (sign-in, consent and sign-out pages: plain HTTP, this machine only)\n", srv.BrowserURL())
	} else {
		fmt.Fprintf(w, "Browser:     %s   (sign-in, consent and sign-out pages: the browser must trust the CA file)\n", srv.URL)
	}
	fmt.Fprintf(w, "Graph:       %s/v1.0/me\n", srv.GraphURL())
	fmt.Fprintf(w, "CA file:     %s\n\n", caFile)
	fmt.Fprintln(w, "Trust the CA in the app's environment (it replaces the system roots for Go;")
	fmt.Fprintln(w, "NODE_EXTRA_CA_CERTS adds to them for Node):")
	fmt.Fprintf(w, "  export SSL_CERT_FILE=%s\n", caFile)
	fmt.Fprintf(w, "  export NODE_EXTRA_CA_CERTS=%s\n\n", caFile)
	for _, a := range t.Apps {
		fmt.Fprintf(w, "App %q:\n", a.DisplayName)
		fmt.Fprintf(w, "  export AZURE_AUTHORITY_HOST=%s/\n", srv.URL)
		fmt.Fprintf(w, "  export AZURE_TENANT_ID=%s\n", t.ID)
		fmt.Fprintf(w, "  export AZURE_CLIENT_ID=%s\n", a.ClientID)
		if len(a.Secrets) > 0 {
			fmt.Fprintf(w, "  export AZURE_CLIENT_SECRET='%s'   # an emulator-only secret\n", a.Secrets[0].Value)
		}
		fmt.Fprintf(w, "  redirect URIs: %s\n\n", strings.Join(a.RedirectURIs, ", "))
	}
	fmt.Fprintln(w, "Users (pick one on the sign-in page, or type username and password):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  username\tpassword\troles\tgroups")
	for _, tn := range cfg.Tenants {
		for _, u := range tn.Users {
			var roles []string
			for _, rs := range u.AppRoles {
				roles = append(roles, rs...)
			}
			sort.Strings(roles)
			r := strings.Join(roles, ",")
			if r == "" {
				r = "(none)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\n", u.Username, u.Password, r, len(u.Groups))
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}
