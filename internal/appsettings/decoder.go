package appsettings

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Decoder maps a Tree onto Go values and collects every problem, each
// named by its full key (AzureAd:ClientCredentials:0:SourceType). Values
// are never echoed in type errors, so a misplaced secret stays out of the
// message.
type Decoder struct {
	errs []error
}

// Err returns every problem found so far, joined.
func (d *Decoder) Err() error { return errors.Join(d.errs...) }

// Fail records a problem with key.
func (d *Decoder) Fail(key, msg string) { d.errs = append(d.errs, fmt.Errorf("%s: %s", key, msg)) }

// A Field decodes the value found at key.
type Field func(key string, v any)

func typeName(v any) string {
	switch v.(type) {
	case Tree:
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

// Object decodes a section: fields maps each known key (matched in any
// case) to its decoder. Keys in ignore are accepted and skipped (ignored
// is told of each one found); any other key is an error that lists the
// known ones.
func (d *Decoder) Object(key string, v any, fields map[string]Field, ignore ...string) (ignored []string) {
	t, ok := v.(Tree)
	if !ok {
		d.Fail(key, "must be an object, not "+typeName(v))
		return nil
	}
	names := make([]string, 0, len(t))
	for k := range t {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		found := false
		for name, set := range fields {
			if strings.EqualFold(k, name) {
				set(key+":"+name, t[k])
				found = true
				break
			}
		}
		if found {
			continue
		}
		if i := slices.IndexFunc(ignore, func(s string) bool { return strings.EqualFold(s, k) }); i >= 0 {
			ignored = append(ignored, key+":"+ignore[i])
			continue
		}
		known := make([]string, 0, len(fields))
		for name := range fields {
			known = append(known, name)
		}
		slices.Sort(known)
		d.Fail(key+":"+k, "unknown key (known: "+strings.Join(known, ", ")+")")
	}
	return ignored
}

// Str decodes a string.
func (d *Decoder) Str(dst *string) Field {
	return func(key string, v any) {
		switch x := v.(type) {
		case string:
			*dst = x
		default:
			d.Fail(key, "must be a string, not "+typeName(v))
		}
	}
}

// Bool decodes true/false, or the strings "true", "false", "1", "0"
// that environment variables carry.
func (d *Decoder) Bool(dst *bool) Field {
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
				d.Fail(key, fmt.Sprintf("%q is not true or false", x))
			}
		default:
			d.Fail(key, "must be true or false, not "+typeName(v))
		}
	}
}

// Duration decodes "90s", "1h30m" or .NET's "hh:mm:ss".
func (d *Decoder) Duration(dst *time.Duration) Field {
	return func(key string, v any) {
		s, ok := v.(string)
		if !ok {
			d.Fail(key, "must be a duration string such as \"30m\", not "+typeName(v))
			return
		}
		du, err := ParseDuration(s)
		if err != nil {
			d.Fail(key, err.Error())
			return
		}
		*dst = du
	}
}

// List decodes a JSON array, an object with keys 0, 1… (as .NET builds
// from environment variables), or a comma-separated string (one
// environment variable), calling each for every element.
func (d *Decoder) List(key string, v any, each Field) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			each(fmt.Sprintf("%s:%d", key, i), e)
		}
	case Tree:
		for i := 0; i < len(x); i++ {
			e, ok := x[fmt.Sprint(i)]
			if !ok {
				d.Fail(key, "the list's keys must be 0, 1, 2...")
				return
			}
			each(fmt.Sprintf("%s:%d", key, i), e)
		}
	case string:
		for i, part := range strings.Split(x, ",") {
			each(fmt.Sprintf("%s:%d", key, i), strings.TrimSpace(part))
		}
	default:
		d.Fail(key, "must be a list, not "+typeName(v))
	}
}

// Strs decodes a list of strings, replacing what dst held.
func (d *Decoder) Strs(dst *[]string) Field {
	return func(key string, v any) {
		*dst = nil
		d.List(key, v, func(k string, e any) {
			var s string
			d.Str(&s)(k, e)
			*dst = append(*dst, s)
		})
	}
}

var dotnetDurationRE = regexp.MustCompile(`^(\d{1,4}):([0-5]\d):([0-5]\d)$`)

// ParseDuration reads a positive duration as Go writes it ("30m") or as
// .NET does ("00:30:00").
func ParseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	if m := dotnetDurationRE.FindStringSubmatch(s); m != nil {
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		se, _ := strconv.Atoi(m[3])
		if d := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(se)*time.Second; d > 0 {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a positive duration such as \"30m\" or \"00:30:00\"", s)
}
