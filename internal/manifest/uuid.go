package manifest

import (
	"crypto/sha1"
	"fmt"
)

// nsURL is RFC 9562's namespace for names that are URLs.
var nsURL = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// roleNamespace is entraweb's namespace for app-role ids: itself a
// name-based UUID of a URL we own. Changing it would give every app new
// role ids and orphan their assignments; TestRoleIDIsPinned holds it.
var roleNamespace = nameUUID(nsURL, "https://github.com/entraweb/entraweb#app-roles")

// nameUUID is the SHA-1 name-based UUID (version 5) of name in ns.
func nameUUID(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u
}

func formatUUID(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// RoleID is the stable id of the app role whose value is value (such as
// DemoApp.Read): the same on every run and every machine, so printing
// the manifest again never changes an id that assignments refer to.
func RoleID(value string) string {
	return formatUUID(nameUUID(roleNamespace, value))
}
