package entraweb

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/entraweb/entraweb/session"
)

// A pending sign-in lives in one short-lived cookie, encrypted and
// authenticated, never in the store: an anonymous flood of /auth/login
// costs no server memory. The cookie holds a few pending sign-ins at most
// (two tabs signing in at once both succeed), so repeated attempts never
// grow the request headers past what browsers and proxies accept.
type pendingSignIn struct {
	State       string `json:"s"`
	Nonce       string `json:"n"`
	Verifier    string `json:"v"`
	Return      string `json:"r"`
	RedirectURI string `json:"u"`
	Created     int64  `json:"c"`
	// Scopes and Claims of a step-up sign-in (incremental consent, a
	// claims challenge); empty for a plain one.
	Scopes []string `json:"sc,omitempty"`
	Claims string   `json:"cl,omitempty"`
}

const (
	maxPending    = 4
	pendingMaxAge = 15 * time.Minute
	pendingCookie = "entraweb_signin"
	// Browsers keep a cookie of up to 4,096 bytes of name and value (and
	// read refuses a longer value): the cookie's value stays under
	// pendingBudget, which leaves room for the name.
	pendingBudget = 3800
	// maxPendingReturn caps a stored return path: a longer one (up to
	// 2,048 bytes pass SafeReturnPath) would crowd out the other pending
	// sign-ins, so it is replaced by "/".
	maxPendingReturn = 512
)

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pkceChallenge is the S256 code challenge of a verifier.
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

type pendingJar struct {
	box *session.Box
	now func() time.Time
}

func (j *pendingJar) name(secure bool) string {
	if secure {
		return "__Host-" + pendingCookie
	}
	return pendingCookie
}

// read returns the unexpired pending sign-ins of the request's cookie; a
// cookie that does not open is ignored.
func (j *pendingJar) read(r *http.Request, secure bool) []pendingSignIn {
	c, err := r.Cookie(j.name(secure))
	if err != nil || len(c.Value) > 4096 {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	pt, err := j.box.Open(raw, []byte(pendingCookie))
	if err != nil {
		return nil
	}
	var list []pendingSignIn
	if json.Unmarshal(pt, &list) != nil {
		return nil
	}
	now := j.now().Unix()
	out := list[:0]
	for _, p := range list {
		if now-p.Created < int64(pendingMaxAge/time.Second) && now >= p.Created-60 {
			out = append(out, p)
		}
	}
	return out
}

// write stores the list, or deletes the cookie when the list is empty. It
// keeps the newest maxPending entries, drops the oldest while the cookie
// would exceed pendingBudget, and replaces a return path longer than
// maxPendingReturn by "/", so that the newest sign-in always fits.
func (j *pendingJar) write(w http.ResponseWriter, list []pendingSignIn, secure bool) {
	c := &http.Cookie{Name: j.name(secure), Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	if len(list) == 0 {
		c.MaxAge = -1
		http.SetCookie(w, c)
		return
	}
	if len(list) > maxPending {
		list = list[len(list)-maxPending:]
	}
	list = slices.Clone(list) // the caller's entries keep their return paths
	for i := range list {
		if len(list[i].Return) > maxPendingReturn {
			list[i].Return = "/"
		}
	}
	c.Value = j.seal(list)
	for len(c.Value) >= pendingBudget && len(list) > 1 {
		list = list[1:]
		c.Value = j.seal(list)
	}
	if len(c.Value) >= pendingBudget && list[0].Return != "/" {
		// Only a step-up's scopes and claims make one entry this large.
		list[0].Return = "/"
		c.Value = j.seal(list)
	}
	c.MaxAge = int(pendingMaxAge / time.Second)
	http.SetCookie(w, c)
}

// seal encrypts the list into a cookie value.
func (j *pendingJar) seal(list []pendingSignIn) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // an "&" in a return path costs 1 byte, not 6
	enc.Encode(list)
	return base64.RawURLEncoding.EncodeToString(j.box.Seal(b.Bytes(), []byte(pendingCookie)))
}

// take removes and returns the pending sign-in with this state.
func take(list []pendingSignIn, state string) (pendingSignIn, []pendingSignIn, bool) {
	for i, p := range list {
		if subtle.ConstantTimeCompare([]byte(p.State), []byte(state)) == 1 {
			return p, append(list[:i:i], list[i+1:]...), true
		}
	}
	return pendingSignIn{}, list, false
}
