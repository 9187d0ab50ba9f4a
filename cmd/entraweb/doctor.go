package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/entraweb/entraweb"
)

// doctorMarks are the symbols of each outcome in the text report.
var doctorMarks = map[entraweb.CheckStatus]string{
	entraweb.CheckOK: "✔", entraweb.CheckWarn: "⚠", entraweb.CheckFail: "✘", entraweb.CheckSkip: "–",
}

// runDoctor loads the configuration as the app does and prints the
// checks of entraweb.Check; it exits 1 when one fails.
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "`directory` holding appsettings.json and appsettings.{Environment}.json")
	quick := fs.Bool("quick", false, "leave out the token request, the registration's comparison and the Redis caching probe")
	asJSON := fs.Bool("json", false, "print the report as JSON (for CI)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on the checks after this `duration`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: entraweb doctor [-dir DIR] [-quick] [-json]\n\n"+
			"Loads the configuration exactly as the app does (appsettings.json, then\n"+
			"appsettings.{Environment}.json, then AZURE_* and AzureAd__*/Entraweb__*\n"+
			"variables) and checks it against Entra ID, the session store and the\n"+
			"clock, printing ✔, ⚠ (works, needs attention), ✘ (with the fix) or – (not\n"+
			"checked) for each. Exits 1 when a check fails, 0 otherwise.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cfg, err := entraweb.LoadConfigDir(*dir)
	var rep entraweb.Report
	if err != nil {
		rep.Checks = []entraweb.CheckResult{{Name: "configuration", Status: entraweb.CheckFail, Message: err.Error(),
			Fix: "correct the keys named above in " + *dir + "/appsettings*.json or the environment"}}
	} else {
		rep = entraweb.Check(ctx, cfg, &entraweb.CheckOptions{Quick: *quick})
	}
	if *asJSON {
		out := struct {
			OK     bool                   `json:"ok"`
			Checks []entraweb.CheckResult `json:"checks"`
		}{rep.OK(), rep.Checks}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	} else {
		env := cfg.Environment
		if env == "" {
			env = "(none)"
		}
		fmt.Fprintf(stdout, "entraweb doctor: settings from %s, environment %s, tenant %s, app %s\n\n", *dir, env, orNone(cfg.TenantID), orNone(cfg.ClientID))
		failed := 0
		for _, c := range rep.Checks {
			fmt.Fprintf(stdout, "%s %s: %s\n", doctorMarks[c.Status], c.Name, indent(c.Message))
			if c.Fix != "" && c.Status != entraweb.CheckOK {
				fmt.Fprintf(stdout, "    fix: %s\n", indent(c.Fix))
			}
			if c.Status == entraweb.CheckFail {
				failed++
			}
		}
		switch failed {
		case 0:
			fmt.Fprintln(stdout, "\nNo check failed.")
		case 1:
			fmt.Fprintln(stdout, "\n1 check failed.")
		default:
			fmt.Fprintf(stdout, "\n%d checks failed.\n", failed)
		}
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// indent keeps a multi-line message under its check.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
