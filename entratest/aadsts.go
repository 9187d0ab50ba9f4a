package entratest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// aadCodes holds every AADSTS code the emulator emits, with the OAuth error
// it comes with and the platform's message. The package doc lists them.
var aadCodes = map[int]struct{ oauth, message string }{
	16000:   {"interaction_required", "The user account signed in does not match the login_hint; interaction is needed."},
	50011:   {"invalid_request", "The redirect URI specified in the request does not match the redirect URIs configured for the application."},
	50013:   {"invalid_grant", "Assertion failed signature validation."},
	50020:   {"invalid_request", "User account from identity provider does not exist in tenant and cannot access the application in that tenant."},
	50034:   {"invalid_request", "The user account does not exist in this directory."},
	50049:   {"invalid_instance", "Unknown or invalid instance."},
	50057:   {"invalid_request", "The user account is disabled."},
	50058:   {"login_required", "A silent sign-in request was sent but no user is signed in."},
	50059:   {"invalid_request", "No tenant-identifying information found in either the request or implied by any provided credentials."},
	50076:   {"interaction_required", "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource."},
	50105:   {"access_denied", "The signed in user is not assigned to a role for the application."},
	50126:   {"invalid_grant", "Error validating credentials due to invalid username or password."},
	50148:   {"invalid_grant", "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE."},
	50173:   {"invalid_grant", "The provided grant has expired due to it being revoked; a fresh auth token is needed."},
	50194:   {"invalid_request", "Application is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant."},
	53003:   {"access_denied", "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
	54005:   {"invalid_grant", "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."},
	65001:   {"invalid_grant", "The user or administrator has not consented to use the application."},
	65004:   {"access_denied", "User declined to consent to access the app."},
	70000:   {"invalid_grant", "Provided grant is invalid or malformed."},
	70003:   {"unsupported_grant_type", "The app requested an unsupported grant type."},
	70008:   {"invalid_grant", "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."},
	70011:   {"invalid_scope", "The provided value for the input parameter 'scope' is not valid."},
	70021:   {"invalid_request", "No matching federated identity record found for presented assertion."},
	90002:   {"invalid_tenant", "Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."},
	500011:  {"invalid_resource", "The resource principal named in the scope was not found in the tenant."},
	500113:  {"invalid_request", "No reply address is registered for the application."},
	501491:  {"invalid_request", "Invalid size or format of the code_challenge parameter."},
	650053:  {"invalid_client", "The application asked for a scope that doesn't exist on the resource."},
	700016:  {"unauthorized_client", "Application was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."},
	700021:  {"invalid_client", "Client assertion application identifier doesn't match 'client_id' parameter."},
	700024:  {"invalid_client", "Client assertion is not within its valid time range."},
	700027:  {"invalid_client", "Client assertion failed signature validation."},
	700054:  {"unsupported_response_type", "The requested response_type is not enabled for the application."},
	900144:  {"invalid_request", "The request body must contain the following parameter."},
	1002012: {"invalid_scope", "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."},
	7000215: {"invalid_client", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."},
	7000218: {"invalid_client", "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."},
	7000222: {"invalid_client", "The provided client secret keys are expired."},
	9002313: {"invalid_request", "Invalid request. Request is malformed or invalid."},
	// Not an AADSTS code of the platform: what the emulator answers while a
	// fault knob makes it unavailable.
	90033: {"temporarily_unavailable", "A transient error has occurred. Please try again."},
}

// aadError is an error of the platform, shaped as the token endpoint and
// the authorize redirect carry it.
type aadError struct {
	status   int
	code     int
	oauth    string // OAuth "error"; from the table when empty
	detail   string // appended to the table's message
	suberror string
	claims   string
}

func newErr(status, code int, detail string) *aadError {
	return &aadError{status: status, code: code, detail: detail}
}

func (e *aadError) Error() string { return e.description() }

func (e *aadError) oauthError() string {
	if e.oauth != "" {
		return e.oauth
	}
	if c, ok := aadCodes[e.code]; ok {
		return c.oauth
	}
	return "access_denied"
}

// reason is the error in a few words for the log: its detail, or the
// table's message when it has none. Details name parameters, clients and
// users, never a secret, code or token.
func (e *aadError) reason() string {
	if e.detail != "" {
		return e.detail
	}
	if c, ok := aadCodes[e.code]; ok {
		return c.message
	}
	return "refused"
}

func (e *aadError) description() string {
	msg := aadCodes[e.code].message
	if msg == "" {
		msg = "The sign-in was refused."
	}
	if e.detail != "" {
		msg += " " + e.detail
	}
	return fmt.Sprintf("AADSTS%d: %s", e.code, msg)
}

func newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// traced adds the trailer the platform appends to every description.
func traced(desc string, trace, corr string, now time.Time) string {
	return fmt.Sprintf("%s Trace ID: %s Correlation ID: %s Timestamp: %s", desc, trace, corr, now.UTC().Format("2006-01-02 15:04:05Z"))
}

// writeJSONError answers with the token endpoint's error body.
func (s *Server) writeJSONError(w http.ResponseWriter, r *http.Request, e *aadError) {
	now := s.now()
	trace, corr := newGUID(), r.Header.Get("client-request-id")
	if corr == "" {
		// MSAL.js and MSAL Node send it in the query, not as a header.
		corr = r.URL.Query().Get("client-request-id")
	}
	if corr == "" || !IsGUID(corr) {
		corr = newGUID()
	}
	body := map[string]any{
		"error":             e.oauthError(),
		"error_description": traced(e.description(), trace, corr, now),
		"error_codes":       []int{e.code},
		"timestamp":         now.UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         s.URL + "/error?code=" + fmt.Sprint(e.code),
	}
	if e.suberror != "" {
		body["suberror"] = e.suberror
	}
	if e.claims != "" {
		body["claims"] = e.claims
	}
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
