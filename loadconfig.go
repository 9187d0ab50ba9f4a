package entraweb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strings"
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

// A tree is a JSON object whose keys compare case-insensitively, as
// .NET configuration keys do.
type tree = map[string]any

func loadConfig(fsys fs.FS, environ []string) (Config, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	root := tree{}
	var errs []error
	files := []string{"appsettings.json"}
	for _, name := range []string{"ENTRAWEB_ENVIRONMENT", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT"} {
		if e := env[name]; e != "" {
			if strings.ContainsAny(e, `/\`) || e == "." || e == ".." {
				errs = append(errs, fmt.Errorf("%s: %q is not an environment name", name, e))
				break
			}
			files = append(files, "appsettings."+e+".json")
			break
		}
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t, err := parseSettings(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		merge(root, t)
	}
	// .NET-style variables, then the Azure SDK's, which win.
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := strings.Split(k, "__")
		if len(path) < 2 || !(strings.EqualFold(path[0], "AzureAd") || strings.EqualFold(path[0], "Entraweb")) {
			continue
		}
		setPath(root, path, env[k])
	}
	for envName, path := range map[string][]string{
		"AZURE_TENANT_ID":      {"AzureAd", "TenantId"},
		"AZURE_CLIENT_ID":      {"AzureAd", "ClientId"},
		"AZURE_AUTHORITY_HOST": {"AzureAd", "Instance"},
	} {
		if v, ok := env[envName]; ok && v != "" {
			setPath(root, path, v)
		}
	}
	cfg, err := decodeSettings(root, env)
	errs = append(errs, err)
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

// credential reads one entry of Microsoft.Identity.Web's ClientCredentials.
func (d *decoder) credential(key string, v any, cfg *Config) {
	var src, path, password, b64, assertionPath, miClientID string
	var secret Secret
	d.object(key, v, map[string]func(string, any){
		"SourceType":                  d.str(&src),
		"ClientSecret":                d.secret(&secret),
		"CertificateDiskPath":         d.str(&path),
		"CertificatePassword":         d.str(&password),
		"Base64EncodedValue":          d.str(&b64),
		"SignedAssertionFileDiskPath": d.str(&assertionPath),
		"ManagedIdentityClientId":     d.str(&miClientID),
	})
	need := func(field, val string) bool {
		if val == "" {
			d.fail(key+":"+field, "missing for SourceType "+src)
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
			assertionPath = d.env["AZURE_FEDERATED_TOKEN_FILE"]
		}
		if need("SignedAssertionFileDiskPath", assertionPath) {
			cfg.FederatedTokenFile = assertionPath
		}
	case "signedassertionfrommanagedidentity":
		cfg.ManagedIdentity = &ManagedIdentitySource{ClientID: miClientID}
	default:
		d.fail(key+":SourceType", fmt.Sprintf("%q is not supported; use ClientSecret, Path, Base64Encoded, SignedAssertionFilePath or SignedAssertionFromManagedIdentity", src))
	}
}

// parseSettings reads one settings file: a JSON object. Like .NET's
// reader it allows // and /* */ comments and trailing commas.
func parseSettings(b []byte) (tree, error) {
	b = stripJSONComments(b)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var t tree
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON object")
	}
	if t == nil {
		return nil, errors.New("not a JSON object")
	}
	return t, nil
}

// stripJSONComments blanks comments and drops trailing commas, leaving
// strings alone.
func stripJSONComments(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(b) {
				return append(out, b[i:]...)
			}
			out = append(out, b[i:j+1]...)
			i = j
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				return out
			}
			i += end + 3
			out = append(out, ' ')
		case c == ',':
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
				j++
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

// lookup finds a key case-insensitively.
func lookup(t tree, key string) (string, bool) {
	for k := range t {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

// merge lays src over dst: objects merge key by key, anything else
// replaces.
func merge(dst, src tree) {
	for k, v := range src {
		if existing, ok := lookup(dst, k); ok {
			if dt, ok := dst[existing].(tree); ok {
				if st, ok := v.(tree); ok {
					merge(dt, st)
					continue
				}
			}
			delete(dst, existing)
		}
		dst[k] = v
	}
}

// setPath sets a value from the environment; a numeric segment under an
// array index (Entraweb__Roles__0) builds an object that decode turns into
// a list.
func setPath(t tree, path []string, v string) {
	for _, seg := range path[:len(path)-1] {
		k, ok := lookup(t, seg)
		if !ok {
			k = seg
		}
		next, isTree := t[k].(tree)
		if !isTree {
			next = tree{}
			if arr, isArr := t[k].([]any); isArr {
				for i, e := range arr {
					next[fmt.Sprint(i)] = e
				}
			}
			t[k] = next
		}
		t = next
	}
	last := path[len(path)-1]
	if k, ok := lookup(t, last); ok {
		delete(t, k)
	}
	t[last] = v
}

// decodeSettings maps the AzureAd and Entraweb sections onto a Config,
// collecting every error.
func decodeSettings(root tree, env map[string]string) (Config, error) {
	var cfg Config
	d := &decoder{env: env}
	if k, ok := lookup(root, "AzureAd"); ok {
		d.object("AzureAd", root[k], map[string]func(string, any){
			"Instance":              d.str(&cfg.Instance),
			"TenantId":              d.str(&cfg.TenantID),
			"ClientId":              d.str(&cfg.ClientID),
			"ClientSecret":          d.secret(&cfg.ClientSecret),
			"CallbackPath":          d.str(&cfg.CallbackPath),
			"SignedOutCallbackPath": d.str(&cfg.SignedOutCallbackPath),
			"Domain":                d.str(new(string)),
			"SendX5C":               d.boolean(&cfg.ClientCertificate.SendX5C),
			"ClientCapabilities":    d.strs(&cfg.ClientCapabilities),
			"ClientCredentials": func(key string, v any) {
				d.list(key, v, func(key string, v any) { d.credential(key, v, &cfg) })
			},
		})
	}
	if k, ok := lookup(root, "Entraweb"); ok {
		d.object("Entraweb", root[k], map[string]func(string, any){
			"AllowedTenants": d.strs(&cfg.AllowedTenants),
			"Scopes":         d.strs(&cfg.Scopes),
			"GraphUrl":       d.str(&cfg.GraphURL),
			"GroupsScope":    d.str(&cfg.GroupsScope),
			"Roles":          d.strs(&cfg.Roles),
			"MinimumRole":    d.str(&cfg.MinimumRole),
			"AccessContact":  d.str(&cfg.AccessContact),
			"PublicBaseUrl":  d.str(&cfg.PublicBaseURL),
			"TrustedProxies": d.strs(&cfg.TrustedProxies),
			"RoutePrefix":    d.str(&cfg.RoutePrefix),
			"Session": func(key string, v any) {
				d.object(key, v, map[string]func(string, any){
					"IdleTimeout": d.duration(&cfg.Session.IdleTimeout),
					"Lifetime":    d.duration(&cfg.Session.Lifetime),
					"Key":         d.secret(&cfg.Session.Key),
					"PreviousKeys": func(key string, v any) {
						var ks []string
						d.strs(&ks)(key, v)
						for _, k := range ks {
							cfg.Session.PreviousKeys = append(cfg.Session.PreviousKeys, Secret(k))
						}
					},
					"Store":     d.str(&cfg.Session.Store),
					"Path":      d.str(&cfg.Session.Path),
					"RedisUrl":  d.secret(&cfg.Session.RedisURL),
					"KeyPrefix": d.str(&cfg.Session.KeyPrefix),
				})
			},
		})
	}
	return cfg, errors.Join(d.errs...)
}

type decoder struct {
	errs []error
	env  map[string]string
}

func (d *decoder) fail(key, msg string) { d.errs = append(d.errs, fmt.Errorf("%s: %s", key, msg)) }

func typeName(v any) string {
	switch v.(type) {
	case tree:
		return "an object"
	case []any:
		return "a list"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case nil:
		return "null"
	}
	return reflect.TypeOf(v).String()
}

// object decodes a section; fields maps each known key (any case) to its
// setter. Unknown keys are errors.
func (d *decoder) object(key string, v any, fields map[string]func(string, any)) {
	t, ok := v.(tree)
	if !ok {
		d.fail(key, "must be an object, not "+typeName(v))
		return
	}
	names := make([]string, 0, len(t))
	for k := range t {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		found := false
		for name, set := range fields {
			if strings.EqualFold(k, name) {
				set(key+":"+name, t[k])
				found = true
				break
			}
		}
		if !found {
			known := make([]string, 0, len(fields))
			for name := range fields {
				known = append(known, name)
			}
			sort.Strings(known)
			d.fail(key+":"+k, "unknown key (known: "+strings.Join(known, ", ")+")")
		}
	}
}

func (d *decoder) str(dst *string) func(string, any) {
	return func(key string, v any) {
		switch x := v.(type) {
		case string:
			*dst = x
		default:
			d.fail(key, "must be a string, not "+typeName(v))
		}
	}
}

func (d *decoder) boolean(dst *bool) func(string, any) {
	return func(key string, v any) {
		switch x := v.(type) {
		case bool:
			*dst = x
		case string:
			switch strings.ToLower(x) {
			case "true", "1":
				*dst = true
			case "false", "0", "":
				*dst = false
			default:
				d.fail(key, fmt.Sprintf("%q is not true or false", x))
			}
		default:
			d.fail(key, "must be true or false, not "+typeName(v))
		}
	}
}

func (d *decoder) secret(dst *Secret) func(string, any) {
	return func(key string, v any) {
		if s, ok := v.(string); ok {
			*dst = Secret(s)
			return
		}
		d.fail(key, "must be a string, not "+typeName(v)) // the value itself is never echoed
	}
}

func (d *decoder) duration(dst *Duration) func(string, any) {
	return func(key string, v any) {
		s, ok := v.(string)
		if !ok {
			d.fail(key, "must be a duration string such as \"30m\", not "+typeName(v))
			return
		}
		du, err := parseDuration(s)
		if err != nil {
			d.fail(key, err.Error())
			return
		}
		*dst = du
	}
}

// list accepts a JSON array, or an object with keys 0, 1, ... as .NET
// builds from environment variables.
func (d *decoder) list(key string, v any, each func(string, any)) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			each(fmt.Sprintf("%s:%d", key, i), e)
		}
	case tree:
		for i := 0; i < len(x); i++ {
			e, ok := x[fmt.Sprint(i)]
			if !ok {
				d.fail(key, "the list's keys must be 0, 1, 2...")
				return
			}
			each(fmt.Sprintf("%s:%d", key, i), e)
		}
	case string:
		// A single environment variable may carry a comma-separated list.
		for i, part := range strings.Split(x, ",") {
			each(fmt.Sprintf("%s:%d", key, i), strings.TrimSpace(part))
		}
	default:
		d.fail(key, "must be a list, not "+typeName(v))
	}
}

func (d *decoder) strs(dst *[]string) func(string, any) {
	return func(key string, v any) {
		*dst = nil
		d.list(key, v, func(k string, e any) {
			var s string
			d.str(&s)(k, e)
			*dst = append(*dst, s)
		})
	}
}
