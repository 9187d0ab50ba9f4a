// Package entraweb adds Microsoft Entra ID (formerly Azure AD) sign-in to a
// Go web app. It serves the sign-in endpoints itself, guards handlers with
// middleware, keeps sessions on the server and gets access tokens for the
// signed-in user (AccessToken) or for the app itself (AppToken), so the app
// never writes an authentication endpoint.
//
// # Quick start
//
//	ctx := context.Background()
//	cfg, err := entraweb.LoadConfig() // appsettings.json and AZURE_* variables
//	if err != nil {
//		log.Fatal(err)
//	}
//	auth, err := entraweb.New(ctx, cfg) // checks everything, reads the provider's metadata
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	mux.Handle("/auth/", auth.Routes())
//	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		u := entraweb.UserFrom(r.Context())
//		fmt.Fprintf(w, "hello %s", u.Name) // escape it in HTML
//	})))
//	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
//
// The app registration needs the redirect URI http://127.0.0.1:8080/auth/callback
// (in production, the app's https URL followed by /auth/callback) and a client
// secret. examples/basic is this program with a graceful shutdown, and
// examples/frameworks shows it with chi, gin and echo.
//
// # Routes
//
// Routes serves, under the route prefix (Entraweb:RoutePrefix, "/auth/" by
// default):
//
//	GET  /auth/login?return=/path  starts a sign-in (state, nonce and PKCE) and comes back to /path
//	GET  /auth/callback            where Entra ID sends the browser back (AzureAd:CallbackPath)
//	GET  /auth/logout              a page that asks for confirmation
//	POST /auth/logout              signs out here and at Entra ID (needs the page's CSRF token)
//	GET  /auth/me                  the signed-in user as JSON, or 401
//	GET  /auth/frontchannel-logout?sid=...  ends this app's sessions of an Entra session that signed out (register it as the front-channel logout URL)
//
// Return paths are relative paths of the app only; anything else returns
// to "/".
//
// # Middleware and roles
//
// RequireLogin passes signed-in users to the next handler with the user in
// the request's context (UserFrom). Without a session, a page load is
// redirected to sign in and comes back to the same URL, while an API call,
// a fetch or a non-GET request gets 401 JSON holding a login_url, since a
// script cannot follow a sign-in page. RequireRole also needs an app role;
// Role is the same as middleware, func(http.Handler) http.Handler, for
// routers that chain middleware:
//
//	adminPage := func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "for admins") }
//	newOrder := func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "order taken") }
//	mux.Handle("/admin/", auth.RequireRole("DemoApp.Admin", http.HandlerFunc(adminPage)))
//	router.With(auth.Role("DemoApp.Write")).Post("/orders", newOrder) // chi
//
// App roles come from the ID token's roles claim and are expanded through a
// hierarchy. By default, for any prefix P, P.Admin implies P.Write, which
// implies P.Read, so RequireRole("DemoApp.Read", h) also admits a
// DemoApp.Admin. Entraweb:Roles replaces that with an explicit list, lowest
// first. Entraweb:MinimumRole is needed to use the app at all. A user
// without the role gets a 403 page that names it and who grants it
// (Entraweb:AccessContact). User.Groups holds the user's group ids: from
// the token, or, for a user in more groups than a token can carry, read
// from Microsoft Graph once at sign-in (Entraweb:GroupsScope). RequireGroup
// admits the members of a group either way.
//
// # Access tokens
//
// The tokens of a sign-in stay on the server, in the user's own partition
// of the store, encrypted. AccessToken gets a token of the signed-in user
// for an API, such as "User.Read" for Microsoft Graph: a cached one costs
// a store read, an expiring one is refreshed silently by MSAL Go, once for
// any number of concurrent requests of that user. When only the user can
// fix the failure (consent for a new scope, a revoked grant), its error
// matches ErrInteractionRequired, and Challenge sends the user through a
// new sign-in that asks for what is missing and back to the same page.
//
// Client puts this in an *http.Client: each request it sends carries a
// current token of the user, and a resource's 401 claims challenge
// (Conditional Access, continuous access evaluation) is an error that
// Challenge answers with a sign-in carrying those claims (once: the same
// challenge again within a minute of that sign-in gets a 403 page, not
// another round through Entra ID). The token goes
// only to https (or loopback) URLs, never across a redirect to another
// host:
//
//	req, _ := http.NewRequestWithContext(r.Context(), "GET", "https://graph.microsoft.com/v1.0/me/messages", nil)
//	resp, err := auth.Client(r, "Mail.Read").Do(req)
//	if auth.Challenge(w, r, err) {
//		return
//	}
//	defer resp.Body.Close()
//
// AppToken and AppClient do the same with the app's own tokens (client
// credentials). Sign-out deletes the user's tokens with the session.
//
// # JSON APIs
//
// RequireScope, RequireAppRole, RequireScopeOrAppRole and
// RequireAccessToken protect an API with the Entra access tokens its
// clients send as "Authorization: Bearer", validated with the keys and
// issuer rules of sign-in; the caller is in UserFrom (User.IsApp for
// app-only tokens), and refusals are RFC 6750 challenges with JSON
// bodies. OnBehalfOf gets a token of another API for the calling user,
// and APIChallenge answers its errors in a form the client can act on:
//
//	mux.Handle("/api/me", auth.RequireScope("access_as_user", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		tok, err := auth.OnBehalfOf(r, "User.Read")
//		if auth.APIChallenge(w, r, err) {
//			return
//		}
//		// call Graph with tok
//	})))
//
// # Metrics and readiness
//
// Config.Observe is told of sign-ins, failed sign-ins (by reason and
// AADSTS code), token refreshes with their latency, refusals, and every
// session store call with its latency: wire it to Prometheus or
// OpenTelemetry in a few lines (examples/frameworks/observe); entraweb
// links neither. Check runs the checks of `entraweb doctor` on a
// configuration, and Auth.Check on a running app's own store, for a
// readiness endpoint.
//
// # Sessions
//
// The browser holds only a cookie with a random session id. It is HttpOnly
// and SameSite=Lax, and on https it is also Secure with the __Host- prefix.
// The user, and their tokens, stay on the server in a session.Store,
// encrypted with AES-256-GCM. A session ends after Entraweb:Session:IdleTimeout
// without use (1h) or Entraweb:Session:Lifetime after sign-in (12h).
//
// The store is chosen by Entraweb:Session:Store:
//
//   - "memory": the default. Sessions end when the process stops, and the
//     encryption key is random unless Entraweb:Session:Key is set.
//   - "bolt": a file (Entraweb:Session:Path, required), for one process
//     that keeps sessions across restarts. Add
//     import _ "github.com/entraweb/entraweb/session/boltstore". Linking
//     it in changes no default: configuration must name the store. Set
//     Session:Key (a base64 32-byte key: openssl rand -base64 32). Without
//     one, a key is generated into a file beside the database, with a
//     warning.
//   - "redis": Redis or Valkey (Entraweb:Session:RedisUrl, or the
//     ENTRAWEB_REDIS_URL environment variable, which selects this store),
//     for several instances behind a load balancer without sticky
//     sessions. Add import _ "github.com/entraweb/entraweb/session/redisstore".
//     Session:Key is required, the same on every instance. When Redis is
//     down, requests that need it get a 503 (ErrStoreUnavailable), never
//     a sign-out. Package redisstore documents the URL.
//
// Config.Store takes any session.Store built in code; Session:Key is
// required then.
//
// # Configuration
//
// Config is a plain struct; New validates it and reports every problem at
// once, each with its key name, such as "AzureAd:ClientId: missing". The
// AzureAd section uses Microsoft.Identity.Web's names, so an ASP.NET Core
// appsettings.json works as it is. LoadConfig reads, each source overriding
// the ones before it:
//
//  1. appsettings.json in the working directory;
//  2. appsettings.{Environment}.json, with the name taken from ENTRAWEB_ENVIRONMENT,
//     ASPNETCORE_ENVIRONMENT or DOTNET_ENVIRONMENT;
//  3. environment variables spelled the .NET way: AzureAd__ClientId,
//     Entraweb__Session__Store, Entraweb__Roles__0;
//  4. the Azure SDK's variables: AZURE_TENANT_ID, AZURE_CLIENT_ID,
//     AZURE_AUTHORITY_HOST and a credential, AZURE_CLIENT_SECRET,
//     AZURE_CLIENT_CERTIFICATE_PATH (with AZURE_CLIENT_CERTIFICATE_PASSWORD)
//     or AZURE_FEDERATED_TOKEN_FILE, which replaces any credential of the
//     files.
//
// The app authenticates to Entra ID with exactly one credential: a client
// secret, a certificate, a federated token file (workload identity) or a
// managed identity, set in the files through Microsoft.Identity.Web's
// ClientCredentials list.
//
// Missing files are fine. An unknown key in the AzureAd or Entraweb
// sections is an error, so a typo is not silently ignored. Secrets have the
// type Secret, which never prints.
//
// The default HTTP client trusts the system's roots; on Linux and other
// Unix systems except macOS, SSL_CERT_FILE replaces them, which is how an
// app trusts the CA of the local emulator (package entratest, or the
// command entraweb emulator). Config.HTTPClient replaces the client; the
// clients of Client and AppClient send through its transport too.
//
// # Behind a proxy
//
// entraweb builds redirect URIs and cookie attributes from the URL the
// browser used. Behind a reverse proxy or load balancer, either set
// Entraweb:PublicBaseUrl (such as https://app.example.com), which wins over
// everything, or list the proxy's addresses in Entraweb:TrustedProxies.
// X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Prefix and Forwarded
// are believed only from those addresses, because any client can send them.
package entraweb
