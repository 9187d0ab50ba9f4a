package entraweb

import (
	"errors"
	"strconv"
	"strings"

	"github.com/entraweb/entraweb/internal/oidc"
	"github.com/entraweb/entraweb/internal/tokencache"
)

type aadstsHelp struct{ meaning, fix string }

// aadstsTable gives the codes users meet most a meaning and a fix.
var aadstsTable = map[int]aadstsHelp{
	50011:   {"The redirect URI sent in the sign-in request is not registered on the app.", "Add the exact redirect URI (scheme, host, port and path) under Authentication in the app registration."},
	500113:  {"The app registration has no redirect URI.", "Add a Web redirect URI under Authentication in the app registration."},
	50105:   {"The user is not assigned to the app, which requires assignment.", "Assign the user, or a group they belong to, an app role in Enterprise applications > Users and groups."},
	700016:  {"The application was not found in the tenant.", "Check ClientId and TenantId; for users of another tenant, make the app multi-tenant and have that tenant consent."},
	90002:   {"The tenant was not found.", "Check TenantId and the cloud (Instance): a tenant of a national cloud is not found on the public one."},
	7000215: {"The client secret is wrong.", "Use the secret's Value, not its Secret ID; create a new secret if the value was lost."},
	7000222: {"The client secret has expired.", "Create a new client secret in the app registration and update the configuration."},
	7000218: {"The request carried no client secret or certificate.", "Configure a client credential (ClientSecret or a certificate)."},
	700027:  {"The client assertion's signature is invalid, or its certificate is not registered.", "Upload the certificate's public part to the app registration."},
	700024:  {"The client assertion is outside its valid time range.", "Fix this machine's clock."},
	65001:   {"Consent is missing for the permissions asked for.", "Sign in again to consent, or have an administrator grant consent for the tenant."},
	65004:   {"The user declined to consent.", "Nothing to fix: sign in again and accept the permissions."},
	50058:   {"A silent sign-in found no session at Entra ID.", "Sign in interactively."},
	50076:   {"Multi-factor authentication is required.", "Sign in interactively."},
	50079:   {"Multi-factor authentication registration is required.", "Sign in interactively and register a method."},
	53003:   {"A Conditional Access policy blocked the sign-in.", "See the sign-in logs of the tenant for the policy that applied."},
	50020:   {"The user's account is from another tenant and is not in this one.", "Invite the user as a guest, or make the app multi-tenant."},
	50034:   {"The user account does not exist in this directory.", "Check the username."},
	50126:   {"The username or password is wrong.", "Check the account's credentials."},
	50057:   {"The user account is disabled.", "Ask the tenant administrator to enable it."},
	50053:   {"The account is locked.", "Wait, or ask the tenant administrator to unlock it."},
	70008:   {"The authorization code or refresh token has expired.", "Sign in again."},
	700082:  {"The refresh token expired after a period of inactivity.", "Sign in again."},
	50173:   {"The grant was revoked (a password change or an administrator's action).", "Sign in again."},
	54005:   {"The authorization code was already redeemed.", "Start a new sign-in; a code is never retried."},
	50148:   {"The PKCE code_verifier does not match the code_challenge.", "Start a new sign-in."},
	501481:  {"The PKCE code_verifier does not match the code_challenge.", "Start a new sign-in."},
	9002313: {"The request was malformed.", "Check the request parameters."},
	900144:  {"A required parameter is missing.", "The message names it."},
	70011:   {"A requested scope is invalid.", "Ask for the scopes of one resource per request and check their names."},
	50194:   {"The app is not multi-tenant but a multi-tenant authority was used.", "Set TenantId to the tenant id, or make the app multi-tenant."},
	70000:   {"The grant is invalid: issued to another client, or the redirect URI differs.", "Start a new sign-in."},
}

func aadstsMeaning(code int) aadstsHelp {
	if h, ok := aadstsTable[code]; ok {
		return h
	}
	return aadstsHelp{"Entra ID refused the request.", "Look the code up at https://login.microsoftonline.com/error?code=" + strconv.Itoa(code) + "."}
}

// providerError turns the provider's answers found in err into
// *AADSTSError (the whole error becomes the AADSTSError, with nothing of
// the raw body), and a declined scope into one that names the scopes.
// Anything else is returned as it is.
func providerError(err error, scopes ...string) error {
	var er *oidc.ErrorResponse
	switch {
	case errors.As(err, &er):
		return &AADSTSError{Code: er.Code(), Err: er.Err, SubError: er.SubError, Description: er.Description, Status: er.Status, Claims: er.Claims}
	case errors.Is(err, tokencache.ErrDeclinedScopes):
		return &AADSTSError{Err: "declined_scopes", Description: "Entra ID did not grant every scope asked for (" + strings.Join(scopes, " ") + "). Check Entraweb:Scopes and the app's API permissions."}
	}
	return err
}
