package demo

import (
	"runtime"
	"runtime/debug"
)

const msalModule = "github.com/AzureAD/microsoft-authentication-library-for-go"

// Versions are the versions shown on the home page: entraweb's, MSAL Go's
// and Go's, as recorded in the running binary.
type Versions struct {
	Entraweb, MSAL, Go string
}

// BuildVersions reads the versions from the binary's build information.
// Under `go run` or `go build` in the repository the main module's version
// is "(devel)"; test binaries record no dependencies, so MSAL Go's version
// is "(unknown)" there.
func BuildVersions() Versions {
	v := Versions{Entraweb: "(devel)", MSAL: "(unknown)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Path == "github.com/entraweb/entraweb" && bi.Main.Version != "" {
		v.Entraweb = bi.Main.Version
	}
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/entraweb/entraweb":
			// A program that imports entraweb as a dependency.
			v.Entraweb = d.Version
		case msalModule:
			v.MSAL = d.Version
			if d.Replace != nil {
				v.MSAL += " => " + d.Replace.Version
			}
		}
	}
	return v
}
