package appsettings

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestParseAllowsWhatDotNetAllows(t *testing.T) {
	tree, err := Parse([]byte(`{
		// a line comment
		"A": {"B": "x // not a comment", /* a block */ "C": [1, 2,],},
	}`))
	if err != nil {
		t.Fatal(err)
	}
	a := tree["A"].(Tree)
	if a["B"] != "x // not a comment" || len(a["C"].([]any)) != 2 {
		t.Errorf("parsed %v", tree)
	}
	for _, bad := range []string{`[1]`, `{} {}`, `null`, `{"a": }`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
}

func TestReadLayersFilesAndVariables(t *testing.T) {
	fsys := fstest.MapFS{
		"appsettings.json":         {Data: []byte(`{"AzureAd": {"TenantId": "base", "ClientId": "c"}, "Other": {"X": 1}}`)},
		"appsettings.Staging.json": {Data: []byte(`{"azuread": {"tenantid": "staging"}}`)},
	}
	env := map[string]string{"DOTNET_ENVIRONMENT": "Staging", "AzureAd__Instance": "https://i", "Unrelated__Key": "v"}
	tree, err := Read(fsys, env, "AzureAd")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := Lookup(tree, "AZUREAD")
	ad := tree[k].(Tree)
	tk, _ := Lookup(ad, "TenantId")
	if ad[tk] != "staging" || ad["ClientId"] != "c" || ad["Instance"] != "https://i" {
		t.Errorf("merged %v", ad)
	}
	if _, ok := Lookup(tree, "Unrelated"); ok {
		t.Error("a variable outside the sections was read")
	}
	if _, err := Read(fsys, map[string]string{"ASPNETCORE_ENVIRONMENT": "../x"}, "AzureAd"); err == nil {
		t.Error("an environment name with a path was accepted")
	}
}

func TestDecoderReportsEveryProblemByKey(t *testing.T) {
	tree, _ := Parse([]byte(`{"S": {"Name": 5, "Flag": "maybe", "Wait": "soon", "List": {"1": "x"}, "Typo": 1, "Logging": {}}}`))
	d := &Decoder{}
	var name string
	var flag bool
	var wait time.Duration
	var list []string
	ignored := d.Object("S", tree["S"], map[string]Field{"Name": d.Str(&name), "Flag": d.Bool(&flag), "Wait": d.Duration(&wait), "List": d.Strs(&list)}, "Logging")
	err := d.Err()
	for _, want := range []string{"S:Name: must be a string", "S:Flag:", "S:Wait:", "S:List: the list's keys", "S:Typo: unknown key"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if len(ignored) != 1 || ignored[0] != "S:Logging" {
		t.Errorf("ignored = %v", ignored)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "00:30:00": 30 * time.Minute, "1:00:00": time.Hour} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"0s", "-1m", "soon", "00:60:00", "00:00:00"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}
