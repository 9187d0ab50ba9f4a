package proxy

import (
	"errors"
	"os"
	"strings"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/internal/appsettings"
)

// LoadConfig reads the configuration as entraweb.LoadConfig does, from
// appsettings.json, appsettings.{Environment}.json and the environment
// (AZURE_*, AzureAd__*, Entraweb__*) into Entra, and the "Proxy" section
// of the same files and Proxy__* variables into the other fields:
//
//	"Proxy": {
//	  "Upstream": "http://127.0.0.1:8050",
//	  "Rules": [{"Path": "/admin", "Role": "DemoApp.Admin"}],
//	  "PublicPaths": ["/static/", "/health"],
//	  "Headers": ["EasyAuth", "OAuth2Proxy"]
//	}
//
// Lists may also come as Proxy__PublicPaths__0, or one comma-separated
// variable. Unknown keys and malformed values are errors, all reported at
// once with the key's name.
func LoadConfig() (Config, error) { return LoadConfigDir(".") }

// LoadConfigDir is LoadConfig with the files read from dir.
func LoadConfigDir(dir string) (Config, error) {
	entra, entraErr := entraweb.LoadConfigDir(dir)
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	// A file that does not parse was reported by entraweb.LoadConfigDir
	// already: the same files are read here, for another section.
	root, _ := appsettings.Read(os.DirFS(dir), env, "Proxy")
	cfg, err := decodeProxy(root)
	cfg.Entra = entra
	return cfg, errors.Join(entraErr, err)
}

// decodeProxy maps the Proxy section onto a Config.
func decodeProxy(root appsettings.Tree) (Config, error) {
	var cfg Config
	k, ok := appsettings.Lookup(root, "Proxy")
	if !ok {
		return cfg, nil
	}
	d := &appsettings.Decoder{}
	d.Object("Proxy", root[k], map[string]appsettings.Field{
		"Upstream": d.Str(&cfg.Upstream),
		"Rules": func(key string, v any) {
			d.List(key, v, func(key string, v any) {
				var r Rule
				d.Object(key, v, map[string]appsettings.Field{
					"Path":  d.Str(&r.Path),
					"Role":  d.Str(&r.Role),
					"Group": d.Str(&r.Group),
				})
				cfg.Rules = append(cfg.Rules, r)
			})
		},
		"PublicPaths":       d.Strs(&cfg.PublicPaths),
		"ApiPaths":          d.Strs(&cfg.ApiPaths),
		"ApiScope":          d.Str(&cfg.ApiScope),
		"ApiAppRole":        d.Str(&cfg.ApiAppRole),
		"Headers":           d.Strs(&cfg.Headers),
		"AccessTokenScopes": d.Strs(&cfg.AccessTokenScopes),
		"TokensInMe":        d.Bool(&cfg.TokensInMe),
		"PreserveHost":      d.Bool(&cfg.PreserveHost),
		"UpstreamTimeout":   d.Duration(&cfg.UpstreamTimeout),
		"WriteIdleTimeout":  d.Duration(&cfg.WriteIdleTimeout),
		"AccessLog":         d.Bool(&cfg.AccessLog),
		"MetricsAddress":    d.Str(&cfg.MetricsAddress),
		"NoAssertion":       d.Bool(&cfg.NoAssertion),
		"AssertionKeyFile":  d.Str(&cfg.AssertionKeyFile),
	})
	return cfg, d.Err()
}
