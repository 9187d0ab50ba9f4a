package soak

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// window is the time a fault was in force. A request that overlaps it,
// or ends within slack after it, may have met the fault.
type window struct {
	kind       string
	start, end time.Time // end zero: still in force
	slack      time.Duration
	// excuses says whether the fault may cause 5xx answers. A key
	// rotation must not: it excuses nothing.
	excuses bool
}

// faultLog records every fault window, for the checks and the summary.
type faultLog struct {
	t0      time.Time // the run's start, for the timeline
	mu      sync.Mutex
	windows []window
}

// timeline lists the windows with their times from the run's start.
func (l *faultLog) timeline() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, w := range l.windows {
		fmt.Fprintf(&b, "  %6.2fs–%6.2fs %s\n", w.start.Sub(l.t0).Seconds(), w.end.Sub(l.t0).Seconds(), w.kind)
	}
	return b.String()
}

// begin records that a fault of kind starts now; the returned func ends it.
func (l *faultLog) begin(kind string, excuses bool, slack time.Duration) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.windows = append(l.windows, window{kind: kind, start: time.Now(), slack: slack, excuses: excuses})
	i := len(l.windows) - 1
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.windows[i].end = time.Now()
	}
}

// excuse names an excusing fault in force at some time between start and
// end (with its slack), or "" when none was.
func (l *faultLog) excuse(start, end time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.windows) - 1; i >= 0; i-- {
		w := l.windows[i]
		if !w.excuses {
			continue
		}
		wend := w.end
		if wend.IsZero() {
			wend = end
		}
		if !start.After(wend.Add(w.slack)) && !end.Before(w.start) {
			return w.kind
		}
	}
	return ""
}

// counts is how many windows of each kind there were, and their total
// time.
func (l *faultLog) counts() (map[string]int, map[string]time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, d := map[string]int{}, map[string]time.Duration{}
	for _, w := range l.windows {
		n[w.kind]++
		if !w.end.IsZero() {
			d[w.kind] += w.end.Sub(w.start)
		}
	}
	return n, d
}

// identity is who a response says the user is: from an app page, from
// the token an app page got, or from the headers the proxy sent the
// upstream.
type identity struct {
	OID      string
	Username string
	TokenOID string // the oid claim of the access token, when one was shown
	TokenSum string // a digest of that token, never the token itself
}

// answer is one response a virtual user got, or its transport error.
type answer struct {
	op         string // "page", "token", "proxy", "sign-in", "proxy-sign-in", "sign-out", "proxy-sign-out", "final", "final-proxy"
	start, end time.Time
	status     int
	location   string // Location of a redirect
	body       string
	err        error
	// signedIn: the user believes the request is made with a session.
	signedIn bool
	// fromProvider: the answer is the emulator's own (a sign-in stopped
	// there), not an app's.
	fromProvider bool
}

// verdict is what the checks made of an answer.
type verdict struct {
	ok        bool
	fault     string // the fault that excused a failure
	violation string // a broken invariant; empty when none
}

// judge checks one answer against the user it belongs to. got is the
// identity the answer carried (nil when it carried none).
func judge(a answer, want identity, got *identity, faults *faultLog) (v verdict) {
	defer func() {
		if v.violation != "" {
			v.violation += fmt.Sprintf(" [%.2fs–%.2fs]", a.start.Sub(faults.t0).Seconds(), a.end.Sub(faults.t0).Seconds())
		}
	}()
	if got != nil {
		if msg := wrongIdentity(want, *got); msg != "" {
			return verdict{violation: fmt.Sprintf("%s: another user's identity: %s", a.op, msg)}
		}
	}
	signedOut := a.status == 401 || (a.status == 302 && (strings.Contains(a.location, "/auth/login") || strings.Contains(a.location, "/.auth/login")))
	switch {
	case a.err == nil && a.status == 200 && got != nil:
		return verdict{ok: true}
	case a.err == nil && a.status == 200:
		return verdict{violation: fmt.Sprintf("%s: 200 without the user's identity: %.200q", a.op, a.body)}
	case a.err == nil && a.signedIn && signedOut:
		// Whatever was failing, a signed-in user is never signed out.
		return verdict{violation: fmt.Sprintf("%s: a signed-in user was signed out (%d to %s)", a.op, a.status, a.location)}
	}
	f := faults.excuse(a.start, a.end)
	switch {
	case f == "":
		if a.err != nil {
			return verdict{violation: fmt.Sprintf("%s: %v with no fault injected", a.op, a.err)}
		}
		return verdict{violation: fmt.Sprintf("%s: %d with no fault injected: %.200q", a.op, a.status, a.body)}
	case a.err != nil, a.fromProvider:
		return verdict{fault: f}
	case a.status == 502 || a.status == 503:
		if !strings.Contains(a.body, "Try again") {
			return verdict{violation: fmt.Sprintf("%s: %d during %s without the retry page: %.200q", a.op, a.status, f, a.body)}
		}
		return verdict{fault: f}
	case a.status >= 500:
		return verdict{violation: fmt.Sprintf("%s: %d during %s (only 502 and 503 may answer a fault): %.200q", a.op, a.status, f, a.body)}
	case a.op == "sign-in" || a.op == "proxy-sign-in":
		// A sign-in that the fault cut short (a code redeemed by an
		// instance that was killed before it answered, say) ends on a
		// page saying so; the user starts again.
		return verdict{fault: f}
	}
	return verdict{violation: fmt.Sprintf("%s: %d during %s: %.200q", a.op, a.status, f, a.body)}
}

// wrongIdentity says how got differs from the user's own identity.
func wrongIdentity(want, got identity) string {
	switch {
	case got.OID != want.OID:
		return fmt.Sprintf("oid %s, want %s", got.OID, want.OID)
	case !strings.EqualFold(got.Username, want.Username):
		return fmt.Sprintf("user %s, want %s", got.Username, want.Username)
	case got.TokenSum != "" && got.TokenOID != want.OID:
		return fmt.Sprintf("token of oid %s, want %s", got.TokenOID, want.OID)
	}
	return ""
}

// owners remembers whose every session cookie and access token was, so
// that one handed to two users is caught.
type owners struct {
	mu   sync.Mutex
	seen map[string]string // "session:" or "token:" + digest -> username
}

// claim records that value belongs to user, and says whose it was when
// it was someone else's.
func (o *owners) claim(what, value, user string) (other string) {
	if value == "" {
		return ""
	}
	k := what + ":" + digest(value)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]string{}
	}
	if prev, ok := o.seen[k]; ok && prev != user {
		return prev
	}
	o.seen[k] = user
	return ""
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:12])
}

// tokenOID reads the oid claim of a JWT without verifying it: the token
// comes from our own emulator, and only whose it is matters here.
func tokenOID(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		OID string `json:"oid"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.OID
}
