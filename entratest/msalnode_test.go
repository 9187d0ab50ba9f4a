package entratest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/testenv"

	"github.com/entraweb/entraweb/entratest"
)

// These tests prove the emulator with MSAL Node, Microsoft's Node library,
// unchanged: testdata/msalnode/driver.cjs drives it, and the assertions on
// what it got are made here, in Go.

const (
	nodeSpecDir    = "testdata/msalnode"
	nodeDriverFile = "driver.cjs"
	// A child process that runs longer than this is hung: MSAL Node's calls
	// to a local emulator take milliseconds.
	nodeTimeout = 60 * time.Second
)

// msalNodeEnv finds node and the node_modules holding the pinned MSAL Node.
// Outside CI a missing piece skips the test, loudly; in CI (CI set) it fails
// it, so that the fidelity tests cannot silently stop running there.
func msalNodeEnv(t *testing.T) (nodeBin, modules string) {
	t.Helper()
	var missing []string
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "the node binary is not on PATH (Debian package nodejs)")
	}
	modules = os.Getenv("ENTRATEST_NODE_MODULES")
	if modules == "" {
		if root, err := nodeModuleRoot(); err != nil {
			missing = append(missing, "ENTRATEST_NODE_MODULES is unset and the module root was not found: "+err.Error())
		} else {
			modules = filepath.Join(root, ".cache", "node", "node_modules")
		}
	}
	if modules != "" {
		// The driver requires msal-node by absolute path.
		if abs, err := filepath.Abs(modules); err == nil {
			modules = abs
		}
		want, err := pinnedMSALNode()
		if err != nil {
			t.Fatalf("reading %s/package.json: %v", nodeSpecDir, err)
		}
		got, err := nodeInstalledVersion(filepath.Join(modules, "@azure", "msal-node", "package.json"))
		switch {
		case err != nil:
			missing = append(missing, "@azure/msal-node is not installed in "+modules)
		case got != want:
			missing = append(missing, "@azure/msal-node in "+modules+" is "+got+", not the pinned "+want)
		}
	}
	if len(missing) == 0 {
		return nodeBin, modules
	}
	msg := "MSAL Node tests cannot run: " + strings.Join(missing, "; ") +
		". Run `make test` (or `make node-deps`): it installs node and npm (as root) and the pinned MSAL Node into .cache/node;" +
		" ENTRATEST_NODE_MODULES names another node_modules."
	testenv.Missing(t, msg, "make node-deps")
	return "", ""
}

// nodeModuleRoot walks up from the test's working directory to go.mod.
func nodeModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func pinnedMSALNode() (string, error) {
	b, err := os.ReadFile(filepath.Join(nodeSpecDir, "package.json"))
	if err != nil {
		return "", err
	}
	var p struct{ Dependencies map[string]string }
	if err := json.Unmarshal(b, &p); err != nil {
		return "", err
	}
	v := p.Dependencies["@azure/msal-node"]
	if v == "" {
		return "", errors.New("no @azure/msal-node dependency")
	}
	return v, nil
}

func nodeInstalledVersion(pkgJSON string) (string, error) {
	b, err := os.ReadFile(pkgJSON)
	if err != nil {
		return "", err
	}
	var p struct{ Version string }
	if err := json.Unmarshal(b, &p); err != nil {
		return "", err
	}
	return p.Version, nil
}

// nodeStderrBuffer is the child's stderr: exec's copying goroutine writes it
// while a failing test reads it.
type nodeStderrBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *nodeStderrBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *nodeStderrBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// nodeDriver is one run of driver.cjs. The driver stops after each step
// until the test answers, so the emulator's call counters read between
// two steps belong to the step just reported.
type nodeDriver struct {
	t       *testing.T
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *json.Decoder
	stderr  *nodeStderrBuffer
	pending bool // a step was read and the driver waits for an answer
	done    bool
}

// nodeStep is one line of the driver's output.
type nodeStep struct {
	Step   string          `json:"step"`
	Result json.RawMessage `json:"result"`
	Error  *nodeError      `json:"error"`
}

type nodeError struct {
	Name        string `json:"name"`
	Constructor string `json:"constructor"`
	ErrorCode   string `json:"errorCode"`
	ErrorNo     string `json:"errorNo"`
	SubError    string `json:"subError"`
	Message     string `json:"message"`
	// CorrelationID is the client-request-id MSAL Node sent.
	CorrelationID string `json:"correlationId"`
}

// nodeResult is the part of MSAL Node's AuthenticationResult the driver
// reports.
type nodeResult struct {
	AccessToken   string         `json:"accessToken"`
	IDToken       string         `json:"idToken"`
	IDTokenClaims map[string]any `json:"idTokenClaims"`
	TokenType     string         `json:"tokenType"`
	Scopes        []string       `json:"scopes"`
	FromCache     bool           `json:"fromCache"`
	ExpiresOn     string         `json:"expiresOn"`
	Account       *struct {
		HomeAccountID  string `json:"homeAccountId"`
		LocalAccountID string `json:"localAccountId"`
		TenantID       string `json:"tenantId"`
		Environment    string `json:"environment"`
		Username       string `json:"username"`
		Name           string `json:"name"`
	} `json:"account"`
}

// startNode runs driver.cjs with cfg as its first input line. The child
// trusts the emulator's CA through NODE_EXTRA_CA_CERTS, which Node reads
// only when it starts.
func startNode(t *testing.T, srv *entratest.Server, cfg map[string]any) *nodeDriver {
	t.Helper()
	nodeBin, modules := msalNodeEnv(t)
	script, err := filepath.Abs(filepath.Join(nodeSpecDir, nodeDriverFile))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "entratest-ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, nodeBin, script)
	cmd.Env = append(nodeEnviron(), "NODE_EXTRA_CA_CERTS="+caFile, "ENTRATEST_NODE_MODULES="+modules)
	cmd.WaitDelay = 5 * time.Second
	d := &nodeDriver{t: t, cmd: cmd, stderr: &nodeStderrBuffer{}}
	cmd.Stderr = d.stderr
	if d.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.out = json.NewDecoder(stdout)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node: %v", err)
	}
	t.Cleanup(func() {
		if !d.done {
			d.stdin.Close()
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	cfg["authority"] = srv.Authority()
	cfg["knownAuthority"] = strings.TrimPrefix(srv.URL, "https://")
	if cfg["clientId"] == nil {
		cfg["clientId"] = entratest.DemoClientID
	}
	d.send(cfg)
	return d
}

// nodeEnviron is the test's environment without what would change how
// node runs the driver or where its requests go.
func nodeEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED", "ENTRATEST_NODE_MODULES",
			"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NODE_USE_ENV_PROXY":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (d *nodeDriver) fatalf(format string, args ...any) {
	d.t.Helper()
	d.t.Fatalf(format+"\n--- node stderr:\n%s", append(args, d.stderr.String())...)
}

func (d *nodeDriver) errorf(format string, args ...any) {
	d.t.Helper()
	d.t.Errorf(format+"\n--- node stderr:\n%s", append(args, d.stderr.String())...)
}

func (d *nodeDriver) send(v any) {
	d.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		d.t.Fatal(err)
	}
	if _, err := d.stdin.Write(append(b, '\n')); err != nil {
		d.fatalf("writing to node: %v", err)
	}
	d.pending = false
}

// next lets the driver go on from the previous step and reads the step
// named want.
func (d *nodeDriver) next(want string) nodeStep {
	d.t.Helper()
	if d.pending {
		d.send(struct{}{})
	}
	var s nodeStep
	if err := d.out.Decode(&s); err != nil {
		d.fatalf("reading step %q from node: %v (exit: %v)", want, err, d.exit())
	}
	if s.Step != want {
		d.fatalf("node reported step %q, want %q", s.Step, want)
	}
	d.pending = true
	return s
}

// result decodes a step that must have succeeded.
func (d *nodeDriver) result(want string) nodeResult {
	d.t.Helper()
	s := d.next(want)
	if s.Error != nil {
		d.fatalf("MSAL Node %s failed: %+v", want, *s.Error)
	}
	var r nodeResult
	if err := json.Unmarshal(s.Result, &r); err != nil {
		d.fatalf("step %s: %v", want, err)
	}
	return r
}

// failure reads a step that must have failed.
func (d *nodeDriver) failure(want string) nodeError {
	d.t.Helper()
	s := d.next(want)
	if s.Error == nil {
		d.fatalf("MSAL Node %s succeeded, want an error: %s", want, s.Result)
	}
	return *s.Error
}

// finish waits for the driver to exit cleanly.
func (d *nodeDriver) finish() {
	d.t.Helper()
	if d.pending {
		d.send(struct{}{})
	}
	d.stdin.Close()
	if rest, _ := io.ReadAll(d.out.Buffered()); len(bytes.TrimSpace(rest)) > 0 {
		d.errorf("node wrote more than the test read: %s", rest)
	}
	if err := d.exit(); err != nil {
		d.fatalf("node: %v", err)
	}
	// MSAL Node's warnings are worth seeing with -v even when all passed.
	if e := d.stderr.String(); e != "" {
		d.t.Logf("node stderr:\n%s", e)
	}
}

func (d *nodeDriver) exit() error {
	if d.done {
		return nil
	}
	d.done = true
	return d.cmd.Wait()
}

func TestMSALNodeAuthCode(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	api := "api://" + entratest.DemoClientID + "/access_as_user"
	d := startNode(t, srv, map[string]any{
		"scenario":     "authcode",
		"clientSecret": entratest.DemoClientSecret,
		"scopes":       []string{"User.Read"},
		"redirectUri":  redirectURI,
		"apiScope":     api,
	})

	s := d.next("authUrl")
	var au struct{ URL, State, Nonce string }
	if err := json.Unmarshal(s.Result, &au); err != nil || s.Error != nil {
		d.fatalf("getAuthCodeUrl: %v %+v", err, s.Error)
	}
	u, err := url.Parse(au.URL)
	if err != nil {
		d.fatalf("auth URL %q: %v", au.URL, err)
	}
	q := u.Query()
	if got, want := u.Scheme+"://"+u.Host+u.Path, srv.Authority()+"/oauth2/v2.0/authorize"; !strings.EqualFold(got, want) {
		t.Errorf("auth URL endpoint = %s, want %s", got, want)
	}
	if q.Get("state") != au.State || q.Get("nonce") != au.Nonce || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		t.Errorf("auth URL lacks MSAL Node's state, nonce or PKCE: %s", au.URL)
	}
	cb, err := srv.Browser().SignIn(context.Background(), au.URL, "alice@contoso.onmicrosoft.com", entratest.DemoPassword)
	if err != nil {
		d.fatalf("sign-in at MSAL Node's URL: %v", err)
	}
	if cb.URL.String() != redirectURI || cb.Params.Get("state") != au.State || cb.Params.Get("code") == "" {
		d.fatalf("callback = %s %v, want %s with the code and state %q", cb.URL, cb.Params, redirectURI, au.State)
	}
	tokenCalls := srv.Calls(entratest.EndpointToken)
	d.send(map[string]string{"code": cb.Params.Get("code"), "state": cb.Params.Get("state")})

	// Code redemption, with MSAL Node checking state and nonce.
	first := d.result("byCode")
	if n := srv.Calls(entratest.EndpointToken) - tokenCalls; n != 1 {
		t.Errorf("token endpoint calls for the redemption = %d, want 1", n)
	}
	alice := userByName(t, srv, "alice@contoso.onmicrosoft.com")
	host := strings.TrimPrefix(srv.URL, "https://")
	if a := first.Account; a == nil {
		d.fatalf("no account in MSAL Node's result")
	} else if a.HomeAccountID != alice.ObjectID+"."+entratest.DemoTenantID || a.LocalAccountID != alice.ObjectID ||
		a.TenantID != entratest.DemoTenantID || !strings.EqualFold(a.Username, alice.Username) || a.Name != alice.DisplayName ||
		a.Environment != host {
		t.Errorf("account as MSAL Node built it: %+v, want home %s.%s on %s", *a, alice.ObjectID, entratest.DemoTenantID, host)
	}
	if first.FromCache || first.TokenType != "Bearer" {
		t.Errorf("redemption: fromCache %v, tokenType %q", first.FromCache, first.TokenType)
	}
	idc := claimsOf(t, first.IDToken)
	for _, c := range []map[string]any{first.IDTokenClaims, idc} {
		if c["oid"] != alice.ObjectID || c["tid"] != entratest.DemoTenantID || c["nonce"] != au.Nonce || c["aud"] != entratest.DemoClientID {
			t.Errorf("ID token claims: %v", c)
		}
		if roles, _ := c["roles"].([]any); !slices.Contains(roles, any("DemoApp.Admin")) {
			t.Errorf("ID token roles = %v, want DemoApp.Admin", c["roles"])
		}
	}
	if c := claimsOf(t, first.AccessToken); c["aud"] != entratest.GraphAppID || c["oid"] != alice.ObjectID {
		t.Errorf("Graph access token claims: %v", c)
	}
	if exp, err := time.Parse(time.RFC3339, first.ExpiresOn); err != nil || time.Until(exp) < 30*time.Minute {
		t.Errorf("expiresOn = %q (%v): MSAL Node must see a token of about an hour", first.ExpiresOn, err)
	}

	// The same scopes again come from MSAL Node's cache.
	tokenCalls = srv.Calls(entratest.EndpointToken)
	again := d.result("silent")
	if !again.FromCache || again.AccessToken != first.AccessToken || srv.Calls(entratest.EndpointToken) != tokenCalls {
		t.Errorf("silent call: fromCache %v, same token %v, token calls +%d; want a cache hit",
			again.FromCache, again.AccessToken == first.AccessToken, srv.Calls(entratest.EndpointToken)-tokenCalls)
	}

	// Another resource: MSAL Node must use the refresh token.
	apiTok := d.result("silentAPI")
	if n := srv.Calls(entratest.EndpointToken) - tokenCalls; apiTok.FromCache || n != 1 {
		t.Errorf("silent call for the API: fromCache %v, token calls +%d; want one refresh", apiTok.FromCache, n)
	}
	c := claimsOf(t, apiTok.AccessToken)
	if c["aud"] != entratest.DemoClientID || c["scp"] != "access_as_user" || c["oid"] != alice.ObjectID {
		t.Errorf("API token claims: %v", c)
	}
	if apiTok.Account == nil || apiTok.Account.HomeAccountID != alice.ObjectID+"."+entratest.DemoTenantID {
		t.Errorf("API token account = %+v", apiTok.Account)
	}

	// A replayed code is refused and revokes what it issued, so the next
	// refresh needs the user again.
	if e := d.failure("replay"); e.ErrorNo != "54005" || e.ErrorCode != "invalid_grant" {
		t.Errorf("replayed code: %+v, want invalid_grant 54005", e)
	}
	if e := d.failure("silentAfterReplay"); e.ErrorNo != "50173" || e.Name != "InteractionRequiredAuthError" {
		t.Errorf("refresh after the replay: %+v, want InteractionRequiredAuthError 50173", e)
	}
	d.finish()
}

func TestMSALNodeClientCredentialsSecret(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	d := startNode(t, srv, map[string]any{
		"scenario":     "clientcredentials",
		"clientSecret": entratest.DemoClientSecret,
		"scopes":       []string{"https://graph.microsoft.com/.default"},
	})
	tokenCalls := srv.Calls(entratest.EndpointToken)
	first := d.result("first")
	c := claimsOf(t, first.AccessToken)
	if c["aud"] != entratest.GraphAppID || c["idtyp"] != "app" || c["appid"] != entratest.DemoClientID || c["tid"] != entratest.DemoTenantID {
		t.Errorf("app token claims: %v", c)
	}
	if roles, _ := c["roles"].([]any); !slices.Contains(roles, any("User.Read.All")) {
		t.Errorf("roles = %v, want User.Read.All", c["roles"])
	}
	if first.FromCache || srv.Calls(entratest.EndpointToken)-tokenCalls != 1 {
		t.Errorf("first app token: fromCache %v, token calls +%d", first.FromCache, srv.Calls(entratest.EndpointToken)-tokenCalls)
	}
	second := d.result("second")
	if !second.FromCache || second.AccessToken != first.AccessToken || srv.Calls(entratest.EndpointToken)-tokenCalls != 1 {
		t.Errorf("second app token: fromCache %v, token calls +%d; want a cache hit", second.FromCache, srv.Calls(entratest.EndpointToken)-tokenCalls)
	}
	d.finish()
}

func TestMSALNodeWrongSecret(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	d := startNode(t, srv, map[string]any{
		"scenario":     "clientcredentials",
		"clientSecret": "wrong-secret-value",
		"scopes":       []string{"https://graph.microsoft.com/.default"},
	})
	for _, step := range []string{"first", "second"} {
		e := d.failure(step)
		if e.Name != "ServerError" || e.ErrorNo != "7000215" || e.ErrorCode != "invalid_client" || !strings.Contains(e.Message, "AADSTS7000215") {
			t.Errorf("%s: %+v, want a ServerError invalid_client 7000215", step, e)
		}
		// The platform puts the client's request id in its error, so that
		// a support case can be traced from the client's logs.
		if e.CorrelationID == "" || !strings.Contains(e.Message, "Correlation ID: "+e.CorrelationID) {
			t.Errorf("%s: the error does not carry MSAL Node's client-request-id %q: %s", step, e.CorrelationID, e.Message)
		}
	}
	d.finish()
}

func TestMSALNodeClientCredentialsCertificate(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cert, key, certPEM := newCert(t)
	if err := srv.Update(func(c *entratest.Config) {
		c.Tenants[0].Apps[0].Certificates = append(c.Tenants[0].Apps[0].Certificates, certPEM)
	}); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	sum := sha256.Sum256(cert.Raw)
	scopes := []string{"api://" + entratest.DemoClientID + "/.default"}

	for _, x5c := range []bool{false, true} {
		cred := map[string]any{"thumbprintSha256": hex.EncodeToString(sum[:]), "privateKey": keyPEM}
		if x5c {
			cred["x5c"] = certPEM
		}
		d := startNode(t, srv, map[string]any{"scenario": "clientcredentials", "certificate": cred, "scopes": scopes})
		res := d.result("first")
		c := claimsOf(t, res.AccessToken)
		if c["aud"] != entratest.DemoClientID || c["azpacr"] != "2" || c["idtyp"] != "app" || c["azp"] != entratest.DemoClientID {
			t.Errorf("app token claims (x5c %v): %v", x5c, c)
		}
		if again := d.result("second"); !again.FromCache {
			t.Errorf("second app token (x5c %v) was not served from MSAL Node's cache", x5c)
		}
		d.finish()
	}

	// A certificate the app does not know is refused with AADSTS700027.
	other, otherKey, _ := newCert(t)
	der, err = x509.MarshalPKCS8PrivateKey(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	sum = sha256.Sum256(other.Raw)
	d := startNode(t, srv, map[string]any{"scenario": "clientcredentials", "scopes": scopes, "certificate": map[string]any{
		"thumbprintSha256": hex.EncodeToString(sum[:]),
		"privateKey":       string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}})
	if e := d.failure("first"); e.ErrorNo != "700027" || e.ErrorCode != "invalid_client" {
		t.Errorf("unregistered certificate: %+v, want invalid_client 700027", e)
	}
	d.failure("second")
	d.finish()
}
