// Package static holds the CSS and JavaScript embedded in the binary (htmx 2 and its WebSocket
// extension, vendored from npm, plus the admin stylesheet and script) and serves them under content-hashed
// URLs, so browsers may cache them forever and still see every change.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"
)

//go:embed *.css *.js
var files embed.FS

// Prefix is the URL path under which assets are served.
const Prefix = "/static/"

// Assets maps file names to their hashed URLs and back.
type Assets struct {
	byName   map[string]*asset
	byHashed map[string]*asset
}

type asset struct {
	hashed      string
	body        []byte
	contentType string
}

// Asset file names, for callers that build pages.
const (
	CSS    = "admin.css"
	HTMX   = "htmx.min.js"
	HTMXWS = "htmx-ext-ws.min.js"
	// JS is the admin pages' own small script (copy buttons, the model filter).
	JS = "admin.js"
)

// New reads and hashes the embedded files.
func New() (*Assets, error) {
	a := &Assets{byName: map[string]*asset{}, byHashed: map[string]*asset{}}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	for _, e := range entries {
		body, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, fmt.Errorf("static: %w", err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		hashed := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		as := &asset{hashed: hashed, body: body, contentType: ct}
		a.byName[e.Name()] = as
		a.byHashed[hashed] = as
	}
	return a, nil
}

// URL returns the content-hashed URL of a file, e.g. "htmx.min.js" → "/static/htmx.min.1a2b3c4d5e.js".
// An unknown name gives its plain URL, which will answer 404.
func (a *Assets) URL(name string) string {
	if as, ok := a.byName[name]; ok {
		return Prefix + as.hashed
	}
	return Prefix + name
}

// Lookup returns the file served at Prefix+hashedName. Only hashed names are served, so every
// response may be cached forever.
func (a *Assets) Lookup(hashedName string) (body []byte, contentType string, ok bool) {
	as, ok := a.byHashed[hashedName]
	if !ok {
		return nil, "", false
	}
	return as.body, as.contentType, true
}
