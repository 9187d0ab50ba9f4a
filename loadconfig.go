package entraweb

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/entraweb/entraweb/internal/appsettings"
)

// LoadConfig reads the configuration the way an ASP.NET Core app does:
// appsettings.json in the working directory, then
// appsettings.{Environment}.json over it (Environment from
// ENTRAWEB_ENVIRONMENT, ASPNETCORE_ENVIRONMENT or DOTNET_ENVIRONMENT), then
// the environment over both: AZURE_TENANT_ID, AZURE_CLIENT_ID,
// AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST, ENTRAWEB_REDIS_URL (which
// also selects the redis session store), and any key spelled .NET's way
// (AzureAd__ClientId, Entraweb__Session__Store). Missing files are fine;
// unknown keys in the AzureAd and Entraweb sections and malformed values
// are errors, all reported at once with the key's name.
func LoadConfig() (Config, error) {
	return loadConfig(os.DirFS("."), os.Environ())
}

// LoadConfigDir is LoadConfig with the files read from dir.
func LoadConfigDir(dir string) (Config, error) {
	return loadConfig(os.DirFS(dir), os.Environ())
}

func loadConfig(fsys fs.FS, environ []string) (Config, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	root, err := appsettings.Read(fsys, env, "AzureAd", "Entraweb")
	errs := []error{err}
	// The Azure SDK's variables win over files and .NET-style variables.
	for envName, path := range map[string][]string{
		"AZURE_TENANT_ID":      {"AzureAd", "TenantId"},
		"AZURE_CLIENT_ID":      {"AzureAd", "ClientId"},
		"AZURE_AUTHORITY_HOST": {"AzureAd", "Instance"},
	} {
		if v, ok := env[envName]; ok && v != "" {
			appsettings.SetPath(root, path, v)
		}
	}
	cfg, err := decodeSettings(root, env)
	errs = append(errs, err)
	cfg.Environment, _ = appsettings.Environment(env)
	if v := env["ENTRAWEB_REDIS_URL"]; v != "" {
		cfg.Session.Store, cfg.Session.RedisURL = "redis", Secret(v)
	}
	// A credential in the environment replaces those of the files, with
	// the Azure SDK's order: secret, then certificate, then federated token.
	switch {
	case env["AZURE_CLIENT_SECRET"] != "":
		clearCredentials(&cfg)
		cfg.ClientSecret = Secret(env["AZURE_CLIENT_SECRET"])
	case env["AZURE_CLIENT_CERTIFICATE_PATH"] != "":
		clearCredentials(&cfg)
		cfg.ClientCertificate = CertificateSource{Path: env["AZURE_CLIENT_CERTIFICATE_PATH"], Password: Secret(env["AZURE_CLIENT_CERTIFICATE_PASSWORD"])}
		switch strings.ToLower(env["AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"]) {
		case "1", "true":
			cfg.ClientCertificate.SendX5C = true
		}
	case env["AZURE_FEDERATED_TOKEN_FILE"] != "":
		clearCredentials(&cfg)
		cfg.FederatedTokenFile = env["AZURE_FEDERATED_TOKEN_FILE"]
	}
	return cfg, errors.Join(errs...)
}

func clearCredentials(c *Config) {
	c.ClientSecret, c.ClientCertificate, c.FederatedTokenFile, c.ManagedIdentity = "", CertificateSource{}, "", nil
}

// credentialEntry reads one entry of Microsoft.Identity.Web's
// ClientCredentials or ClientCertificates (certificatesOnly).
func credentialEntry(d *appsettings.Decoder, env map[string]string, key string, v any, cfg *Config, certificatesOnly bool) {
	var src, path, password, b64, assertionPath, miClientID string
	var secret Secret
	var skip bool
	d.Object(key, v, map[string]appsettings.Field{
		"SourceType":                  d.Str(&src),
		"ClientSecret":                d.Str((*string)(&secret)),
		"CertificateDiskPath":         d.Str(&path),
		"CertificatePassword":         d.Str(&password),
		"Base64EncodedValue":          d.Str(&b64),
		"SignedAssertionFileDiskPath": d.Str(&assertionPath),
		"ManagedIdentityClientId":     d.Str(&miClientID),
		"Skip":                        d.Bool(&skip),
		// Read so that their SourceType can be refused with a fix below,
		// rather than as unknown keys.
		"KeyVaultUrl":                  d.Str(new(string)),
		"KeyVaultCertificateName":      d.Str(new(string)),
		"CertificateStorePath":         d.Str(new(string)),
		"CertificateThumbprint":        d.Str(new(string)),
		"CertificateDistinguishedName": d.Str(new(string)),
		"CertificateSubjectName":       d.Str(new(string)),
	})
	if skip {
		return // Microsoft.Identity.Web skips such an entry too
	}
	if certificatesOnly {
		switch strings.ToLower(src) {
		case "path", "base64encoded", "keyvault", "storewiththumbprint", "storewithdistinguishedname", "storewithsubjectname":
		default:
			d.Fail(key+":SourceType", fmt.Sprintf("%q is not a certificate source; use Path or Base64Encoded (or list other credentials under ClientCredentials)", src))
			return
		}
	}
	need := func(field, val string) bool {
		if val == "" {
			d.Fail(key+":"+field, "missing for SourceType "+src)
			return false
		}
		return true
	}
	switch strings.ToLower(src) {
	case "clientsecret":
		if need("ClientSecret", string(secret)) {
			cfg.ClientSecret = secret
		}
	case "path":
		if need("CertificateDiskPath", path) {
			cfg.ClientCertificate.Path, cfg.ClientCertificate.Password = path, Secret(password)
		}
	case "base64encoded":
		if need("Base64EncodedValue", b64) {
			cfg.ClientCertificate.Base64, cfg.ClientCertificate.Password = Secret(b64), Secret(password)
		}
	case "signedassertionfilepath":
		if assertionPath == "" {
			assertionPath = env["AZURE_FEDERATED_TOKEN_FILE"]
		}
		if need("SignedAssertionFileDiskPath", assertionPath) {
			cfg.FederatedTokenFile = assertionPath
		}
	case "signedassertionfrommanagedidentity":
		cfg.ManagedIdentity = &ManagedIdentitySource{ClientID: miClientID}
	case "keyvault":
		d.Fail(key+":SourceType", "KeyVault: entraweb does not read Key Vault; fetch the certificate into a file or a secret (az keyvault secret download --encoding base64) and use SourceType Path or Base64Encoded, or AZURE_CLIENT_CERTIFICATE_PATH")
	case "storewiththumbprint", "storewithdistinguishedname", "storewithsubjectname":
		d.Fail(key+":SourceType", src+": certificate stores are Windows'; export the certificate with its key to a PEM or PFX file and use SourceType Path")
	default:
		d.Fail(key+":SourceType", fmt.Sprintf("%q is not supported; use ClientSecret, Path, Base64Encoded, SignedAssertionFilePath or SignedAssertionFromManagedIdentity", src))
	}
}

// ignoredAzureAdKeys are the keys of Microsoft.Identity.Web's AzureAd
// section (its MicrosoftIdentityOptions, ASP.NET Core's
// OpenIdConnectOptions and MSAL's ConfidentialClientApplicationOptions)
// that configure something entraweb does its own way or not at all. A
// file written for ASP.NET Core loads with them; New logs which were
// ignored. Any other unknown key is still an error, so a misspelling is
// never silently dropped.
var ignoredAzureAdKeys = []string{
	// Read by web APIs (bearer tokens) in Microsoft.Identity.Web's
	// templates; a web app asks for scopes with Entraweb:Scopes.
	"Scopes",
	// B2C user flows (entraweb serves Entra ID workforce tenants).
	"EditProfilePolicyId", "SignUpSignInPolicyId", "ResetPasswordPolicyId", "DefaultUserFlow",
	// Token cache and MSAL tuning that entraweb decides itself.
	"UseFastUnboundedCache", "PartitionAppTokenCacheByAudience", "LegacyCacheCompatibilityEnabled",
	"EnableCacheSynchronization", "AzureRegion", "ClientName", "ClientVersion", "LogLevel",
	"EnablePiiLogging", "IsDefaultPlatformLoggingEnabled", "KerberosServicePrincipalName", "TicketContainer",
	// Token decryption (Entra encrypts no token entraweb is sent).
	"TokenDecryptionCertificates", "TokenDecryptionCredentials",
	// ASP.NET Core's OpenID Connect handler: entraweb always uses the
	// code flow with PKCE, its own paths and its own validation.
	"WithSpaAuthCode", "ResetPasswordPath", "ErrorPath", "ExtraQueryParameters", "MetadataAddress",
	"RequireHttpsMetadata", "RemoteSignOutPath", "SignedOutRedirectUri", "ResponseMode", "ResponseType",
	"Prompt", "Resource", "MaxAge", "UsePkce", "SaveTokens", "GetClaimsFromUserInfoEndpoint", "MapInboundClaims",
	"SkipUnrecognizedRequests", "UseTokenLifetime", "DisableTelemetry", "RefreshOnIssuerKeyNotFound",
	"RefreshInterval", "AutomaticRefreshInterval", "SignInScheme", "SignOutScheme", "ClaimsIssuer",
	"AccessDeniedPath", "RemoteAuthenticationTimeout", "ReturnUrlParameter", "RedirectUri",
	"AadAuthorityAudience", "AzureCloudInstance", "Name", "AppHomeTenantId",
	// Managed identity as Microsoft.Identity.Web's older options name it;
	// entraweb reads it from a ClientCredentials entry.
	"UserAssignedManagedIdentityClientId", "ClientCredentialsUsingManagedIdentity",
}

// authorityParts fills Instance and TenantId, where the file left them
// out, from Microsoft.Identity.Web's Authority: the two joined
// (https://login.microsoftonline.com/<tenant>, with or without /v2.0).
func authorityParts(d *appsettings.Decoder, authority string, cfg *Config) {
	u, err := url.Parse(authority)
	seg := ""
	if err == nil {
		seg, _, _ = strings.Cut(strings.Trim(u.Path, "/"), "/")
	}
	if err != nil || u.Scheme == "" || u.Host == "" || seg == "" {
		d.Fail("AzureAd:Authority", fmt.Sprintf("%q is not an authority such as https://login.microsoftonline.com/<tenant id>/v2.0", authority))
		return
	}
	if cfg.Instance == "" {
		cfg.Instance = u.Scheme + "://" + u.Host + "/"
	}
	if cfg.TenantID == "" {
		cfg.TenantID = seg
	}
}

// decodeSettings maps the AzureAd and Entraweb sections onto a Config,
// collecting every error.
func decodeSettings(root appsettings.Tree, env map[string]string) (Config, error) {
	var cfg Config
	var authority string
	d := &appsettings.Decoder{}
	if k, ok := appsettings.Lookup(root, "AzureAd"); ok {
		ignored := d.Object("AzureAd", root[k], map[string]appsettings.Field{
			"Instance":              d.Str(&cfg.Instance),
			"TenantId":              d.Str(&cfg.TenantID),
			"ClientId":              d.Str(&cfg.ClientID),
			"ClientSecret":          d.Str((*string)(&cfg.ClientSecret)),
			"CallbackPath":          d.Str(&cfg.CallbackPath),
			"SignedOutCallbackPath": d.Str(&cfg.SignedOutCallbackPath),
			"Domain":                d.Str(new(string)),
			"SendX5C":               d.Bool(&cfg.ClientCertificate.SendX5C),
			"ClientCapabilities":    d.Strs(&cfg.ClientCapabilities),
			"ClientCredentials": func(key string, v any) {
				d.List(key, v, func(key string, v any) { credentialEntry(d, env, key, v, &cfg, false) })
			},
			"Authority": d.Str(&authority),
			// Web API settings (APIConfig).
			"Audience": func(key string, v any) {
				var aud string
				d.Str(&aud)(key, v)
				if aud != "" {
					cfg.API.Audiences = append(cfg.API.Audiences, aud)
				}
			},
			"Audiences": func(key string, v any) {
				var auds []string
				d.Strs(&auds)(key, v)
				cfg.API.Audiences = append(cfg.API.Audiences, auds...)
			},
			"AllowWebApiToBeAuthorizedByACL": d.Bool(&cfg.API.AllowTokensWithoutPermissions),
			"ClientCertificates": func(key string, v any) {
				d.List(key, v, func(key string, v any) { credentialEntry(d, env, key, v, &cfg, true) })
			},
		}, ignoredAzureAdKeys...)
		cfg.ignored = append(cfg.ignored, ignored...)
		if authority != "" {
			authorityParts(d, authority, &cfg)
		}
	}
	if k, ok := appsettings.Lookup(root, "Entraweb"); ok {
		d.Object("Entraweb", root[k], map[string]appsettings.Field{
			"AllowedTenants": d.Strs(&cfg.AllowedTenants),
			"Scopes":         d.Strs(&cfg.Scopes),
			"GraphUrl":       d.Str(&cfg.GraphURL),
			"GroupsScope":    d.Str(&cfg.GroupsScope),
			"Roles":          d.Strs(&cfg.Roles),
			"MinimumRole":    d.Str(&cfg.MinimumRole),
			"AccessContact":  d.Str(&cfg.AccessContact),
			"PublicBaseUrl":  d.Str(&cfg.PublicBaseURL),
			"TrustedProxies": d.Strs(&cfg.TrustedProxies),
			"RoutePrefix":    d.Str(&cfg.RoutePrefix),
			"VerifyCredentialAtStart": func(key string, v any) {
				verify := true
				d.Bool(&verify)(key, v)
				cfg.SkipCredentialCheck = !verify
			},
			"Session": func(key string, v any) {
				d.Object(key, v, map[string]appsettings.Field{
					"IdleTimeout": d.Duration((*time.Duration)(&cfg.Session.IdleTimeout)),
					"Lifetime":    d.Duration((*time.Duration)(&cfg.Session.Lifetime)),
					"Key":         d.Str((*string)(&cfg.Session.Key)),
					"PreviousKeys": func(key string, v any) {
						var ks []string
						d.Strs(&ks)(key, v)
						for _, k := range ks {
							cfg.Session.PreviousKeys = append(cfg.Session.PreviousKeys, Secret(k))
						}
					},
					"Store":     d.Str(&cfg.Session.Store),
					"Path":      d.Str(&cfg.Session.Path),
					"RedisUrl":  d.Str((*string)(&cfg.Session.RedisURL)),
					"KeyPrefix": d.Str(&cfg.Session.KeyPrefix),
				})
			},
		})
	}
	return cfg, d.Err()
}
