package session

import (
	"encoding/json"
	"maps"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, values := range []map[string]string{
		nil,
		{"user": `{"name":"Ada"}`, "csrf": "x", "": "", "bin": "\x00\xff\x01"},
	} {
		s := &Session{Created: time.Unix(1700000000, 0), LastSeen: time.Unix(1700000300, 0), Values: values}
		b, err := s.marshal()
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != recordV1 {
			t.Fatalf("written as %q, want the binary form", b[:1])
		}
		got, err := unmarshal("k", b)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Created.Equal(s.Created) || !got.LastSeen.Equal(s.LastSeen) || !maps.Equal(got.Values, values) || got.key != "k" {
			t.Errorf("round trip: %+v, want %+v", got, s)
		}
	}
}

// TestRecordReadsJSON: sessions written before the binary form still load.
func TestRecordReadsJSON(t *testing.T) {
	old, _ := json.Marshal(record{Created: 1700000000, LastSeen: 1700000060, Values: map[string]string{"user": "u"}})
	s, err := unmarshal("k", old)
	if err != nil || s.Values["user"] != "u" || s.LastSeen.Unix() != 1700000060 {
		t.Fatalf("%+v, %v", s, err)
	}
}

// FuzzRecord decodes arbitrary records: never a panic, never a session
// from garbage that is not a whole record, and what decodes encodes back
// to the same session.
func FuzzRecord(f *testing.F) {
	good, _ := (&Session{Created: time.Unix(1, 0), LastSeen: time.Unix(2, 0), Values: map[string]string{"a": "b"}}).marshal()
	f.Add(good)
	f.Add([]byte{recordV1, 2, 4, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte(`{"c":1,"l":2,"v":{"a":"b"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := unmarshal("k", b)
		if err != nil {
			return
		}
		again, err := s.marshal()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := unmarshal("k", again)
		if err != nil || !maps.Equal(s.Values, s2.Values) || !s.Created.Equal(s2.Created) || !s.LastSeen.Equal(s2.LastSeen) {
			t.Fatalf("re-encoded session differs: %+v vs %+v (%v)", s, s2, err)
		}
	})
}
