// Package proxy puts Microsoft Entra ID sign-in, with app roles, in front
// of a web app written in anything (Dash, Streamlit, Flask, Grafana): an
// http.Handler on httputil.ReverseProxy that speaks App Service's
// authentication ("Easy Auth") contract, so an app written for App
// Service runs unchanged behind it, anywhere. The command
// "entraweb proxy" serves it.
//
//	cfg, err := proxy.LoadConfig() // appsettings.json, AZURE_*, and its "Proxy" section
//	if err != nil {
//		log.Fatal(err)
//	}
//	cfg.Upstream = "http://127.0.0.1:8050"
//	cfg.Rules = []proxy.Rule{{Path: "/admin", Role: "DemoApp.Admin"}}
//	cfg.PublicPaths = []string{"/assets/"}
//	h, err := proxy.New(context.Background(), cfg)
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer h.Close()
//	srv := &http.Server{Addr: "127.0.0.1:4180", Handler: h, ReadHeaderTimeout: 10 * time.Second}
//	log.Fatal(srv.ListenAndServe())
//
// Register https://<public host>/.auth/login/aad/callback (CallbackPath)
// and https://<public host>/.auth/logout/done (SignedOutPath) as Web
// redirect URIs of the app registration.
//
// # Endpoints
//
// Under /.auth/, which never reaches the upstream, as App Service lays
// them out:
//
//	GET  /.auth/login/aad?post_login_redirect_uri=/path   sign in, then back to /path
//	GET  /.auth/login/aad/callback                        the redirect URI
//	GET  /.auth/logout?post_logout_redirect_uri=/path     a confirmation page; its POST signs out here and at Entra ID
//	GET  /.auth/logout/done                               where the sign-out ends, then on to /path
//	GET  /.auth/me                                        [{"provider_name":"aad","user_id":...,"user_claims":[{"typ","val"}],"expires_on":...}]
//	GET  /.auth/refresh                                   refreshes the access token (AccessTokenScopes)
//	ANY  /.auth/verify                                    forward auth for nginx, Caddy, Traefik: 200, 401 or 403, never a redirect
//	GET  /.auth/keys                                      the public keys of the identity assertion (JWKS)
//
// Redirect targets are paths of this app, or absolute URLs on its own
// origin; anything else goes to "/". /healthz answers while the process
// runs; /readyz runs entraweb.Check's quick checks and answers 503 when
// the provider's metadata or the session store cannot be read, with each
// check's name and status (their messages go to the log, not to whoever
// can reach the probe; a ready report is kept 10 seconds, concurrent
// probes share one check). Those two paths are the proxy's too.
//
// # Who may pass
//
// Every path but the public ones needs a signed-in user. A page load
// without a session is sent to sign in and comes back; a fetch, an XHR or
// an API call gets 401 JSON with a login_url instead. Entra.MinimumRole is
// needed for the whole app, and each Rule adds a role (met through the
// hierarchy) or a group for the paths under it; a user without it gets a
// 403 page naming it. Rules match the path cleaned as generously as any
// server might read it, so /ADMIN, //admin, /x/../admin and /admin;x all
// meet the rule for /admin; public paths match only clean paths.
//
// On ApiPaths, a program may send an Entra access token for this app
// (Authorization: Bearer) instead of a cookie: a daemon with client
// credentials, another service, a single-page app. entraweb validates it
// as RequireScopeOrAppRole does (ApiScope for users' tokens, ApiAppRole
// for apps'), MinimumRole and the path's rules apply to the caller, and
// the token goes on to the upstream in Authorization with the caller's
// identity in the headers below (the assertion's idtyp is "app" for an
// application). Refusals are 401 or 403 JSON with RFC 6750's
// WWW-Authenticate.
//
// # What the upstream receives
//
// The user's identity in App Service's headers: X-MS-CLIENT-PRINCIPAL
// (base64 JSON: auth_typ "aad", the claims with App Service's claim
// types, roles expanded through the hierarchy, groups unless they would
// not fit one header line, when a "hasgroups" claim says so instead, as
// Entra ID does in a token), X-MS-CLIENT-PRINCIPAL-ID (object id), -NAME
// (username) and -IDP ("aad"); with AccessTokenScopes,
// X-MS-TOKEN-AAD-ACCESS-TOKEN and -EXPIRES-ON. With HeadersOAuth2Proxy,
// also oauth2-proxy's X-Forwarded-User (object id), -Email,
// -Preferred-Username, -Groups and -Roles.
//
// # The signed identity assertion
//
// A header can be forged by anyone who reaches the upstream without
// passing the proxy (a port left open, a second route). So every request
// of a signed-in user also carries X-Entraweb-Assertion: a JWT signed
// with ES256 that the upstream checks with the proxy's public keys at
// /.auth/keys. Its claims: iss, the proxy's public origin; aud, the
// upstream's origin (Upstream without its path); iat, nbf and an exp 5
// minutes on; jti; sub and oid, the object id; tid; name;
// preferred_username; roles, expanded through the hierarchy; groups. The
// proxy signs one per session and sends it again until a minute of its
// life is left.
//
// The command keeps the signing key in its state directory
// (assertion-key.pem), so keys cached by upstreams stay valid across
// restarts; set AssertionKeyFile to share one key among several proxies.
// NoAssertion turns the header and /.auth/keys off.
//
// A Go upstream verifies with AssertionVerifier:
//
//	v := proxy.NewAssertionVerifier("http://127.0.0.1:4180/.auth/keys", "http://127.0.0.1:8050", nil)
//	v.Issuer = "https://app.example.com"
//	a, err := v.Verify(r)
//	if err != nil {
//		http.Error(w, "forbidden", http.StatusForbidden)
//		return
//	}
//	fmt.Fprintf(w, "hello %s", a.PreferredUsername)
//
// A Python upstream uses PyJWT (Debian: python3-jwt), as
// testdata/verify_assertion.py does (a test runs it):
//
//	jwks = jwt.PyJWKClient("http://127.0.0.1:4180/.auth/keys")
//	token = request.headers["X-Entraweb-Assertion"]
//	claims = jwt.decode(token, jwks.get_signing_key_from_jwt(token).key,
//	                    algorithms=["ES256"], audience="http://127.0.0.1:8050",
//	                    issuer="https://app.example.com")
//
// Name the algorithm, as both do: never take it from the token.
//
// Whatever a client sends under those names is removed first (any case,
// with "_" for "-"), and so are X-Auth-Request-*, X-MS-TOKEN-* and
// X-Entraweb-* (the assertion among them). X-Forwarded-*, Forwarded and X-Original-* are kept only
// from Entra.TrustedProxies; the proxy sets X-Forwarded-For, -Host and
// -Proto itself. entraweb's own cookies are not passed on.
//
// WebSockets pass (other protocol switches, h2c above all, are refused),
// if opened from the app's own origin; server-sent events and other
// streamed responses flow unbuffered. When the upstream does not answer,
// the browser gets a 502 (or 504) page, scripts get JSON.
package proxy
