// Package appsettings reads configuration the way ASP.NET Core does:
// appsettings.json, then appsettings.{Environment}.json over it, then
// environment variables spelled with "__" between the keys
// (AzureAd__ClientId). Keys compare case-insensitively; the files may hold
// // and /* */ comments and trailing commas, as .NET's reader allows. A
// Decoder maps the merged tree onto Go values, reporting every unknown key
// and malformed value at once with its full key.
package appsettings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// A Tree is a JSON object whose keys compare case-insensitively, as .NET
// configuration keys do.
type Tree = map[string]any

// EnvironmentVariables name the environment, in order of precedence.
var EnvironmentVariables = []string{"ENTRAWEB_ENVIRONMENT", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT"}

// Environment returns the environment's name (Development, Production…)
// from env, and the variable that set it; "" when none is set.
func Environment(env map[string]string) (name, variable string) {
	for _, v := range EnvironmentVariables {
		if e := env[v]; e != "" {
			return e, v
		}
	}
	return "", ""
}

// Read merges appsettings.json and appsettings.{Environment}.json of fsys
// (missing files are fine), then the variables of env whose first
// segment is one of sections (AzureAd__TenantId), into one tree.
func Read(fsys fs.FS, env map[string]string, sections ...string) (Tree, error) {
	root := Tree{}
	var errs []error
	files := []string{"appsettings.json"}
	if e, variable := Environment(env); e != "" {
		if strings.ContainsAny(e, `/\`) || e == "." || e == ".." {
			errs = append(errs, fmt.Errorf("%s: %q is not an environment name", variable, e))
		} else {
			files = append(files, "appsettings."+e+".json")
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
		t, err := Parse(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		merge(root, t)
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		path := strings.Split(k, "__")
		if len(path) < 2 || !slices.ContainsFunc(sections, func(s string) bool { return strings.EqualFold(s, path[0]) }) {
			continue
		}
		SetPath(root, path, env[k])
	}
	return root, errors.Join(errs...)
}

// Parse reads one settings file: a JSON object, with comments and
// trailing commas allowed.
func Parse(b []byte) (Tree, error) {
	b = stripJSONComments(b)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var t Tree
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

// Lookup finds a key of t case-insensitively and returns it as spelled
// in t.
func Lookup(t Tree, key string) (string, bool) {
	for k := range t {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

// merge lays src over dst: objects merge key by key, anything else
// replaces.
func merge(dst, src Tree) {
	for k, v := range src {
		if existing, ok := Lookup(dst, k); ok {
			if dt, ok := dst[existing].(Tree); ok {
				if st, ok := v.(Tree); ok {
					merge(dt, st)
					continue
				}
			}
			delete(dst, existing)
		}
		dst[k] = v
	}
}

// SetPath sets the value at path, making objects on the way; a numeric
// segment under a list (Entraweb__Roles__0) turns the list into an object
// with keys 0, 1…, which Decoder.List reads back as a list.
func SetPath(t Tree, path []string, v string) {
	for _, seg := range path[:len(path)-1] {
		k, ok := Lookup(t, seg)
		if !ok {
			k = seg
		}
		next, isTree := t[k].(Tree)
		if !isTree {
			next = Tree{}
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
	if k, ok := Lookup(t, last); ok {
		delete(t, k)
	}
	t[last] = v
}
