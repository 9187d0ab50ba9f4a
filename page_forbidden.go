package entraweb

import (
	"net/http"
	"strings"
)

// forbidden is the 403 page of a signed-in user without the role needed.
// It speaks to that user; how an administrator grants the role goes to the
// log (and to the page in Development).
func (a *Auth) forbidden(w http.ResponseWriter, r *http.Request, u *User, role string) {
	held := "no app role"
	if len(u.AssignedRoles) > 0 {
		held = "the roles " + strings.Join(u.AssignedRoles, ", ")
	}
	a.fail(w, r, Problem{Status: http.StatusForbidden, Code: "forbidden", Title: "You need the role " + role,
		Message: "You are signed in as " + u.Name + " (" + u.Username + "), but this page is only for people with the role " + role + ".",
		Fix:     "Ask " + a.accessContact() + " for the role " + role + ", then sign in again. If you meant to use another account, sign in as someone else.",
		Role:    role, User: u,
		Operator: "Assign " + u.Username + " (object id " + u.ObjectID + "), who holds " + held + ", the app role " + role +
			" or one above it: Microsoft Entra admin center > Enterprise applications > this app > Users and groups.",
		Links: a.forbiddenLinks(r)}, nil)
}

// forbiddenGroup is the 403 page of a signed-in user outside the group
// needed.
func (a *Auth) forbiddenGroup(w http.ResponseWriter, r *http.Request, u *User, group string) {
	p := Problem{Status: http.StatusForbidden, Code: "forbidden", Title: "Group membership needed",
		Message: "This page is for members of a group you are not in (" + group + ").",
		Fix:     "Ask " + a.accessContact() + " to add you to the group, then sign in again.",
		Group:   group, User: u,
		Operator: "Add " + u.Username + " (object id " + u.ObjectID + ") to the group " + group + ".",
		Links:    a.forbiddenLinks(r)}
	if u.GroupsOverage {
		p.Message = "You are in more groups than a sign-in token lists, and they could not be read from Microsoft Graph."
		p.Fix = "Tell " + a.accessContact() + ", quoting the trace id below; sign in again once they have fixed it."
		p.Operator = "Grant the app registration the delegated Microsoft Graph permission " + a.groupsScope() +
			" with admin consent (API permissions), so entraweb can read the groups of users in too many groups for a token."
	}
	a.fail(w, r, p, nil)
}

func (a *Auth) forbiddenLinks(r *http.Request) []Link {
	return []Link{{a.s.origin.BaseURL(r).String() + "/", "Home"}, {a.loginURL(r, "/") + "&prompt=select_account", "Sign in as someone else"}}
}

func (a *Auth) accessContact() string {
	if c := a.s.cfg.AccessContact; c != "" {
		return c
	}
	return "the app's administrator"
}
