package entraweb

import (
	"encoding/binary"
	"encoding/json"
	"time"
)

// A session keeps its user in a compact binary form: the version byte,
// then the strings (name, username, email, oid, tid, token partition),
// the sign-in time, the overage flag, and the assigned roles and the
// groups, each string with its length. Decoding it is what the first
// request of a session on an instance pays, so it is several times
// cheaper than JSON for a user in many groups. Users stored as JSON by
// earlier versions still decode.
const userV1 = 0x01

func encodeUser(u *User) string {
	n := 64 + len(u.Name) + len(u.Username) + len(u.Email) + len(u.ObjectID) + len(u.TenantID) + len(u.tokens)
	for _, r := range u.AssignedRoles {
		n += len(r) + 2
	}
	for _, g := range u.Groups {
		n += len(g) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, userV1)
	for _, s := range []string{u.Name, u.Username, u.Email, u.ObjectID, u.TenantID, u.tokens} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, u.SignedInAt.Unix())
	overage := byte(0)
	if u.GroupsOverage {
		overage = 1
	}
	b = append(b, overage)
	for _, list := range [][]string{u.AssignedRoles, u.Groups} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return string(b)
}

// decodeUser reads what encodeUser wrote, or the JSON of earlier
// versions. Roles (the expanded hierarchy) are left for the caller.
func decodeUser(raw string) (*User, bool) {
	if len(raw) > 0 && raw[0] == '{' {
		var u User
		st := storedUser{User: &u}
		if json.Unmarshal([]byte(raw), &st) != nil {
			return nil, false
		}
		u.tokens = st.Tokens
		return &u, true
	}
	if len(raw) == 0 || raw[0] != userV1 {
		return nil, false
	}
	b := raw[1:]
	str := func() (string, bool) {
		l, n := uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return "", false
		}
		s := b[n : n+int(l)]
		b = b[n+int(l):]
		return s, true
	}
	u := &User{}
	for _, dst := range []*string{&u.Name, &u.Username, &u.Email, &u.ObjectID, &u.TenantID, &u.tokens} {
		s, ok := str()
		if !ok {
			return nil, false
		}
		*dst = s
	}
	t, n := varint(b)
	if n <= 0 || len(b) < n+1 || b[n] > 1 {
		return nil, false
	}
	u.SignedInAt, u.GroupsOverage = time.Unix(t, 0).UTC(), b[n] == 1
	b = b[n+1:]
	for _, dst := range []*[]string{&u.AssignedRoles, &u.Groups} {
		count, n := uvarint(b)
		if n <= 0 || count > uint64(len(b)) {
			return nil, false
		}
		b = b[n:]
		list := make([]string, 0, count)
		for range count {
			s, ok := str()
			if !ok {
				return nil, false
			}
			list = append(list, s)
		}
		*dst = list
	}
	return u, len(b) == 0
}

// uvarint and varint read from a string as binary.Uvarint and Varint do
// from a byte slice, without copying it.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

func varint(s string) (int64, int) {
	ux, n := uvarint(s)
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x, n
}
