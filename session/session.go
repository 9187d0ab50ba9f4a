package session

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// Session is the server-side state of one signed-in browser. It is made by
// Manager.Start or Manager.Load; change Values and call Manager.Save to
// keep the change. A Session is not safe for concurrent use, and two
// requests saving the same session at once keep the last write.
type Session struct {
	// Created is when the session was started; the absolute Lifetime
	// counts from here.
	Created time.Time
	// LastSeen is when the session was last touched; the IdleTimeout
	// counts from here.
	LastSeen time.Time
	// Values holds what the application keeps for the user, such as the
	// name and object id. It is encrypted at rest.
	Values map[string]string

	key string // store key, a hash of the id; empty for a Session not made by a Manager

	// shared is set on the Sessions LoadShared hands out: one instance per
	// stored version, read by concurrent requests, never changed.
	shared bool
	memo   *memo
}

// memo is what Memo computes once per shared Session.
type memo struct {
	once sync.Once
	v    any
}

// Memo returns f(s), computed once for each stored version of a session
// that LoadShared hands out, and kept with it: what an application derives
// from Values (its decoded user, say) is then derived once per version,
// not once per request. Every caller of a Manager must pass a function
// that gives the same answer for the same Values. On a Session from Load
// or Start it simply calls f.
func (s *Session) Memo(f func(*Session) any) any {
	if s.memo == nil {
		return f(s)
	}
	s.memo.once.Do(func() { s.memo.v = f(s) })
	return s.memo.v
}

// Key is where s is stored: a hash of the cookie's id, from which the id
// cannot be recovered, so it may be kept (in an index for server-side
// sign-out, say) where the id itself must not. Manager.Revoke takes it.
func (s *Session) Key() string { return s.key }

// record is the JSON form of a Session that versions before the binary
// one wrote; unmarshal still reads it, so no session is lost to an
// upgrade.
type record struct {
	Created  int64             `json:"c"`
	LastSeen int64             `json:"l"`
	Values   map[string]string `json:"v,omitempty"`
}

// recordV1 marks the binary form of a stored session: the version byte,
// then created and last-seen as Unix seconds (varints), the number of
// values, and each key and value with its length (uvarints). It is a
// fraction of the JSON's cost to decode, which every first request of a
// session on an instance pays.
const recordV1 = 0x01

func (s *Session) marshal() ([]byte, error) {
	n := 1 + 3*binary.MaxVarintLen64
	for k, v := range s.Values {
		n += len(k) + len(v) + 2*binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	b = append(b, recordV1)
	b = binary.AppendVarint(b, s.Created.Unix())
	b = binary.AppendVarint(b, s.LastSeen.Unix())
	b = binary.AppendUvarint(b, uint64(len(s.Values)))
	for k, v := range s.Values {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b, nil
}

var errRecord = errors.New("malformed session record")

func unmarshal(key string, data []byte) (*Session, error) {
	if len(data) > 0 && data[0] == '{' {
		return unmarshalJSON(key, data)
	}
	if len(data) == 0 || data[0] != recordV1 {
		return nil, errRecord
	}
	b := data[1:]
	created, n := binary.Varint(b)
	if n <= 0 {
		return nil, errRecord
	}
	b = b[n:]
	lastSeen, n := binary.Varint(b)
	if n <= 0 {
		return nil, errRecord
	}
	b = b[n:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) { // every value takes at least two bytes
		return nil, errRecord
	}
	b = b[n:]
	str := func() (string, bool) {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return "", false
		}
		v := string(b[n : n+int(l)])
		b = b[n+int(l):]
		return v, true
	}
	values := make(map[string]string, count)
	for range count {
		k, ok1 := str()
		v, ok2 := str()
		if !ok1 || !ok2 {
			return nil, errRecord
		}
		values[k] = v
	}
	if len(b) != 0 {
		return nil, errRecord
	}
	return &Session{Created: time.Unix(created, 0), LastSeen: time.Unix(lastSeen, 0), Values: values, key: key}, nil
}

func unmarshalJSON(key string, data []byte) (*Session, error) {
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, err
	}
	if rec.Values == nil {
		rec.Values = map[string]string{}
	}
	return &Session{
		Created:  time.Unix(rec.Created, 0),
		LastSeen: time.Unix(rec.LastSeen, 0),
		Values:   rec.Values,
		key:      key,
	}, nil
}

// seconds drops what a stored session cannot keep, so a fresh Session and
// the same one loaded back compare equal.
func seconds(t time.Time) time.Time { return time.Unix(t.Unix(), 0) }
