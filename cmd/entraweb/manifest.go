package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/entraweb/entraweb/internal/manifest"
)

// listFlag collects a flag given several times or as a comma-separated
// list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// runManifest prints the app registration's roles, URLs and permissions.
func runManifest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o manifest.Options
	var roles, redirects listFlag
	fs.StringVar(&o.App, "app", "", "`name` of the app: the prefix of its role values (DemoApp gives DemoApp.Read); required")
	fs.Var(&roles, "roles", "role `names`, lowest first, comma-separated; Name=GUID keeps an id already in use (default Read,Write,Admin)")
	fs.Var(&redirects, "redirect", "the app's public `URL`: https://host (both the library's and the proxy's callbacks), or one ending in /auth/callback or /.auth/login/aad/callback; repeatable")
	fs.BoolVar(&o.Groups, "groups", false, "ask for GroupMember.Read.All too, to read the groups of users in more groups than a token carries")
	fs.BoolVar(&o.Apps, "apps", false, "let applications hold the roles too (allowedMemberTypes User and Application), for daemons calling the app's API")
	fs.StringVar(&o.ClientID, "client-id", "", "application (client) `id` for the az command line (default a placeholder)")
	format := fs.String("format", "json", "output `format`: json (manifest properties), az (an az ad app update command) or bicep (Microsoft Graph Bicep extension)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: entraweb manifest -app NAME [-roles Read,Write,Admin] [-redirect URL] [-format json|az|bicep]\n\n"+
			"Prints what the app registration needs: the appRoles with ids derived from\n"+
			"the app's name and the role (the same on every run, so assignments are\n"+
			"never orphaned), the redirect URIs and front-channel logout URL, and the\n"+
			"Microsoft Graph permissions; as manifest JSON, an az command or Bicep.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	o.Roles, o.Redirects = roles, redirects
	m, err := manifest.Build(o)
	if err != nil {
		fmt.Fprintf(stderr, "entraweb manifest:\n%v\n", err)
		return 2
	}
	if err := m.Write(stdout, *format); err != nil {
		fmt.Fprintf(stderr, "entraweb manifest: %v\n", err)
		return 2
	}
	return 0
}
