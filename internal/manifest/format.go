package manifest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats lists what Write can print.
var Formats = []string{"json", "az", "bicep"}

// Write prints m in format: "json" (the manifest's properties, to paste
// into the admin center's manifest editor), "az" (an az ad app update
// command line) or "bicep" (a Microsoft Graph Bicep extension resource).
func (m *Manifest) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		return m.writeJSON(w)
	case "az":
		return m.writeAz(w)
	case "bicep":
		return m.writeBicep(w)
	}
	return fmt.Errorf("-format %q: use json, az or bicep", format)
}

func (m *Manifest) writeJSON(w io.Writer) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// compactJSON is v as one line of JSON; Build admitted no character that
// needs quoting in a shell's single quotes.
func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (m *Manifest) writeAz(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: app roles with stable ids, redirect URIs and Microsoft Graph permissions (%s).\n", m.app, strings.Join(m.permissions, ", "))
	fmt.Fprintf(&b, "az ad app update --id '%s' \\\n", m.clientID)
	fmt.Fprintf(&b, "  --app-roles '%s' \\\n", compactJSON(m.AppRoles))
	if m.Web != nil {
		b.WriteString("  --web-redirect-uris")
		for _, u := range m.Web.RedirectURIs {
			fmt.Fprintf(&b, " '%s'", u)
		}
		b.WriteString(" \\\n")
		fmt.Fprintf(&b, "  --set 'web.logoutUrl=%s' \\\n", m.Web.LogoutURL)
	}
	fmt.Fprintf(&b, "  --required-resource-accesses '%s'\n", compactJSON(m.RequiredResourceAccess))
	_, err := io.WriteString(w, b.String())
	return err
}

func (m *Manifest) writeBicep(w io.Writer) error {
	var b strings.Builder
	q := func(s string) string { return "'" + s + "'" }
	b.WriteString("// The Microsoft Graph Bicep extension: bicepconfig.json maps microsoftGraphV1 to\n")
	b.WriteString("// br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:<version>.\n")
	b.WriteString("extension microsoftGraphV1\n\n")
	fmt.Fprintf(&b, "resource app 'Microsoft.Graph/applications@v1.0' = {\n")
	fmt.Fprintf(&b, "  uniqueName: %s\n", q(m.app))
	fmt.Fprintf(&b, "  displayName: %s\n", q(m.app))
	b.WriteString("  appRoles: [\n")
	for _, r := range m.AppRoles {
		b.WriteString("    {\n")
		fmt.Fprintf(&b, "      id: %s\n", q(r.ID))
		fmt.Fprintf(&b, "      value: %s\n", q(r.Value))
		fmt.Fprintf(&b, "      displayName: %s\n", q(r.DisplayName))
		fmt.Fprintf(&b, "      description: %s\n", q(r.Description))
		b.WriteString("      allowedMemberTypes: [\n")
		for _, t := range r.AllowedMemberTypes {
			fmt.Fprintf(&b, "        %s\n", q(t))
		}
		b.WriteString("      ]\n")
		fmt.Fprintf(&b, "      isEnabled: %t\n", r.IsEnabled)
		b.WriteString("    }\n")
	}
	b.WriteString("  ]\n")
	if m.Web != nil {
		b.WriteString("  web: {\n    redirectUris: [\n")
		for _, u := range m.Web.RedirectURIs {
			fmt.Fprintf(&b, "      %s\n", q(u))
		}
		b.WriteString("    ]\n")
		fmt.Fprintf(&b, "    logoutUrl: %s\n", q(m.Web.LogoutURL))
		b.WriteString("  }\n")
	}
	fmt.Fprintf(&b, "  // Microsoft Graph: %s (delegated)\n", strings.Join(m.permissions, ", "))
	b.WriteString("  requiredResourceAccess: [\n")
	for _, ra := range m.RequiredResourceAccess {
		b.WriteString("    {\n")
		fmt.Fprintf(&b, "      resourceAppId: %s\n", q(ra.ResourceAppID))
		b.WriteString("      resourceAccess: [\n")
		for _, a := range ra.ResourceAccess {
			fmt.Fprintf(&b, "        {\n          id: %s\n          type: %s\n        }\n", q(a.ID), q(a.Type))
		}
		b.WriteString("      ]\n    }\n")
	}
	b.WriteString("  ]\n}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
