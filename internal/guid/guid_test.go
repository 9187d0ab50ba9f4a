package guid

import "testing"

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"3c0f2e8d-9b6a-4f1e-8d2c-7a5b4e3f2a10": true,
		"3C0F2E8D-9B6A-4F1E-8D2C-7A5B4E3F2A10": true,
		"3c0f2e8d-9b6a-4f1e-8d2c-7a5b4e3f2a1":  false,
		"3c0f2e8d-9b6a-4f1e-8d2c-7a5b4e3f2a1g": false,
		"3c0f2e8d9b6a-4f1e-8d2c-7a5b4e3f2a10-": false,
		"3c0f2e8d-9b6a-4f1e-8d2c-7a5b4e3f2aé":  false,
		"":                                     false,
		"contoso.onmicrosoft.com":              false,
	} {
		if Valid(s) != want {
			t.Errorf("Valid(%q) = %v, want %v", s, !want, want)
		}
	}
}
