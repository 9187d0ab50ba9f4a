package entraweb

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/entraweb/entraweb/session"
)

func testJar(t testing.TB, now func() time.Time) *pendingJar {
	box, err := session.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &pendingJar{box: box, now: now}
}

func roundTrip(j *pendingJar, list []pendingSignIn, secure bool) []pendingSignIn {
	w := httptest.NewRecorder()
	j.write(w, list, secure)
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	return j.read(r, secure)
}

func TestPendingJar(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	j := testJar(t, func() time.Time { return now })
	var list []pendingSignIn
	for i := range 6 {
		list = append(list, pendingSignIn{State: string(rune('a' + i)), Created: now.Unix()})
	}
	got := roundTrip(j, list, false)
	if len(got) != maxPending || got[0].State != "c" || got[3].State != "f" {
		t.Fatalf("kept %v, want the newest %d", got, maxPending)
	}
	p, rest, ok := take(got, "d")
	if !ok || p.State != "d" || len(rest) != 3 || slices.ContainsFunc(rest, func(x pendingSignIn) bool { return x.State == "d" }) {
		t.Errorf("take: %v %v %v", p, rest, ok)
	}
	if _, _, ok := take(got, "zz"); ok {
		t.Error("took an unknown state")
	}
	// Expired entries are dropped on read.
	now = now.Add(pendingMaxAge + time.Second)
	if got := roundTrip(j, list[:2], false); len(got) != 0 {
		t.Errorf("expired entries survived: %v", got)
	}
	// The https cookie is __Host- prefixed, Secure, HttpOnly, Lax.
	w := httptest.NewRecorder()
	j.write(w, list[:1], true)
	c := w.Result().Cookies()[0]
	if c.Name != "__Host-entraweb_signin" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie %+v", c)
	}
}

func FuzzPendingCookie(f *testing.F) {
	j := testJar(f, time.Now)
	w := httptest.NewRecorder()
	j.write(w, []pendingSignIn{{State: "s", Created: time.Now().Unix()}}, false)
	f.Add(w.Result().Cookies()[0].Value)
	f.Add("")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", pendingCookie+"="+v)
		for _, p := range j.read(r, false) {
			if p.State == "" && v != w.Result().Cookies()[0].Value {
				t.Fatalf("a forged cookie opened: %q", v)
			}
		}
	})
}

func TestRoleHierarchy(t *testing.T) {
	def, _ := newRoleSet(nil, "")
	custom, err := newRoleSet([]string{"Viewer", "Editor", "Owner"}, "Viewer")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rs   *roleSet
		held []string
		want []string
	}{
		{def, []string{"DemoApp.Admin"}, []string{"DemoApp.Admin", "DemoApp.Read", "DemoApp.Write"}},
		{def, []string{"DemoApp.Write"}, []string{"DemoApp.Read", "DemoApp.Write"}},
		{def, []string{"Admin"}, []string{"Admin", "Read", "Write"}},
		{def, []string{"Other.Reader"}, []string{"Other.Reader"}},
		{def, nil, []string{}},
		{custom, []string{"Owner"}, []string{"Editor", "Owner", "Viewer"}},
		{custom, []string{"Editor", "Unlisted"}, []string{"Editor", "Unlisted", "Viewer"}},
	}
	for _, tt := range tests {
		got := tt.rs.expand(tt.held)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("expand(%v) = %v, want %v", tt.held, got, tt.want)
		}
	}
	if _, err := newRoleSet([]string{"A"}, "B"); err == nil {
		t.Error("a minimum role outside the hierarchy was accepted")
	}
}
