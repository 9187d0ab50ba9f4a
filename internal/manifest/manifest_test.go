package manifest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestNameUUIDStandardVector checks the SHA-1 name-based UUID against
// RFC 9562's own example (www.example.com in the DNS namespace).
func TestNameUUIDStandardVector(t *testing.T) {
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got, want := formatUUID(nameUUID(dns, "www.example.com")), "2ed6657d-e927-568b-95e1-2665a8aea6a2"; got != want {
		t.Errorf("v5 UUID = %s, want %s", got, want)
	}
}

// TestRoleIDIsPinned: a change of namespace or name scheme would give
// every app new role ids and orphan its assignments; this test fails
// first.
func TestRoleIDIsPinned(t *testing.T) {
	for value, want := range map[string]string{
		"DemoApp.Read":  "c4024129-f106-5c8d-9a13-8deb89ac7b31",
		"DemoApp.Write": "399b6cb0-1d2f-563a-9015-8849e0492413",
		"DemoApp.Admin": "fc69de3b-7986-583b-9f09-6ac3f71b6dc9",
	} {
		if got := RoleID(value); got != want {
			t.Errorf("RoleID(%q) = %s, want %s", value, got, want)
		}
	}
	if RoleID("DemoApp.Read") == RoleID("OtherApp.Read") {
		t.Error("two apps' Read roles share an id")
	}
}

func TestBuildStableAcrossRuns(t *testing.T) {
	o := Options{App: "DemoApp", Roles: []string{"Read", "Write", "Admin"}, Redirects: []string{"https://app.example.com"}}
	var outs []string
	for range 2 {
		m, err := Build(o)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := m.Write(&b, "json"); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b.String())
	}
	if outs[0] != outs[1] {
		t.Errorf("two runs differ:\n%s\n%s", outs[0], outs[1])
	}
}

// TestSeedIDsKept: the seed's hand-written ids stay valid with Name=GUID.
func TestSeedIDsKept(t *testing.T) {
	m, err := Build(Options{App: "DemoApp", Roles: []string{
		"Read=a8161423-2e8e-46c4-9997-f984faccb625", "Write=B8161423-2E8E-46C4-9997-F984FACCB625", "Admin",
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a8161423-2e8e-46c4-9997-f984faccb625", "b8161423-2e8e-46c4-9997-f984faccb625", RoleID("DemoApp.Admin")}
	for i, r := range m.AppRoles {
		if r.ID != want[i] {
			t.Errorf("%s id = %s, want %s", r.Value, r.ID, want[i])
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no app", Options{}, "-app is required"},
		{"app with space", Options{App: "Demo App"}, `-app "Demo App"`},
		{"role with quote", Options{App: "A", Roles: []string{"Re'ad"}}, `"Re'ad" is not a role name`},
		{"empty role", Options{App: "A", Roles: []string{"Read", ""}}, "empty role name"},
		{"duplicate role", Options{App: "A", Roles: []string{"Read", "read"}}, `"read" is listed twice`},
		{"bad GUID", Options{App: "A", Roles: []string{"Read=1234"}}, "must be a GUID"},
		{"same GUID twice", Options{App: "A", Roles: []string{"Read=a8161423-2e8e-46c4-9997-f984faccb625", "Write=a8161423-2e8e-46c4-9997-f984faccb625"}}, "same id"},
		{"too long", Options{App: "A", Roles: []string{strings.Repeat("x", 119)}}, "longer than"},
		{"http outside loopback", Options{App: "A", Redirects: []string{"http://app.example.com/auth/callback"}}, "only for localhost"},
		{"relative redirect", Options{App: "A", Redirects: []string{"/auth/callback"}}, "absolute URL"},
		{"redirect with query", Options{App: "A", Redirects: []string{"https://a.example.com/auth/callback?x=1"}}, "no user info, query or fragment"},
		{"redirect with fragment", Options{App: "A", Redirects: []string{"https://a.example.com/#x"}}, "no user info, query or fragment"},
		{"bad client id", Options{App: "A", ClientID: "nope"}, "-client-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	// Every problem at once.
	_, err := Build(Options{Roles: []string{"a b"}, Redirects: []string{"ftp://x"}})
	if err == nil || strings.Count(err.Error(), "\n") < 2 {
		t.Errorf("want three problems reported together, got %v", err)
	}
}

func TestRedirectForms(t *testing.T) {
	tests := []struct {
		in     string
		uris   []string
		logout string
	}{
		{"https://app.example.com/auth/callback", []string{"https://app.example.com/auth/callback", "https://app.example.com/"}, "https://app.example.com/auth/frontchannel-logout"},
		{"https://app.example.com/.auth/login/aad/callback", []string{"https://app.example.com/.auth/login/aad/callback", "https://app.example.com/.auth/logout/done"}, "https://app.example.com/.auth/frontchannel-logout"},
		{"https://app.example.com/sub/", []string{"https://app.example.com/sub/auth/callback", "https://app.example.com/sub/", "https://app.example.com/sub/.auth/login/aad/callback", "https://app.example.com/sub/.auth/logout/done"}, "https://app.example.com/sub/auth/frontchannel-logout"},
		{"http://localhost:8080", []string{"http://localhost:8080/auth/callback", "http://localhost:8080/", "http://localhost:8080/.auth/login/aad/callback", "http://localhost:8080/.auth/logout/done"}, "http://localhost:8080/auth/frontchannel-logout"},
		{"http://[::1]:8080/auth/callback", []string{"http://[::1]:8080/auth/callback", "http://[::1]:8080/"}, "http://[::1]:8080/auth/frontchannel-logout"},
	}
	for _, tt := range tests {
		uris, logout, err := redirectForms(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if strings.Join(uris, " ") != strings.Join(tt.uris, " ") || logout != tt.logout {
			t.Errorf("%s: got %v %s, want %v %s", tt.in, uris, logout, tt.uris, tt.logout)
		}
	}
}

func TestGroupsPermission(t *testing.T) {
	for _, groups := range []bool{false, true} {
		m, err := Build(Options{App: "A", Groups: groups})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		m.Write(&b, "json")
		var got struct {
			RequiredResourceAccess []RequiredResourceAccess
		}
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		ids := got.RequiredResourceAccess[0].ResourceAccess
		if len(ids) != map[bool]int{false: 1, true: 2}[groups] || ids[0].ID != userReadID {
			t.Errorf("groups=%v: permissions %v", groups, ids)
		}
	}
	if err := (&Manifest{}).Write(&bytes.Buffer{}, "yaml"); err == nil || !strings.Contains(err.Error(), "json, az or bicep") {
		t.Errorf("unknown format: %v", err)
	}
}
