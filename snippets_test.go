package entraweb_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDocSnippetsCompile compiles every Go snippet of README.md (its
// ```go blocks) and of doc.go (its indented code blocks), so that none can
// rot. A snippet that is a whole program body (it ends in ListenAndServe)
// is compiled with nothing but imports around it; a fragment gets the
// names earlier snippets define (auth, mux, ctx, and the handler's w and
// r). Unused imports and variables are forgiven: a fragment need not use
// every name it is given.
func TestDocSnippetsCompile(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to compile the snippets with")
	}
	var snippets []snippet
	snippets = append(snippets, readmeSnippets(t, "README.md")...)
	snippets = append(snippets, docSnippets(t, "doc.go")...)
	if len(snippets) < 5 {
		t.Fatalf("found only %d snippets: the extraction is broken", len(snippets))
	}
	dir := t.TempDir()
	for i, s := range snippets {
		t.Run(s.name, func(t *testing.T) {
			file := filepath.Join(dir, "snippet"+strings.Repeat("_", i)+".go")
			if err := os.WriteFile(file, []byte(wrapSnippet(s.code)), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command(goTool, "build", "-gcflags=-e", "-o", os.DevNull, file).CombinedOutput()
			var problems []string
			for line := range strings.Lines(string(out)) {
				if !strings.Contains(line, ".go:") || strings.Contains(line, "declared and not used") || strings.Contains(line, "imported and not used") {
					continue
				}
				problems = append(problems, strings.TrimSpace(line))
			}
			if len(problems) > 0 {
				t.Errorf("%s does not compile:\n%s\n--- snippet:\n%s", s.name, strings.Join(problems, "\n"), s.code)
			}
		})
	}
}

type snippet struct{ name, code string }

func readmeSnippets(t *testing.T, path string) []snippet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []snippet
	var cur *strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur, start = &strings.Builder{}, n
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, snippet{name: path + ":" + strconv.Itoa(start), code: cur.String()})
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return out
}

// docSnippets reads the code blocks of a doc comment: runs of lines
// indented with a tab after "//". Blocks that are not Go (the route
// table) are named here, so nothing else is skipped silently.
func docSnippets(t *testing.T, path string) []snippet {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	notGo := regexp.MustCompile(`^(GET|POST) +/`)
	var out []snippet
	var cur []string
	start := 0
	flush := func() {
		if len(cur) > 0 && !notGo.MatchString(cur[0]) {
			out = append(out, snippet{name: path + ":" + strconv.Itoa(start), code: strings.Join(cur, "\n") + "\n"})
		}
		cur = nil
	}
	for i, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "//\t"); ok {
			if cur == nil {
				start = i + 1
			}
			cur = append(cur, rest)
			continue
		}
		flush()
	}
	flush()
	return out
}

// snippetImports is every package a snippet may use without saying so.
const snippetImports = `import (
	"context"
	"fmt"
	"log"
	"net/http"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)
`

// snippetNames are the names fragments take from earlier snippets, or
// from the handler they sit in; router is what chi's Router offers.
const snippetNames = `
type chiRouter interface {
	With(middlewares ...func(http.Handler) http.Handler) chiRouter
	Post(pattern string, h http.HandlerFunc)
}

var (
	ctx     context.Context
	t       *testing.T
	auth    *entraweb.Auth
	mux     *http.ServeMux
	router  chiRouter
	w       http.ResponseWriter
	r       *http.Request
	cred    confidential.Credential
	authURL string
)
`

func wrapSnippet(code string) string {
	trimmed := strings.TrimSpace(code)
	switch {
	case strings.HasPrefix(trimmed, "package "):
		return code
	case strings.HasPrefix(trimmed, "import "):
		return "package main\n\n" + code + "\nfunc main() {}\n"
	case strings.Contains(trimmed, "ListenAndServe("):
		return "package main\n\n" + snippetImports + "\nfunc main() {\n" + code + "}\n"
	}
	return "package main\n\n" + snippetImports + snippetNames + "\nfunc main() {}\n\nfunc snippet() {\n" + code + "}\n"
}
