package entraweb

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestUserCodec(t *testing.T) {
	u := &User{Name: "Erin Ü", Username: "erin@contoso.example", ObjectID: "oid", TenantID: "tid",
		AssignedRoles: []string{"DemoApp.Read"}, Groups: make([]string, 250), GroupsOverage: true,
		SignedInAt: time.Unix(1700000000, 0).UTC(), tokens: "partition"}
	for i := range u.Groups {
		u.Groups[i] = "00000000-0000-0000-0000-000000000000"
	}
	got, ok := decodeUser(encodeUser(u))
	if !ok || !reflect.DeepEqual(got, u) {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	// Users stored as JSON before the binary form still decode.
	raw, _ := json.Marshal(storedUser{User: u, Tokens: u.tokens})
	got, ok = decodeUser(string(raw))
	if !ok || got.ObjectID != "oid" || got.tokens != "partition" || len(got.Groups) != 250 {
		t.Fatalf("JSON: %+v %v", got, ok)
	}
	for _, bad := range []string{"", "\x02", encodeUser(u)[:20], encodeUser(u) + "x"} {
		if _, ok := decodeUser(bad); ok {
			t.Errorf("decoded %q", bad)
		}
	}
}

// FuzzUserRecord decodes arbitrary user records: never a panic, and what
// decodes encodes back to the same user.
func FuzzUserRecord(f *testing.F) {
	f.Add(encodeUser(&User{Name: "a", ObjectID: "o", TenantID: "t", Groups: []string{"g"}}))
	f.Add(`{"name":"a","oid":"o","tid":"t","tk":"p"}`)
	f.Add("\x01\x00")
	f.Fuzz(func(t *testing.T, raw string) {
		u, ok := decodeUser(raw)
		if !ok || raw[0] == '{' {
			return
		}
		again, ok := decodeUser(encodeUser(u))
		if !ok || !reflect.DeepEqual(again, u) {
			t.Fatalf("re-encoded user differs: %+v vs %+v", again, u)
		}
	})
}
