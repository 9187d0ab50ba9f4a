// Package entratest is a local emulator of the Microsoft identity platform
// (Microsoft Entra ID, v2.0 endpoints) for tests, demos and offline
// development. Microsoft's own clients (MSAL Go, MSAL Node) work against
// it unchanged.
//
// A test starts one in a line; it listens on 127.0.0.1 with TLS from a CA
// of its own, which its Client trusts:
//
//	srv := entratest.NewServer(t, nil) // closed when the test ends
//	authority := srv.Authority()      // https://127.0.0.1:PORT/<tenant id>
//	httpClient := srv.Client()
//
// MSAL Go needs the emulator's CA and instance discovery turned off (or it
// asks Microsoft about the emulator's host):
//
//	cred, _ := confidential.NewCredFromSecret(entratest.DemoClientSecret)
//	app, _ := confidential.New(srv.Authority(), entratest.DemoClientID, cred,
//		confidential.WithHTTPClient(srv.Client()), confidential.WithInstanceDiscovery(false))
//
// # The world
//
// Default() is the seed's DemoApp (roles DemoApp.Read, DemoApp.Write and
// DemoApp.Admin) in the tenant contoso.onmicrosoft.com, with alice (Admin),
// bob (Write), carol (Read), dave (no role) and erin (Read, in 250 groups:
// the groups overage), all with the password DemoPassword, and a second
// tenant, fabrikam, with frank. Contoso also holds the emulated Azure
// host's system-assigned managed identity, entratest-host
// (SystemAssignedIdentity). LoadConfig reads another world from JSON;
// Server.Update changes it while the server runs.
//
// # Workload identity: federated credentials and managed identities
//
// An App's FederatedCredentials let an external token be its client
// assertion (client_assertion_type jwt-bearer, client_assertion the
// external JWT), as Kubernetes workload identity and CI systems do. An
// assertion that no registered certificate signed (no matching x5t or
// x5t#S256) and whose iss is the Issuer of one of the app's federated
// credentials must match a credential's Issuer, Subject (exactly) and one
// of its Audiences (api://AzureADTokenExchange by default), verify
// (RS256 or PS256) with its PublicKeyPEM, and be within exp and nbf (five
// minutes' skew). A credential whose Issuer is the emulator's own,
// Server.Issuer(tenantID), needs no key: the emulator's signing keys
// verify. Access tokens so obtained carry appidacr/azpacr "2".
//
// Tenant.ManagedIdentities are the identities of an emulated App Service
// host; ManagedIdentityURL and IdentityHeader are the values of
// IDENTITY_ENDPOINT and IDENTITY_HEADER for MSAL Go's
// apps/managedidentity client (with WithHTTPClient(srv.Client()): the
// endpoint is https). A token for resource api://AzureADTokenExchange has
// the tenant's v2.0 issuer and the identity's object id as sub and oid, so
// an app whose federated credential names that issuer and subject accepts
// it: a managed identity as a federated credential. Tokens for other
// resources are app-only access tokens with the identity's
// ApplicationPermissions as roles. They live 24 hours unless
// Config.AccessTokenLifetime is set. MSAL Go caches managed identity tokens
// for the whole process, keyed by identity and resource but not endpoint:
// a test with a fresh emulator gets an earlier emulator's token unless it
// uses another identity or passes managedidentity.WithClaims, which skips
// that cache.
//
// # Conditional Access authentication context
//
// RequireAuthContext("c1") makes Graph answer every delegated token
// without "c1" in its acrs claim with 401 and a claims challenge:
//
//	WWW-Authenticate: Bearer realm="", authorization_uri="https://127.0.0.1:PORT/common/oauth2/authorize",
//		client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims",
//		claims="<base64 of {"access_token":{"acrs":{"essential":true,"value":"c1"}}}>"
//
// A claims parameter asking for access_token.acrs (value or values), at
// authorize (carried with the code) or with an authorization_code or
// refresh_token grant, puts those ids in the access tokens' acrs claim;
// other claims requests (client capabilities, MSAL Node's default claims)
// add nothing. ClearAuthContext lifts the demand.
//
// # Endpoints
//
// Under https://127.0.0.1:PORT/{tenant}, where {tenant} is a tenant id, a
// verified domain, "organizations" or "common":
//
//	GET  /v2.0/.well-known/openid-configuration  discovery ({tenantid} issuer template for organizations and common)
//	GET  /discovery/v2.0/keys                    JWKS
//	GET  /oauth2/v2.0/authorize                  code flow: state, nonce, PKCE, prompt, login_hint, response_mode query, fragment or form_post
//	POST /oauth2/v2.0/token                      authorization_code, refresh_token, client_credentials, on-behalf-of (jwt-bearer); claims (acrs, xms_cc)
//	GET  /oauth2/v2.0/logout                     ends the SSO session; front-channel logout; post_logout_redirect_uri
//
// and at the root: GET /common/discovery/instance (MSAL's instance
// discovery), /oidc/userinfo, and a minimal Microsoft Graph (GraphURL):
// GET /v1.0/me, GET /v1.0/me/transitiveMemberOf, GET /v1.0/me/memberOf,
// POST /v1.0/me/getMemberObjects and /v1.0/users/{id}/getMemberObjects,
// GET /v1.0/applications(appId='{id}') and /v1.0/applications?$filter=appId
// eq '{id}' (the caller's tenant's registrations: web.redirectUris,
// appRoles; the caller needs Application.Read.All, which DemoApp is
// granted), and the managed identity endpoint GET /msi/token (ManagedIdentityURL:
// App Service's protocol, api-version 2019-08-01, resource, optional
// client_id, object_id, principal_id or mi_res_id, header
// X-IDENTITY-HEADER; it answers access_token, expires_on as a string of
// epoch seconds, resource, token_type and client_id).
//
// With Options.BrowserAddr the pages a person's browser visits (authorize,
// sign-in, consent, logout) are also served over plain HTTP on a loopback
// address, and discovery names that address for the authorize and
// end-session endpoints: a browser that does not trust the emulator's CA
// then meets no certificate warning. Tokens, keys and Graph stay on TLS.
// The demo and the entraweb emulator command serve their pages this way.
//
// The sign-in page lists the tenant's test users to pick from and takes a
// username and password; after a wrong password or an unknown username it
// shows the error and keeps the username typed. A cookie keeps the browser signed in, so the next
// sign-in is silent; prompt=login shows the page again, prompt=none without
// a session answers login_required. The cookie also remembers the apps
// signed in during the session (the latest 20).
//
// # Sign-out
//
// The logout endpoint ends the browser's SSO session. Its
// post_logout_redirect_uri is followed only when it is registered (as a
// redirect URI or post-logout redirect URI; http loopback with any port)
// by the app named by client_id or id_token_hint (an ID token the emulator
// signed, even expired) or, when neither is sent (MSAL.js, MSAL Python),
// by an app signed in during the SSO session. Otherwise the "signed out"
// page stays and says why. An App's FrontChannelLogoutURL is loaded in a
// hidden iframe of that page, with ?iss=<issuer of the user's
// tenant>&sid=<session id> appended, for every app signed in during the
// session; the page's CSP allows frames from those origins only, and a
// refresh then takes the browser on to the post_logout_redirect_uri. Every
// ID token of one SSO session carries that session id as its sid claim
// (and session_state in the authorization response); a new sign-in as
// another user starts a new session, signing in again as the same user
// (prompt=login) keeps it.
//
// Options.Logger receives one line at Info level for every refused request
// (sign-in, authorize, token, logout not redirected, instance discovery,
// unknown tenant, Graph, fault knobs) with structured keys such as aadsts,
// client_id and reason; never a secret, code, token or password.
//
// Tokens are RS256 with a kid: v2.0 ID tokens with the platform's claims
// (oid, tid, sub, preferred_username, name, nonce, sid, roles, groups or
// the overage claims), Graph access tokens in the v1.0 shape with Graph's
// audience and a nonce in the header whose hash the signature covers (as
// the platform makes them: only Graph can verify them), access tokens for an app's own API with scp and roles, and
// client_info when asked for. Authorization codes are single use (a replay
// revokes the tokens issued from the code) and live 10 minutes; refresh
// tokens rotate and can be revoked (RevokeUser). Pending sign-ins,
// refresh tokens and SSO sessions are sealed values the server does not
// keep; codes are swept when they expire, so memory stays bounded.
//
// # Faults
//
// FaultNextIDTokens spoils the next ID tokens (expired, not yet valid, bad
// signature, unsigned, HMAC-signed with the public key, unknown kid, wrong
// aud, iss or nonce, missing claims); FaultNextAccessTokens does the same
// to access tokens; RotateKeys and RetireOldKeys rotate
// the signing key; SetLatency, FailNext and SetOutage make endpoints slow,
// failing or unreachable; FailNextSignIn ends the next sign-in with an
// AADSTS error; RequireAuthContext makes Graph send claims challenges;
// SetClockSkew moves the emulator's clock (tokens and the Date header);
// Calls counts requests per Endpoint.
//
// # AADSTS codes
//
// The emulator emits these codes, with the platform's OAuth error:
//
//	16000    interaction_required   prompt=none with a login_hint of another user
//	50011    (error page)           redirect URI not registered
//	50013    invalid_grant          on-behalf-of with an assertion that is invalid, expired, for another API or app-only
//	50020    (error page)           user of another tenant and a single-tenant app
//	50034    (sign-in page)         unknown username; invalid_grant at the token endpoint
//	50049    invalid_instance       instance discovery for a host other than the emulator's
//	50057    (error page)           account disabled
//	50058    login_required         prompt=none without a session
//	50059    invalid_request        client credentials on organizations or common
//	50076    interaction_required   (through FailNextSignIn) MFA required; on-behalf-of when claims ask for an acrs the user's token lacks (with the claims)
//	50105    (error page)           assignment required and the user holds no app role
//	50126    (sign-in page)         wrong password
//	50148    invalid_grant          PKCE code_verifier missing or wrong
//	50173    invalid_grant          refresh token revoked (RevokeUser, or a replayed code)
//	50194    (error page)           organizations/common with a single-tenant app
//	53003    access_denied          (only through FailNextSignIn) blocked by Conditional Access
//	54005    invalid_grant          authorization code already redeemed
//	65001    consent_required       missing consent (authorize with prompt=none; invalid_grant + suberror consent_required at the token endpoint)
//	65004    access_denied          the user declined consent
//	70000    invalid_grant          code or refresh token of another client, redirect_uri mismatch
//	70003    unsupported_grant_type a grant type the emulator does not implement
//	70008    invalid_grant          code or refresh token expired
//	70011    invalid_scope          malformed scope, several resources, .default mixed with others
//	70021    invalid_request        federated assertion: no credential matches its iss, sub and aud
//	90002    invalid_tenant         unknown tenant
//	90033    temporarily_unavailable fault knobs, too many outstanding codes (not a platform code)
//	500011   invalid_resource       unknown resource in a scope
//	500113   (error page)           the app has no redirect URI
//	501491   invalid_request        malformed code_challenge
//	650053   invalid_client         scope not exposed by the resource
//	700016   unauthorized_client    unknown client id
//	700021   invalid_client         client assertion iss/sub is not the client id
//	700024   invalid_client         client assertion (or federated assertion) expired or not yet valid
//	700027   invalid_client         client assertion: unknown certificate, bad signature or audience; federated assertion: bad signature
//	700054   unsupported_response_type  a response_type other than code
//	900144   invalid_request        a required parameter is missing
//	1002012  invalid_scope          client credentials without /.default
//	7000215  invalid_client         wrong client secret
//	7000218  invalid_client         no client credential from a confidential client
//	7000222  invalid_client         expired client secret
//	9002313  invalid_request        malformed request
//
// FailNextSignIn can send any code of the platform to an app; one not
// listed here arrives as access_denied.
package entratest
