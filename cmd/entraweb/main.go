// Command entraweb is entraweb's one binary: the demo app, the local
// Entra ID emulator and the authenticating proxy now, the helpers as they
// arrive.
//
//	entraweb demo [-listen 127.0.0.1:8080]
//	entraweb emulator [-listen 127.0.0.1:8443] [-browser-listen 127.0.0.1:8444] [-config FILE] [-allow-remote] [-v]
//	entraweb proxy -upstream http://127.0.0.1:8050 [-listen 127.0.0.1:4180] [-state-dir DIR] [-quiet]
//	entraweb doctor [-dir DIR] [-quick] [-json]
//	entraweb manifest -app NAME [-roles Read,Write,Admin] [-redirect URL] [-format json|az|bicep]
//	entraweb version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"emulator", "serve the local Entra ID emulator (no Azure account needed)", runEmulator},
	{"demo", "run the demo app, with the emulator built in unless a tenant is configured", runDemo},
	{"proxy", "put Entra ID sign-in with app roles in front of any web app", runProxy},
	{"doctor", "check the configuration against Entra ID, the store and the clock", runDoctor},
	{"manifest", "print the app registration's roles (stable ids), redirect URIs and permissions", runManifest},
	{"version", "print the versions of entraweb, MSAL Go and Go", runVersion},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the exit code: 0 on success,
// 1 on failure, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "entraweb: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: entraweb <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'entraweb <command> -h' for a command's flags.")
}
