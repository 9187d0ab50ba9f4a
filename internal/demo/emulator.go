package demo

import (
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// Account is a test user the landing page and the command's banner offer.
type Account struct {
	Username, Password string
	Role               string // the app role assigned, "" for none
	Sees               string // what the account shows in the demo
}

// EmulatorConfig is the configuration of the demo app signing in against
// srv as its DemoApp: the emulator's CA is trusted through srv.Client (no
// SSL_CERT_FILE), Graph is the emulator's, sessions live in memory, and no
// minimum role is set, so a user without a role reaches the app and meets
// the 403 page on the role pages.
func EmulatorConfig(srv *entratest.Server) entraweb.Config {
	return entraweb.Config{
		Instance:     srv.URL + "/",
		TenantID:     entratest.DemoTenantID,
		ClientID:     entratest.DemoClientID,
		ClientSecret: entratest.DemoClientSecret,
		HTTPClient:   srv.Client(),
		GraphURL:     srv.GraphURL(),
		Scopes:       []string{"User.Read"},
		Session:      entraweb.SessionConfig{Store: "memory"},
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// EmulatorAccounts lists the users of srv's first tenant who can use
// DemoApp, with what each one shows.
func EmulatorAccounts(srv *entratest.Server) []Account {
	cfg := srv.Config()
	t := cfg.Tenants[0]
	var out []Account
	for _, u := range t.Users {
		if u.Disabled {
			continue
		}
		roles := u.AppRoles[entratest.DemoClientID]
		a := Account{Username: u.Username, Password: u.Password, Role: strings.Join(roles, ", ")}
		switch {
		case slices.Contains(roles, "DemoApp.Admin"):
			a.Sees = "Read, Write and Admin"
		case slices.Contains(roles, "DemoApp.Write"):
			a.Sees = "Read and Write"
		case slices.Contains(roles, "DemoApp.Read"):
			a.Sees = "Read only"
		default:
			a.Sees = "no role page: the 403 page names the role to ask for"
		}
		if len(u.Groups) > 200 {
			a.Sees += "; in " + strconv.Itoa(len(u.Groups)) + " groups, too many for a token (read from Graph)"
		}
		out = append(out, a)
	}
	return out
}
