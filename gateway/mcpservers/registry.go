// Package mcpservers is the gateway's side of MCP (SPEC §18): the registry of MCP servers
// (Streamable HTTP ones registered by an administrator, stdio ones from config.yaml), their
// cached tool lists, and tool calls through the official Go SDK with a timeout and a size cap.
// Tools are named server__tool wherever the gateway shows them (to the model, on /mcp).
package mcpservers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aigateway/ai-gateway/db"
)

// Separator joins a server's name and its tool's name.
const Separator = "__"

// Store is where Streamable HTTP servers are registered (db.MCPServers).
type Store interface {
	List(ctx context.Context) ([]db.MCPServer, error)
	SetTools(ctx context.Context, id int64, tools []db.MCPTool, at time.Time) error
}

// Decrypter opens sealed headers (db.Keyring).
type Decrypter interface {
	Decrypt(ciphertext []byte) (string, error)
}

// Stdio is an MCP server run as a child process (mcp.stdio in config.yaml).
type Stdio struct {
	Name    string
	Command string
	Args    []string
	Env     map[string]string
}

// Options are the registry's dependencies and settings.
type Options struct {
	// Store lists the registered HTTP servers; nil means none.
	Store Store
	// Secrets opens their headers; required when one has headers.
	Secrets Decrypter
	// Stdio are the servers from config.yaml.
	Stdio []Stdio
	// ToolTimeout bounds one tool call, and connecting to a server (default 30s).
	ToolTimeout time.Duration
	// MaxResultBytes caps one result's text (default 64 KiB).
	MaxResultBytes int
	// AllowPrivate lets server URLs reach loopback, private and link-local addresses.
	AllowPrivate bool
	Logger       *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Registry holds the MCP servers and one open session to each that was used.
type Registry struct {
	opts   Options
	client *mcp.Client
	http   *http.Client

	mu      sync.Mutex
	servers map[string]*server
}

// server is one MCP server and its open session, if any.
type server struct {
	id      int64 // 0 for a stdio server
	name    string
	url     string
	headers map[string]string
	stdio   *Stdio

	mu      sync.Mutex // guards what follows, and connecting
	tools   []db.MCPTool
	fetched time.Time
	session *mcp.ClientSession
	// listFailed is when listing the tools last failed, and listErr why: requests do not wait
	// on a server that is down for another listRetry.
	listFailed time.Time
	listErr    error
}

// listRetry is how long a server whose tool list could not be fetched is left out of requests
// (or keeps its older list) before it is asked again; the admin's Test asks at once. toolsTTL is
// how long a fetched list is used before the server is asked again, so tools it adds or removes
// reach the model.
const (
	listRetry = time.Minute
	toolsTTL  = 5 * time.Minute
)

// Tool is one tool as the gateway offers it.
type Tool struct {
	// Name is server__tool.
	Name        string
	Server      string
	Description string
	// InputSchema is the tool's JSON Schema for its arguments, always of type "object".
	InputSchema json.RawMessage
}

// Server describes one server for the admin pages.
type Server struct {
	Name string
	// URL is empty for a stdio server; Command is its command, without its arguments.
	URL, Command string
	Tools        []db.MCPTool
	FetchedAt    time.Time
}

// New builds a registry; Reload reads the registered servers.
func New(opts Options) *Registry {
	if opts.ToolTimeout <= 0 {
		opts.ToolTimeout = 30 * time.Second
	}
	if opts.MaxResultBytes <= 0 {
		opts.MaxResultBytes = 64 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dialer := &net.Dialer{Timeout: opts.ToolTimeout, KeepAlive: 30 * time.Second}
	if !opts.AllowPrivate {
		dialer.Control = dialControl
	}
	// No proxy: a proxy would dial for us, past the address check. No total timeout: each
	// call has its own.
	transport := &http.Transport{DialContext: dialer.DialContext, ForceAttemptHTTP2: true,
		MaxIdleConnsPerHost: 8, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: opts.ToolTimeout}
	r := &Registry{
		opts:    opts,
		client:  mcp.NewClient(&mcp.Implementation{Name: "ai-gateway", Version: "1"}, nil),
		http:    &http.Client{Transport: transport},
		servers: map[string]*server{},
	}
	for i := range opts.Stdio {
		s := &opts.Stdio[i]
		r.servers[s.Name] = &server{name: s.Name, stdio: s}
	}
	return r
}

// Reload rereads the registered servers. A server whose URL or headers changed, or that is
// gone, has its session closed; its tools are listed again when next needed.
func (r *Registry) Reload(ctx context.Context) error {
	if r.opts.Store == nil {
		return nil
	}
	rows, err := r.opts.Store.List(ctx)
	if err != nil {
		return err
	}
	next := map[string]*server{}
	for i := range rows {
		row := &rows[i]
		h := map[string]string{}
		if len(row.Headers) > 0 {
			plain, err := r.opts.Secrets.Decrypt(row.Headers)
			if err != nil {
				return fmt.Errorf("mcp server %s: headers: %w", row.Name, err)
			}
			if err := json.Unmarshal([]byte(plain), &h); err != nil {
				return fmt.Errorf("mcp server %s: headers: %w", row.Name, err)
			}
		}
		next[row.Name] = &server{id: row.ID, name: row.Name, url: row.URL, headers: h,
			tools: row.Tools, fetched: row.ToolsFetchedAt}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, old := range r.servers {
		if old.stdio != nil {
			continue
		}
		if n, ok := next[name]; ok && n.url == old.url && maps.Equal(n.headers, old.headers) && n.id == old.id {
			old.mu.Lock()
			if !n.fetched.IsZero() && n.fetched.After(old.fetched) {
				old.tools, old.fetched = n.tools, n.fetched
			}
			old.mu.Unlock()
			next[name] = old
			continue
		}
		old.close()
	}
	for name, s := range r.servers {
		if s.stdio != nil {
			next[name] = s // a stdio server's name wins over a registered one's
		}
	}
	r.servers = next
	return nil
}

// Close ends every session (stdio servers' processes end with theirs).
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.servers {
		s.close()
	}
}

// IsStdio reports whether name is a stdio server from config.yaml.
func (r *Registry) IsStdio(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.servers[name]
	return ok && s.stdio != nil
}

// Servers lists every server by name, for the admin pages.
func (r *Registry) Servers() []Server {
	r.mu.Lock()
	list := slices.Collect(maps.Values(r.servers))
	r.mu.Unlock()
	out := make([]Server, 0, len(list))
	for _, s := range list {
		s.mu.Lock()
		v := Server{Name: s.name, URL: s.url, Tools: s.tools, FetchedAt: s.fetched}
		s.mu.Unlock()
		if s.stdio != nil {
			v.Command = s.stdio.Command // not its arguments: they may carry secrets
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Server) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (r *Registry) lookup(name string) *server {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.servers[name]
}

// Tools lists the tools of the servers named in allowed that exist, sorted by name. A
// server's cached list is used while it is younger than five minutes; else the server is asked
// now (and the list cached). A server that
// cannot be reached is left out and logged: its tools are missing, the request goes on.
func (r *Registry) Tools(ctx context.Context, allowed []string) []Tool {
	var out []Tool
	for _, name := range allowed {
		s := r.lookup(name)
		if s == nil {
			continue
		}
		tools, err := r.toolsOf(ctx, s, false)
		if err != nil {
			r.opts.Logger.Warn("mcp server tool list", "server", name, "error", err.Error())
			continue
		}
		for _, t := range tools {
			q := name + Separator + t.Name
			if !ToolName(q) {
				continue // a name the model APIs would refuse
			}
			out = append(out, Tool{Name: q, Server: name, Description: t.Description, InputSchema: objectSchema(t.InputSchema)})
		}
	}
	slices.SortFunc(out, func(a, b Tool) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// objectSchema is schema when it is a JSON Schema of type "object" (what MCP and the model
// APIs require of a tool's input), else the schema of any object.
func objectSchema(schema json.RawMessage) json.RawMessage {
	var m map[string]any
	if json.Unmarshal(schema, &m) != nil || m["type"] != "object" {
		return json.RawMessage(`{"type":"object","properties":{}}`)
	}
	return schema
}

// Fetch asks the server for its tool list now and caches it: the admin's "test" action.
func (r *Registry) Fetch(ctx context.Context, name string) ([]db.MCPTool, error) {
	s := r.lookup(name)
	if s == nil {
		return nil, fmt.Errorf("no MCP server is called %q", name)
	}
	return r.toolsOf(ctx, s, true)
}

// ToolName reports whether q is a function name every model API accepts.
func ToolName(q string) bool {
	if len(q) == 0 || len(q) > 64 {
		return false
	}
	for _, c := range q {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (r *Registry) toolsOf(ctx context.Context, s *server, fresh bool) ([]db.MCPTool, error) {
	s.mu.Lock()
	now := r.opts.Now()
	cached, fetched, listErr := s.tools, s.fetched, s.listErr
	failedLately := !s.listFailed.IsZero() && now.Sub(s.listFailed) < listRetry
	s.mu.Unlock()
	if !fresh {
		switch {
		case !fetched.IsZero() && (now.Sub(fetched) < toolsTTL || failedLately):
			return cached, nil
		case fetched.IsZero() && failedLately:
			return nil, listErr
		}
	}
	tools, err := r.list(ctx, s)
	at := r.opts.Now().UTC()
	s.mu.Lock()
	if err != nil {
		s.listFailed, s.listErr = at, err
	} else {
		s.tools, s.fetched, s.listFailed, s.listErr = tools, at, time.Time{}, nil
	}
	s.mu.Unlock()
	if err != nil {
		if !fresh && !fetched.IsZero() {
			return cached, nil // a list a little old beats none while the server is away
		}
		return nil, err
	}
	if s.id != 0 && r.opts.Store != nil {
		if err := r.opts.Store.SetTools(context.WithoutCancel(ctx), s.id, tools, at); err != nil {
			r.opts.Logger.Warn("mcp server tool list", "server", s.name, "error", err.Error())
		}
	}
	return tools, nil
}

// list asks the server for its tools, within the tool timeout.
func (r *Registry) list(ctx context.Context, s *server) ([]db.MCPTool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.ToolTimeout)
	defer cancel()
	cs, err := r.session(ctx, s)
	if err != nil {
		return nil, err
	}
	var tools []db.MCPTool
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			s.drop(cs)
			return nil, describe(ctx, err, r.opts.ToolTimeout)
		}
		schema, _ := json.Marshal(t.InputSchema)
		tools = append(tools, db.MCPTool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	return tools, nil
}

// session returns the server's open session, connecting first when there is none.
func (r *Registry) session(ctx context.Context, s *server) (*mcp.ClientSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session != nil {
		return s.session, nil
	}
	var t mcp.Transport
	if s.stdio != nil {
		cmd := exec.Command(s.stdio.Command, s.stdio.Args...)
		cmd.Env = os.Environ()
		for k, v := range s.stdio.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		t = &mcp.CommandTransport{Command: cmd}
	} else {
		if err := CheckURL(ctx, s.url, r.opts.AllowPrivate); err != nil {
			return nil, err
		}
		hc := r.http
		if len(s.headers) > 0 {
			hc = &http.Client{Transport: withHeaders{base: r.http.Transport, headers: s.headers}}
		}
		t = &mcp.StreamableClientTransport{Endpoint: s.url, HTTPClient: hc, DisableStandaloneSSE: true, MaxRetries: -1}
	}
	cs, err := r.client.Connect(ctx, t, nil)
	if err != nil {
		return nil, describe(ctx, fmt.Errorf("connect: %w", err), r.opts.ToolTimeout)
	}
	s.session = cs
	return cs, nil
}

// drop forgets cs if it is still the server's session, so that the next call connects anew.
func (s *server) drop(cs *mcp.ClientSession) {
	s.mu.Lock()
	if s.session == cs {
		s.session = nil
	}
	s.mu.Unlock()
	cs.Close()
}

func (s *server) close() {
	s.mu.Lock()
	cs := s.session
	s.session = nil
	s.mu.Unlock()
	if cs != nil {
		cs.Close()
	}
}

// withHeaders adds a server's configured headers to each of its requests.
type withHeaders struct {
	base    http.RoundTripper
	headers map[string]string
}

func (w withHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range w.headers {
		req.Header.Set(k, v)
	}
	return w.base.RoundTrip(req)
}
