// Package guid recognises the GUIDs Entra ID names things by (tenants,
// apps, objects, app roles): one rule for every package that checks them.
package guid

// Valid reports whether s has a GUID's 8-4-4-4-12 hexadecimal shape, in
// either case.
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
