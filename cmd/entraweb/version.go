package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
)

const msalModule = "github.com/AzureAD/microsoft-authentication-library-for-go"

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: entraweb version\n\nPrints the versions of entraweb, Go and MSAL Go in this binary.")
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	self, msal := "(devel)", "(not linked)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			self = v
		}
		for _, d := range bi.Deps {
			if d.Path == msalModule {
				msal = d.Version
			}
		}
	}
	fmt.Fprintf(stdout, "entraweb %s\nMSAL Go %s\n", self, msal)
	return 0
}

// flagExit maps a flag parsing error to an exit code: -h is a success, a
// bad flag is a usage error.
func flagExit(err error) int {
	if err == flag.ErrHelp {
		return 0
	}
	return 2
}
