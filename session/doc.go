// Package session keeps signed-in users' state on the server. The browser
// holds only a cookie with a 256-bit random id; everything else lives in a
// Store, encrypted and authenticated by a Box.
//
// # Security
//
//   - The id is fresh at every sign-in (Manager.Start), and the session
//     named by any cookie the browser already had is deleted, so an id
//     planted before sign-in never becomes a signed-in session.
//   - The cookie is HttpOnly and SameSite=Lax with Path=/. On https it is
//     also Secure and named with the "__Host-" prefix, which browsers
//     accept only from the host itself over https; Manager.Load reads only
//     the name that matches the request's security.
//   - Cookie values that are not exactly 43 base64url characters are
//     rejected before the store is consulted.
//   - The store key is "s:" + base64url(SHA-256(id)), not the id, so a
//     copy of the store yields no usable cookie. The record is sealed with
//     AES-256-GCM with the store key as additional data, so records cannot
//     be read, forged, or moved from one key to another.
//   - A session ends after IdleTimeout without use or Lifetime after
//     sign-in, whichever is first; Manager.Destroy ends it at sign-out.
//   - A store failure is an error, never "signed out": Load returns
//     (nil, nil) only when there really is no valid session.
//
// # Stores
//
// A Store is three TTL-based methods over opaque bytes, so one store can
// also hold other per-user state under its own keys. The memstore package
// is for tests and single processes that may lose sessions on restart (it
// holds a bounded number, evicting the least recently written first),
// boltstore keeps them in a file for a single process, redisstore in
// Redis for several instances of an app, and the storetest
// package is the conformance suite every store passes.
//
// # Example
//
// The smallest complete use, in an application's handlers:
//
//	box, err := session.NewBox(key) // 32 bytes from your secret store
//	if err != nil { ... }
//	store, err := boltstore.Open("sessions.db")
//	if err != nil { ... }
//	defer store.Close()
//	sessions := &session.Manager{Store: store, Box: box}
//	if err := sessions.Validate(); err != nil { ... }
//
//	// At sign-in, once the identity provider has vouched for the user:
//	_, err = sessions.Start(r.Context(), w, r, map[string]string{"name": name})
//
//	// On each request:
//	s, err := sessions.Load(r.Context(), r)
//	switch {
//	case err != nil: // the store is down: 503, not a sign-in page
//	case s == nil: // not signed in
//	default:
//		err = sessions.Touch(r.Context(), s)
//	}
//
//	// At sign-out:
//	err = sessions.Destroy(r.Context(), w, r, s)
package session
