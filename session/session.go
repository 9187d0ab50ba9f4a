package session

import (
	"encoding/json"
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
}

// Key is where s is stored: a hash of the cookie's id, from which the id
// cannot be recovered, so it may be kept (in an index for server-side
// sign-out, say) where the id itself must not. Manager.Revoke takes it.
func (s *Session) Key() string { return s.key }

// record is the stored form of a Session, sealed by the Manager's Box.
// Times are Unix seconds: a session never needs finer, and short field
// names keep each stored session small.
type record struct {
	Created  int64             `json:"c"`
	LastSeen int64             `json:"l"`
	Values   map[string]string `json:"v,omitempty"`
}

func (s *Session) marshal() ([]byte, error) {
	return json.Marshal(record{Created: s.Created.Unix(), LastSeen: s.LastSeen.Unix(), Values: s.Values})
}

func unmarshal(key string, data []byte) (*Session, error) {
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
