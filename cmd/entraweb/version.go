package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/entraweb/entraweb/internal/demo"
)

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: entraweb version\n\nPrints the versions of entraweb, MSAL Go and Go in this binary.")
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	v := demo.BuildVersions() // the same versions the demo's pages show
	fmt.Fprintf(stdout, "entraweb %s\nMSAL Go %s\nGo %s\n", v.Entraweb, v.MSAL, v.Go)
	return 0
}

// parseFlags parses a subcommand's flags, which take no arguments besides.
// When it reports !ok the command ends with code: 0 after -h, 2 for bad
// usage (the message and the usage are already printed).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "entraweb %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2, false
	}
	return 0, true
}
