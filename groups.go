package entraweb

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/entraweb/entraweb/internal/guid"
)

const maxGroupPages = 50

// resolveGroups reads the groups of a user whose token could not carry
// them all (the groups overage), from Microsoft Graph's
// /me/transitiveMemberOf, with the user's own token. It follows
// @odata.nextLink only on Graph's host: the token never goes elsewhere.
func (a *Auth) resolveGroups(ctx context.Context, u *User) ([]string, error) {
	scope := a.s.cfg.GroupsScope
	if scope == "" {
		scope = "GroupMember.Read.All"
	}
	tok, err := a.userToken(ctx, u, []string{scope})
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(a.graphURL(), "/")
	bu, _ := url.Parse(base)
	next := base + "/v1.0/me/transitiveMemberOf?$select=id&$top=999"
	var groups []string
	for page := 0; next != ""; page++ {
		if page == maxGroupPages {
			return nil, fmt.Errorf("more than %d pages of groups", maxGroupPages)
		}
		nu, err := url.Parse(next)
		if err != nil || nu.Scheme != "https" || nu.Host != bu.Host {
			return nil, fmt.Errorf("microsoft graph's next page %q is not on %s", next, bu.Host)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		resp, err := a.s.httpClient.Do(req)
		if err != nil {
			return nil, err
		}
		var body struct {
			Value []struct {
				Type string `json:"@odata.type"`
				ID   string `json:"id"`
			} `json:"value"`
			Next string `json:"@odata.nextLink"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("microsoft graph answered HTTP %d to %s", resp.StatusCode, nu.Path)
		}
		if err != nil {
			return nil, fmt.Errorf("microsoft graph's answer is not JSON: %w", err)
		}
		for _, v := range body.Value {
			if (v.Type == "" || v.Type == "#microsoft.graph.group") && guid.Valid(v.ID) {
				groups = append(groups, strings.ToLower(v.ID))
			}
		}
		next = body.Next
	}
	slices.Sort(groups)
	return slices.Compact(groups), nil
}

func (a *Auth) graphURL() string {
	if a.s.cfg.GraphURL != "" {
		return a.s.cfg.GraphURL
	}
	return "https://graph.microsoft.com"
}

// InGroup reports whether the user is a member of the group (by object id).
func (u *User) InGroup(id string) bool {
	return slices.ContainsFunc(u.Groups, func(g string) bool { return strings.EqualFold(g, id) })
}

// RequireGroup is RequireLogin that also needs membership of a security
// group (its object id). It works for users in more groups than a token
// holds too: their groups are read from Microsoft Graph at sign-in.
func (a *Auth) RequireGroup(groupID string, next http.Handler) http.Handler {
	return a.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := UserFrom(r.Context())
		if u.InGroup(groupID) {
			next.ServeHTTP(w, r)
			return
		}
		a.forbiddenGroup(w, r, u, groupID)
	}))
}

// Group returns RequireGroup(id, ·) as middleware.
func (a *Auth) Group(id string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return a.RequireGroup(id, next) }
}

func (a *Auth) groupsScope() string {
	if a.s.cfg.GroupsScope != "" {
		return a.s.cfg.GroupsScope
	}
	return "GroupMember.Read.All"
}
