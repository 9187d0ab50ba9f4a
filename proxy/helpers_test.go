package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
)

const (
	alice = "alice@" + entratest.DemoTenantDomain
	bob   = "bob@" + entratest.DemoTenantDomain
	carol = "carol@" + entratest.DemoTenantDomain
	dave  = "dave@" + entratest.DemoTenantDomain
	gina  = "gina@" + entratest.DemoTenantDomain
)

var staffGroup = entratest.StableID("group:staff")

// newEmulator starts the emulator with the proxy's redirect URIs
// registered on the demo app, as an administrator would register them.
func newEmulator(t testing.TB) *entratest.Server {
	t.Helper()
	cfg := entratest.Default()
	app := &cfg.Tenants[0].Apps[0]
	app.RedirectURIs = append(app.RedirectURIs, "http://127.0.0.1"+proxy.CallbackPath)
	app.PostLogoutRedirectURIs = append(app.PostLogoutRedirectURIs, "http://127.0.0.1"+proxy.SignedOutPath)
	// gina is in 150 groups: few enough for a token, too many for one
	// header line.
	gina := entratest.User{DisplayName: "Gina Groups", Username: gina, Password: entratest.DemoPassword,
		AppRoles: map[string][]string{entratest.DemoClientID: {"DemoApp.Read"}}}
	for _, g := range cfg.Tenants[0].Groups[:150] {
		gina.Groups = append(gina.Groups, g.ID)
	}
	cfg.Tenants[0].Users = append(cfg.Tenants[0].Users, gina)
	return entratest.NewServer(t, &entratest.Options{Config: cfg})
}

// seen is what the echo upstream received.
type seen struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	RawPath string      `json:"raw_path"`
	Host    string      `json:"host"`
	Header  http.Header `json:"header"`
}

// slowChunks is how many 64 KB parts /slow sends, 50ms apart.
const slowChunks = 20

// upstream is an app behind the proxy: it echoes what it received as
// JSON, and serves a WebSocket echo at /ws, an event stream at /events, a
// chunked stream at /chunks, a download
// that takes a second at /slow, and an endless body (a terabyte, said to
// be) at /big.
type upstream struct {
	*httptest.Server
	// release lets /events and /chunks send their second part.
	release map[string]chan struct{}
	// bigEnded is closed when /big stops writing: its client is gone.
	bigEnded chan struct{}
}

func newUpstream(t testing.TB) *upstream {
	t.Helper()
	up := &upstream{release: map[string]chan struct{}{"/events": make(chan struct{}), "/chunks": make(chan struct{})}, bigEnded: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", wsEcho)
	stream := func(contentType, first, second string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, first)
			w.(http.Flusher).Flush()
			select {
			case <-up.release[r.URL.Path]:
			case <-r.Context().Done():
				return
			}
			fmt.Fprint(w, second)
		}
	}
	mux.HandleFunc("/events", stream("text/event-stream", "data: one\n\n", "data: two\n\n"))
	mux.HandleFunc("/chunks", stream("text/plain", "part one\n", "part two\n"))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		w.Header().Set("Content-Length", fmt.Sprint(slowChunks*len(chunk)))
		for range slowChunks {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond)
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		defer close(up.bigEnded)
		// A length, so that ReverseProxy copies without flushing: only the
		// deadline of each write can notice a client that reads nothing.
		w.Header().Set("Content-Length", "1099511627776")
		chunk := make([]byte, 256<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/set-cookies", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "entraweb_session", Value: "planted", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "__Host-entraweb_session", Value: "planted", Path: "/", Secure: true})
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", Path: "/"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Host: r.Host, Header: r.Header})
	})
	up.Server = httptest.NewServer(mux)
	t.Cleanup(up.Close)
	return up
}

func testEntraConfig(srv *entratest.Server, logger *slog.Logger) entraweb.Config {
	return entraweb.Config{
		Instance:     srv.URL + "/",
		TenantID:     entratest.DemoTenantID,
		ClientID:     entratest.DemoClientID,
		ClientSecret: entratest.DemoClientSecret,
		HTTPClient:   srv.Client(),
		GraphURL:     srv.GraphURL(),
		Session:      entraweb.SessionConfig{Store: "memory"},
		Logger:       logger,
	}
}

// env is an emulator, an upstream and the proxy between them.
type env struct {
	srv   *entratest.Server
	up    *upstream
	h     *proxy.Handler
	proxy *httptest.Server
	url   string
	logs  *syncBuffer
}

// newEnv starts the three; mod adjusts the proxy's configuration.
func newEnv(t testing.TB, mod func(*proxy.Config)) *env {
	t.Helper()
	e := &env{srv: newEmulator(t), up: newUpstream(t), logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := proxy.Config{Entra: testEntraConfig(e.srv, logger), Upstream: e.up.URL, AccessLog: true}
	if mod != nil {
		mod(&cfg)
	}
	h, err := proxy.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	e.h = h
	e.proxy = httptest.NewServer(h)
	t.Cleanup(e.proxy.Close)
	e.url = e.proxy.URL
	return e
}

// signIn signs username in through the proxy's /.auth/login/aad and its
// callback, as a browser would, and returns the browser.
func (e *env) signIn(t testing.TB, username string) *entratest.Browser {
	t.Helper()
	b := e.srv.Browser()
	resp, body, err := b.Visit(context.Background(), e.url+"/.auth/login/aad?post_login_redirect_uri=/.auth/me", username, entratest.DemoPassword)
	if err != nil {
		t.Fatalf("signing %s in: %v", username, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/.auth/me" || !strings.Contains(body, `"user_id":"`+username+`"`) {
		t.Fatalf("signing %s in ended at %s with %d: %.300s", username, resp.Request.URL, resp.StatusCode, body)
	}
	return b
}

// client is a client with the browser's cookies (or none) that does not
// follow redirects.
func client(b *entratest.Browser) *http.Client {
	c := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if b != nil {
		c.Jar = b.AppClient().Jar
	} else {
		c.Jar, _ = cookiejar.New(nil)
	}
	return c
}

// do sends a request with headers given as name, value pairs.
func do(t *testing.T, c *http.Client, method, u string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// fetch is a script's request (fetch or XHR), which must never be
// redirected to a sign-in page.
var fetchHeaders = []string{"Sec-Fetch-Mode", "cors", "Accept", "*/*"}

// navigation is a browser loading a page.
var navigationHeaders = []string{"Sec-Fetch-Mode", "navigate", "Accept", "text/html"}

// echoed decodes what the echo upstream received.
func echoed(t *testing.T, resp *http.Response, body []byte) seen {
	t.Helper()
	var s seen
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &s) != nil || s.Header == nil {
		t.Fatalf("the upstream's echo was expected, got %d: %.400s", resp.StatusCode, body)
	}
	return s
}

// principal decodes X-MS-CLIENT-PRINCIPAL as App Service's documented C#
// sample does: standard base64, then UTF-8 JSON.
func principal(t *testing.T, h http.Header) proxy.ClientPrincipal {
	t.Helper()
	raw := h.Get("X-Ms-Client-Principal")
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		t.Fatalf("X-MS-CLIENT-PRINCIPAL %q is not standard base64: %v", raw, err)
	}
	var p proxy.ClientPrincipal
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("X-MS-CLIENT-PRINCIPAL is not the documented JSON: %v\n%s", err, b)
	}
	return p
}

// claimVals lists the values of the claims of type typ.
func claimVals(cs []proxy.Claim, typ string) []string {
	var out []string
	for _, c := range cs {
		if c.Typ == typ {
			out = append(out, c.Val)
		}
	}
	return out
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A minimal WebSocket (RFC 6455), enough for an echo: the handshake and
// unfragmented text frames under 126 bytes.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func wsAccept(key string) string {
	sum := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// wsEcho is the upstream's WebSocket: it greets with the user's name from
// X-MS-CLIENT-PRINCIPAL-NAME, then echoes every frame.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "websocket only", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", wsAccept(r.Header.Get("Sec-WebSocket-Key")))
	brw.Flush()
	wsWrite(conn, "hello "+r.Header.Get("X-Ms-Client-Principal-Name"), false)
	for {
		msg, err := wsRead(brw.Reader)
		if err != nil {
			return
		}
		wsWrite(conn, msg, false)
	}
}

func wsWrite(w io.Writer, msg string, masked bool) error {
	if len(msg) > 125 {
		return errors.New("message too long for this test's frames")
	}
	frame := []byte{0x81, byte(len(msg))}
	payload := []byte(msg)
	if masked {
		var key [4]byte
		rand.Read(key[:])
		frame[1] |= 0x80
		frame = append(frame, key[:]...)
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	_, err := w.Write(append(frame, payload...))
	return err
}

func wsRead(r *bufio.Reader) (string, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", err
	}
	if hdr[0] != 0x81 {
		return "", fmt.Errorf("frame type %#x", hdr[0])
	}
	n := int(hdr[1] & 0x7f)
	var key [4]byte
	masked := hdr[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return "", err
		}
	}
	if n > 125 {
		return "", errors.New("long frame")
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return "", err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return string(payload), nil
}

// wsDial opens a WebSocket through the proxy with the browser's cookies
// and the given Origin ("" for none), returning the handshake's answer
// and, on 101, the connection.
func wsDial(t *testing.T, base, path string, jar http.CookieJar, origin string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	u, _ := url.Parse(base + path)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	var key [16]byte
	rand.Read(key[:])
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key[:]))
	req.Header.Set("Sec-Fetch-Mode", "websocket")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if jar != nil {
		for _, c := range jar.Cookies(u) {
			req.AddCookie(c)
		}
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, nil, nil
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), wsAccept(req.Header.Get("Sec-WebSocket-Key")); got != want {
		t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	return resp, conn, br
}
