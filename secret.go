package entraweb

import (
	"fmt"
	"log/slog"
	"strconv"
)

// Secret is a string that never prints: a client secret, a certificate or
// its password, a session key, a Redis URL with its password. Every
// formatting verb of package fmt (%v, %+v, %#v, %s, %q, %x, %d...), the
// encoders of encoding/json and encoding/xml (and others that use
// encoding.TextMarshaler), and log/slog show "[redacted]" instead, so a
// Config can be printed, logged or dumped as JSON whole.
//
// It stays a string to read: set it from code (Secret("...") or a string
// constant), and JSON decodes a string into it (there is no UnmarshalJSON
// to reject "[redacted]": an encoded Config does not decode back to a
// working one). string(s) is the value, for the one place that needs it.
//
// What it cannot stop: fmt prints the value of a Config kept in an
// unexported field of another struct (fmt may not call methods through an
// unexported field), and so do printers that bypass methods with
// reflection, such as go-spew with DisableMethods (used by testify's
// diffs). Print such a struct's Config field, not the struct.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]" quoted, as %#v prints a string, for
// printers that ask for fmt.GoStringer (fmt itself goes through Format).
func (Secret) GoString() string { return strconv.Quote(redacted) }

// Format formats "[redacted]" with the verb, flags, width and precision
// given: without it, a verb that fmt does not give to String (%d, %c...)
// prints the value.
func (Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), redacted)
}

// LogValue keeps a Secret out of structured logs.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes a Secret as the JSON string "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]", for encoding/xml and the other
// encoders that use encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
