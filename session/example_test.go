package session_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/memstore"
)

// The life of a session: sign-in, a later request, sign-out.
func Example() {
	ctx := context.Background()
	// In production the key comes from a secret store: 32 random bytes.
	box, err := session.NewBox(bytes.Repeat([]byte{7}, session.KeySize))
	if err != nil {
		log.Fatal(err)
	}
	m := &session.Manager{Store: memstore.New(), Box: box}
	if err := m.Validate(); err != nil {
		log.Fatal(err)
	}

	// Sign-in, once the identity provider has vouched for the user.
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "https://app.example/auth/callback", nil)
	if _, err := m.Start(ctx, w, r, map[string]string{"name": "Ada Lovelace"}); err != nil {
		log.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	fmt.Println(cookie.Name, len(cookie.Value), "characters")

	// A later request from the same browser.
	r = httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	r.AddCookie(cookie)
	s, err := m.Load(ctx, r)
	if err != nil {
		log.Fatal(err) // the store failed: answer 503, do not sign the user out
	}
	if err := m.Touch(ctx, s); err != nil {
		log.Fatal(err)
	}
	fmt.Println("hello,", s.Values["name"])

	// Sign-out.
	if err := m.Destroy(ctx, httptest.NewRecorder(), r, s); err != nil {
		log.Fatal(err)
	}
	s, _ = m.Load(ctx, r)
	fmt.Println("signed in after sign-out:", s != nil)
	// Output:
	// __Host-entraweb_session 43 characters
	// hello, Ada Lovelace
	// signed in after sign-out: false
}
