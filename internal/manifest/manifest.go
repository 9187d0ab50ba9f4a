// Package manifest builds what an app registration needs for entraweb:
// app roles with stable ids, the redirect and logout URLs, and the
// Microsoft Graph permissions, as manifest JSON, an az command line or a
// Bicep fragment. The entraweb command's manifest subcommand prints it.
package manifest

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/entraweb/entraweb/internal/guid"
)

// Paths entraweb serves, in the library's layout and the proxy's (App
// Service's). They are the defaults of entraweb.Config and proxy.
const (
	LibraryCallback     = "/auth/callback"
	LibraryFrontChannel = "/auth/frontchannel-logout"
	LibrarySignedOut    = "/"
	ProxyCallback       = "/.auth/login/aad/callback"
	ProxyFrontChannel   = "/.auth/frontchannel-logout"
	ProxySignedOut      = "/.auth/logout/done"
)

// Microsoft Graph and the ids of the delegated permissions entraweb uses
// (the same in every tenant).
const (
	GraphAppID             = "00000003-0000-0000-c000-000000000000"
	userReadID             = "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
	groupMemberReadAllID   = "bc024368-1153-4739-b217-4326f2e966d0"
	maxRoleValue           = 120 // Entra ID's limit on an app role's value
	defaultRoles           = "Read,Write,Admin"
	placeholderApplication = "<application (client) id>"
)

// Options is what the manifest is built from; the subcommand's flags.
type Options struct {
	// App prefixes every role value (DemoApp gives DemoApp.Read).
	App string
	// Roles are role names, lowest first, each "Name" (its id derived
	// from App and Name) or "Name=GUID" (an id to keep, such as one
	// already assigned). Empty means Read, Write and Admin.
	Roles []string
	// Redirects are the app's public URLs: a base URL (https://host or
	// https://host/prefix, giving both the library's and the proxy's
	// callbacks) or a URL ending in /auth/callback (the library) or
	// /.auth/login/aad/callback (the proxy).
	Redirects []string
	// Groups adds GroupMember.Read.All, which reading the groups of users
	// in more groups than a token carries (the groups overage) needs.
	Groups bool
	// ClientID goes into the az command line; a placeholder when empty.
	ClientID string
	// Apps makes the roles assignable to applications too
	// (allowedMemberTypes User and Application), for daemons that call
	// the app's API with client credentials (RequireAppRole, the proxy's
	// ApiAppRole).
	Apps bool
}

// Role is an entry of the manifest's appRoles.
type Role struct {
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Description        string   `json:"description"`
	DisplayName        string   `json:"displayName"`
	ID                 string   `json:"id"`
	IsEnabled          bool     `json:"isEnabled"`
	Value              string   `json:"value"`
}

// Web is the manifest's web platform: redirect URIs and the front-channel
// logout URL.
type Web struct {
	RedirectURIs []string `json:"redirectUris"`
	LogoutURL    string   `json:"logoutUrl,omitempty"`
}

// ResourceAccess is one permission of RequiredResourceAccess.
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"` // Scope: delegated
}

// RequiredResourceAccess lists the permissions asked of one API.
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// Manifest is the part of an app registration (in Microsoft Graph's
// shape, as the admin center's manifest editor shows it) that entraweb
// depends on.
type Manifest struct {
	AppRoles               []Role                   `json:"appRoles"`
	Web                    *Web                     `json:"web,omitempty"`
	RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess"`

	app         string
	clientID    string
	permissions []string // the Graph permissions' names, for comments
}

// Build checks o and makes the manifest, reporting every problem at once.
func Build(o Options) (*Manifest, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case o.App == "":
		bad("-app is required: the prefix of the role values, e.g. -app DemoApp")
	case !isWord(o.App):
		bad("-app %q: use letters, digits, '.', '_' or '-', starting with a letter or digit", o.App)
	}
	m := &Manifest{app: o.App, clientID: o.ClientID}
	if m.clientID == "" {
		m.clientID = placeholderApplication
	} else if !guid.Valid(m.clientID) {
		bad("-client-id %q is not a GUID (the application (client) id)", o.ClientID)
	}
	roles := o.Roles
	if len(roles) == 0 {
		roles = strings.Split(defaultRoles, ",")
	}
	seenName, seenID := map[string]bool{}, map[string]string{}
	for _, spec := range roles {
		name, id, hasID := strings.Cut(strings.TrimSpace(spec), "=")
		name = strings.TrimSpace(name)
		value := o.App + "." + name
		switch {
		case name == "":
			bad("-roles: an empty role name in %q", strings.Join(o.Roles, ","))
			continue
		case !isWord(name):
			bad("-roles: %q is not a role name: use letters, digits, '.', '_' or '-', starting with a letter or digit", name)
			continue
		case len(value) > maxRoleValue:
			bad("-roles: %q is longer than Entra ID's %d characters", value, maxRoleValue)
			continue
		case seenName[strings.ToLower(name)]:
			bad("-roles: %q is listed twice", name)
			continue
		}
		seenName[strings.ToLower(name)] = true
		if hasID {
			id = strings.ToLower(strings.TrimSpace(id))
			if !guid.Valid(id) {
				bad("-roles: %s=%q: the id must be a GUID such as a8161423-2e8e-46c4-9997-f984faccb625", name, id)
				continue
			}
		} else {
			id = RoleID(value)
		}
		if other, dup := seenID[id]; dup {
			bad("-roles: %s and %s have the same id %s", other, name, id)
			continue
		}
		seenID[id] = name
		members := []string{"User"}
		if o.Apps {
			members = append(members, "Application")
		}
		m.AppRoles = append(m.AppRoles, Role{
			AllowedMemberTypes: members,
			Description:        name + " access",
			DisplayName:        o.App + " " + name,
			ID:                 id,
			IsEnabled:          true,
			Value:              value,
		})
	}
	for _, raw := range o.Redirects {
		uris, logout, err := redirectForms(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.Web == nil {
			// Entra ID keeps one front-channel logout URL per app: the
			// first URL given.
			m.Web = &Web{LogoutURL: logout}
		}
		for _, u := range uris {
			if !contains(m.Web.RedirectURIs, u) {
				m.Web.RedirectURIs = append(m.Web.RedirectURIs, u)
			}
		}
	}
	graph := RequiredResourceAccess{ResourceAppID: GraphAppID, ResourceAccess: []ResourceAccess{{ID: userReadID, Type: "Scope"}}}
	m.permissions = []string{"User.Read"}
	if o.Groups {
		graph.ResourceAccess = append(graph.ResourceAccess, ResourceAccess{ID: groupMemberReadAllID, Type: "Scope"})
		m.permissions = append(m.permissions, "GroupMember.Read.All")
	}
	m.RequiredResourceAccess = []RequiredResourceAccess{graph}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// redirectForms reads one -redirect value and returns the URIs to
// register for it (callbacks and where sign-out ends) and its
// front-channel logout URL.
func redirectForms(raw string) (uris []string, logout string, err error) {
	u, perr := url.Parse(raw)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return nil, "", fmt.Errorf("-redirect %q: must be an absolute URL such as https://app.example.com/auth/callback", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, "", fmt.Errorf("-redirect %q: must have no user info, query or fragment (Entra ID compares redirect URIs exactly)", raw)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return nil, "", fmt.Errorf("-redirect %q: Entra ID accepts plain http only for localhost and 127.0.0.1; use https", raw)
	}
	if strings.ContainsAny(u.Path, " '\"\\") {
		return nil, "", fmt.Errorf("-redirect %q: the path has a character that cannot be registered", raw)
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.Path, "/")
	switch {
	case strings.HasSuffix(path, ProxyCallback):
		base := origin + strings.TrimSuffix(path, ProxyCallback)
		return []string{base + ProxyCallback, base + ProxySignedOut}, base + ProxyFrontChannel, nil
	case strings.HasSuffix(path, LibraryCallback):
		base := origin + strings.TrimSuffix(path, LibraryCallback)
		return []string{base + LibraryCallback, base + LibrarySignedOut}, base + LibraryFrontChannel, nil
	}
	base := origin + path
	return []string{base + LibraryCallback, base + LibrarySignedOut, base + ProxyCallback, base + ProxySignedOut}, base + LibraryFrontChannel, nil
}

// IsLoopback reports whether host (without port) is one where Entra ID
// accepts plain http redirect URIs.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func isWord(s string) bool {
	if s == "" || len(s) > maxRoleValue {
		return false
	}
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
