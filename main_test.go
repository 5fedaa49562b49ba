package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

var listeningLine = regexp.MustCompile(`listening on (https?://\S+)`)

// output is run's stdout; it reports the "listening on" URL as soon as it is printed.
type output struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	listening chan string
}

func newOutput() *output { return &output{listening: make(chan string, 1)} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	had := listeningLine.MatchString(o.buf.String())
	o.buf.Write(p)
	if m := listeningLine.FindStringSubmatch(o.buf.String()); m != nil && !had {
		o.listening <- m[1]
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// server is the whole program started through run.
type server struct {
	url  string
	out  *output
	stop func() error
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// start runs the program with args until the test ends (or stop is called) and waits until it
// listens. It fails the test if run returns first.
func start(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := newOutput()
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"ai-gateway"}, args...), envOf(env), out) }()
	var s *server
	select {
	case u := <-out.listening:
		var once sync.Once
		var runErr error
		stop := func() error {
			once.Do(func() {
				cancel()
				runErr = <-done
			})
			return runErr
		}
		s = &server{url: u, out: out, stop: stop}
		t.Cleanup(func() { stop() })
	case err := <-done:
		cancel()
		t.Fatalf("run returned before listening: %v\noutput:\n%s", err, out.String())
	}
	return s
}

// runCmd runs the program once (a subcommand or -version) and returns its output.
func runCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	out := newOutput()
	err := run(context.Background(), append([]string{"ai-gateway"}, args...), envOf(env), out)
	return out.String(), err
}

var passwordLine = regexp.MustCompile(`(?m)^  password: (\S+)$`)

func noRedirects() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login goes through the login form with a fresh browser and returns the POST's response and
// the browser (holding the session cookie on success).
func login(t *testing.T, client *http.Client, base, user, pass string) *http.Response {
	t.Helper()
	resp, err := client.Get(base + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	token := doc.Find(`form[data-testid="login-form"] input[name="csrf_token"]`).AttrOr("value", "")
	if token == "" {
		t.Fatal("login page has no CSRF token")
	}
	resp, err = client.PostForm(base+"/admin/login", url.Values{"username": {user}, "password": {pass}, "csrf_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestFirstAndSecondLaunch(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	args := []string{"-config", cfgPath, "-host", "127.0.0.1", "-port", "0"}

	first := start(t, nil, args...)
	out := first.out.String()
	for _, want := range []string{
		"AI Gateway first launch:", "wrote config        " + cfgPath, "created database    " + filepath.Join(dir, "data", "gateway.db"),
		"created master key  " + filepath.Join(dir, "data", "master.key") + " (mode 0600)", "  username: admin",
		"Admin UI: http://127.0.0.1:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first launch output lacks %q:\n%s", want, out)
		}
	}
	m := passwordLine.FindAllStringSubmatch(out, -1)
	if len(m) != 1 || len(m[0][1]) < 20 {
		t.Fatalf("want the admin password (≥ 20 chars) printed exactly once:\n%s", out)
	}
	password := m[0][1]

	if got := mode(t, filepath.Join(dir, "data", "master.key")); got != 0o600 {
		t.Errorf("master.key mode %o, want 600", got)
	}
	if got := mode(t, cfgPath); got != 0o600 {
		t.Errorf("config.yaml mode %o, want 600", got)
	}
	cfgText, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(cfgText), "port: 8090") {
		t.Error("flags were written into the config file")
	}

	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(first.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	if resp := login(t, noRedirects(), first.url, "admin", password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the printed password: %d", resp.StatusCode)
	}
	if err := first.stop(); err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
	if !strings.Contains(first.out.String(), "stopped") {
		t.Error("no orderly shutdown")
	}

	second := start(t, nil, args...)
	out2 := second.out.String()
	key, _ := os.ReadFile(filepath.Join(dir, "data", "master.key"))
	for _, secret := range []string{password, "password:", "first launch", strings.TrimSpace(string(key))} {
		if strings.Contains(out2, secret) {
			t.Errorf("second launch printed %q:\n%s", secret, out2)
		}
	}
	if resp := login(t, noRedirects(), second.url, "admin", password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the first password stopped working: %d", resp.StatusCode)
	}
}

func TestFlagsBeatEnvBeatFile(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("server:\n  host: 203.0.113.7\n  port: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Env beats the file (the file's TEST-NET address cannot be bound).
	s := start(t, map[string]string{"AIGW_SERVER_HOST": "127.0.0.1", "AIGW_SERVER_PORT": "0"}, "-config", cfgPath)
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") {
		t.Errorf("env did not beat the file: %s", s.url)
	}
	s.stop()

	// Flags beat env: the env port is taken, the flag's is free.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	env := map[string]string{"AIGW_SERVER_HOST": "203.0.113.7", "AIGW_SERVER_PORT": strconv.Itoa(busyPort)}
	s = start(t, env, "-config", cfgPath, "-host", "127.0.0.1", "-port", "0")
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") || strings.HasSuffix(s.url, ":"+strconv.Itoa(busyPort)) {
		t.Errorf("flags did not beat env: %s", s.url)
	}
	// Without the flags the env port is used — and is busy.
	if _, err := runCmd(t, map[string]string{"AIGW_SERVER_HOST": "127.0.0.1", "AIGW_SERVER_PORT": strconv.Itoa(busyPort)}, "-config", cfgPath); err == nil ||
		!strings.Contains(err.Error(), "listen on 127.0.0.1:"+strconv.Itoa(busyPort)) {
		t.Errorf("busy env port: %v", err)
	}
}

func TestAdminCommandsWhileServing(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	s := start(t, nil, "-config", cfgPath, "-host", "127.0.0.1", "-port", "0")
	oldPassword := passwordLine.FindStringSubmatch(s.out.String())[1]
	browser := noRedirects()
	if resp := login(t, browser, s.url, "admin", oldPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}

	out, err := runCmd(t, nil, "admin", "reset-password", "-config", cfgPath)
	if err != nil {
		t.Fatalf("reset-password while serving: %v", err)
	}
	lines := strings.Split(out, "\n")
	newPassword := lines[1]
	if !strings.HasPrefix(out, "New password for admin (shown only this once") || len(newPassword) < 20 {
		t.Fatalf("reset-password output:\n%s", out)
	}
	if resp := login(t, noRedirects(), s.url, "admin", oldPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password after reset: %d", resp.StatusCode)
	}
	resp, err := browser.Get(s.url + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a session from before the reset still works: %d", resp.StatusCode)
	}
	if resp := login(t, noRedirects(), s.url, "admin", newPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("new password: %d", resp.StatusCode)
	}

	// Global flags before the subcommand work too.
	out, err = runCmd(t, nil, "-config", cfgPath, "admin", "token", "create", "--name", "ci")
	if err != nil {
		t.Fatalf("token create while serving: %v", err)
	}
	token := regexp.MustCompile(`(?m)^aigw_\w+$`).FindString(out)
	if token == "" || !strings.Contains(out, `Admin API token "ci"`) {
		t.Fatalf("token create output:\n%s", out)
	}
	req, _ := http.NewRequest("POST", s.url+"/admin/api/v1/clients", strings.NewReader(`{"name":"app","backend":"openai","upstream_key":"sk-live-upstream-secret"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create a client with the CLI token: %d", resp.StatusCode)
	}

	out, err = runCmd(t, nil, "migrate", "-config", cfgPath)
	shared, _ := filepath.Glob("migrations/*.up.sql")
	own, _ := filepath.Glob("migrations/sqlite/*.up.sql")
	ups := append(shared, own...)
	if err != nil || !strings.Contains(out, fmt.Sprintf("is up to date (%d migrations applied)", len(ups))) || len(ups) == 0 {
		t.Fatalf("migrate while serving: %v\n%s", err, out)
	}

	if strings.Contains(s.out.String(), "sk-live-upstream-secret") || strings.Contains(s.out.String(), token) {
		t.Error("a secret reached the server log")
	}
}

func TestCommandErrors(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown command", nil, []string{"-config", cfgPath, "frobnicate"}, `unknown command "frobnicate"`},
		{"unknown admin command", nil, []string{"-config", cfgPath, "admin", "token", "delete"}, `unknown command "admin token delete"`},
		{"token without name", nil, []string{"admin", "token", "create", "-config", cfgPath}, "--name is required"},
		{"unknown flag", nil, []string{"-prot", "1"}, "flag provided but not defined: -prot"},
		{"bad port flag", nil, []string{"-config", cfgPath, "-port", "70000"}, "server.port: 70000 is not a valid port"},
		{"https without files", map[string]string{"AIGW_SERVER_HTTPS_ENABLED": "true"}, []string{"-config", cfgPath, "-port", "0"},
			"server.https.enabled is true but server.https.cert_file is not set"},
		{"bad env", map[string]string{"AIGW_SERVER_PORT": "eighty"}, []string{"-config", cfgPath}, `AIGW_SERVER_PORT: "eighty" is not an integer`},
		{"bad master key", map[string]string{"AIGW_MASTER_KEY": "short"}, []string{"-config", cfgPath, "-port", "0", "-host", "127.0.0.1"}, "AIGW_MASTER_KEY: not a valid master key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCmd(t, tt.env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("server:\n  port: 8090\n  host: a: b\n"), 0o600)
	if _, err := runCmd(t, nil, "-config", bad); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad yaml: %v", err)
	}
}

func TestVersion(t *testing.T) {
	out, err := runCmd(t, nil, "-version")
	if err != nil || out != "ai-gateway dev (commit unknown, built unknown)\n" {
		t.Errorf("-version = %q, %v", out, err)
	}
	out, err = runCmd(t, nil, "-h")
	if err != nil || !strings.Contains(out, "admin token create --name NAME") || !strings.Contains(out, "-config") {
		t.Errorf("-h = %q, %v", out, err)
	}
}

func TestMasterKeyFromEnvWritesNoFile(t *testing.T) {
	dir := t.TempDir()
	key := strings.Repeat("ab", 32)
	s := start(t, map[string]string{"AIGW_MASTER_KEY": key}, "-config", filepath.Join(dir, "config.yaml"), "-host", "127.0.0.1", "-port", "0")
	if _, err := os.Stat(filepath.Join(dir, "data", "master.key")); !errors.Is(err, os.ErrNotExist) {
		t.Error("master.key written although AIGW_MASTER_KEY is set")
	}
	if strings.Contains(s.out.String(), key) || strings.Contains(s.out.String(), "created master key") {
		t.Errorf("output:\n%s", s.out.String())
	}
}

func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	env := map[string]string{"AIGW_SERVER_HTTPS_ENABLED": "true", "AIGW_SERVER_HTTPS_CERT_FILE": certFile, "AIGW_SERVER_HTTPS_KEY_FILE": keyFile}
	s := start(t, env, "-config", filepath.Join(dir, "config.yaml"), "-host", "127.0.0.1", "-port", "0")
	if !strings.HasPrefix(s.url, "https://127.0.0.1:") {
		t.Fatalf("url %s", s.url)
	}
	client := noRedirects()
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	resp, err := client.Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("https healthz: %d HSTS=%q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	password := passwordLine.FindStringSubmatch(s.out.String())[1]
	resp = login(t, client, s.url, "admin", password)
	secure := false
	for _, c := range resp.Cookies() {
		secure = secure || (c.Name == "aigw_session" && c.Secure)
	}
	if resp.StatusCode != http.StatusSeeOther || !secure {
		t.Errorf("login over https: %d, Secure session cookie %v", resp.StatusCode, secure)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and returns its files and a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// Cancelling right after start (before the serving goroutine may even have run) must still stop.
func TestStopRightAfterStart(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	for range 20 {
		s := start(t, nil, "-config", cfgPath, "-host", "127.0.0.1", "-port", "0")
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// The README documents every setting, every subcommand and the commands a newcomer needs.
func TestReadmeDocumentsConfiguration(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, env := range append(gateway.EnvKeys(), "AIGW_MASTER_KEY") {
		if !strings.Contains(readme, "`"+env+"`") {
			t.Errorf("README does not document %s", env)
		}
	}
	for _, cmd := range []string{"go run .", "go test ./...", "`go run . admin reset-password`", "`ai-gateway admin reset-password`"} {
		if !strings.Contains(readme, cmd) {
			t.Errorf("README lacks %q", cmd)
		}
	}
	for _, sc := range subcommands() {
		if line := "ai-gateway " + strings.TrimSpace(sc.words+" "+sc.flags); !strings.Contains(readme, line) {
			t.Errorf("README's command line section lacks %q", line)
		}
	}
}

// Every backend the admin API accepts (SPEC §5) has a provider, and builds.
func TestProviderFactoriesCoverEveryBackend(t *testing.T) {
	f := providerFactories()
	for _, b := range []string{"gemini", "openai", "anthropic", "mistral", "perplexity", "xai", "cohere", "azure",
		"ollama", "lmstudio", "openai-compatible"} {
		factory, ok := f[b]
		if !ok {
			t.Errorf("no provider for backend %s", b)
			continue
		}
		p, err := factory(providers.Config{Backend: b, BaseURL: "https://upstream.example/v1", APIKey: "k",
			AzureAPIVersion: "2024-10-21", HTTPClient: providers.NewHTTPClient()})
		if err != nil || p == nil {
			t.Errorf("backend %s: %v", b, err)
		}
	}
	if c := providers.NewHTTPClient(); c.Timeout != 0 {
		t.Errorf("upstream client has a total timeout (%v): long streams would be cut", c.Timeout)
	}
}
