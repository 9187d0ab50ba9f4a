package tokencache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"

	"github.com/entraweb/entraweb/internal/oidc"
)

// Failure sorts an error of an MSAL Go token call: the provider's own
// refusal (*oidc.ErrorResponse), its outage (oidc.ErrProviderUnavailable,
// also for a 5xx answer or a network failure), or scopes it did not grant
// (ErrDeclinedScopes). MSAL's errors embed the raw response body; only
// its parsed fields are kept.
func Failure(err error) error {
	var ce msalerrors.CallErr
	if errors.As(err, &ce) && ce.Resp != nil && ce.Resp.Body != nil {
		// MSAL left the body in a buffer; put it back after reading, so the
		// error reads the same however often it is looked at.
		raw, _ := io.ReadAll(io.LimitReader(ce.Resp.Body, 1<<20))
		ce.Resp.Body = io.NopCloser(bytes.NewReader(raw))
		if er, ok := oidc.ParseErrorResponse(ce.Resp.StatusCode, raw); ok {
			if er.Status >= 500 {
				return fmt.Errorf("%w: token endpoint answered HTTP %d", oidc.ErrProviderUnavailable, er.Status)
			}
			return er
		}
		if ce.Resp.StatusCode >= 500 {
			return fmt.Errorf("%w: token endpoint answered HTTP %d", oidc.ErrProviderUnavailable, ce.Resp.StatusCode)
		}
	}
	switch msalText(err) {
	case textDeclinedScopes:
		return ErrDeclinedScopes
	case textNoToken:
		return ErrNoRefreshToken
	}
	return fmt.Errorf("%w: %w", oidc.ErrProviderUnavailable, err)
}

type msalTextKind int

const (
	textOther msalTextKind = iota
	textDeclinedScopes
	textNoToken
)

// msalText recognizes the MSAL Go errors that carry no structure, only a
// message (fmt.Errorf/errors.New inside MSAL). It is the only place that
// reads MSAL's wording; TestMSALWording provokes each of them from MSAL
// itself, so an upgrade that rewords one fails a test instead of quietly
// changing what entraweb does.
func msalText(err error) msalTextKind {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "declined scopes are present"):
		return textDeclinedScopes
	case msg == "no token found":
		return textNoToken
	}
	return textOther
}

// hasRefreshToken reports whether MSAL's serialized cache (the format
// shared by every MSAL) holds a refresh token of the account.
func hasRefreshToken(msalCache []byte, homeAccountID string) bool {
	if len(msalCache) == 0 {
		return false
	}
	var c struct {
		RefreshToken map[string]struct {
			HomeAccountID string `json:"home_account_id"`
			Secret        string `json:"secret"`
		}
	}
	if json.Unmarshal(msalCache, &c) != nil {
		return false
	}
	for _, rt := range c.RefreshToken {
		if strings.EqualFold(rt.HomeAccountID, homeAccountID) && rt.Secret != "" {
			return true
		}
	}
	return false
}
