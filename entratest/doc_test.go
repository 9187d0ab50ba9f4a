package entratest

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestDocListsEveryCode keeps the package doc's list of AADSTS codes and
// the codes the emulator can emit in step.
func TestDocListsEveryCode(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[int]bool{}
	for _, m := range regexp.MustCompile(`(?m)^//\t(\d{5,7})\s`).FindAllStringSubmatch(string(doc), -1) {
		n, _ := strconv.Atoi(m[1])
		listed[n] = true
	}
	for code := range aadCodes {
		if !listed[code] {
			t.Errorf("AADSTS%d is emitted but not listed in doc.go", code)
		}
	}
	for code := range listed {
		if _, ok := aadCodes[code]; !ok {
			t.Errorf("doc.go lists AADSTS%d, which the emulator does not emit", code)
		}
	}
}
