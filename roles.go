package entraweb

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// roleSet expands the app roles a user holds through the hierarchy, so
// that a handler asking for "Read" admits a user who holds "Admin".
type roleSet struct {
	// order is the configured hierarchy, lowest first; nil selects the
	// default rule by suffix (P.Admin ⊇ P.Write ⊇ P.Read).
	order   []string
	rank    map[string]int
	minimum string
}

var defaultLadder = []string{"Read", "Write", "Admin"}

func newRoleSet(order []string, minimum string) (*roleSet, error) {
	var errs []error
	rs := &roleSet{minimum: minimum}
	if len(order) > 0 {
		rs.order = order
		rs.rank = map[string]int{}
		for i, r := range order {
			if r == "" || strings.ContainsAny(r, " \t\n") {
				errs = append(errs, fmt.Errorf("Entraweb:Roles:%d: %q is not a role value", i, r))
			}
			if _, dup := rs.rank[r]; dup {
				errs = append(errs, fmt.Errorf("Entraweb:Roles:%d: %q is listed twice", i, r))
			}
			rs.rank[r] = i
		}
		if _, ok := rs.rank[minimum]; minimum != "" && !ok {
			errs = append(errs, fmt.Errorf("Entraweb:MinimumRole: %q is not one of Entraweb:Roles %v", minimum, order))
		}
	} else if strings.ContainsAny(minimum, " \t\n") {
		errs = append(errs, fmt.Errorf("Entraweb:MinimumRole: %q is not a role value", minimum))
	}
	return rs, errors.Join(errs...)
}

// expand returns the roles held plus every role they imply, sorted.
func (rs *roleSet) expand(held []string) []string {
	out := slices.Clone(held)
	for _, r := range held {
		if rs.order != nil {
			if i, ok := rs.rank[r]; ok {
				out = append(out, rs.order[:i]...)
			}
			continue
		}
		prefix, last := "", r
		if i := strings.LastIndexByte(r, '.'); i >= 0 {
			prefix, last = r[:i+1], r[i+1:]
		}
		if i := slices.Index(defaultLadder, last); i > 0 {
			for _, lower := range defaultLadder[:i] {
				out = append(out, prefix+lower)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
