package routes

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// decodeBody undoes a request's Content-Encoding once, for every route, before any handler reads
// the body: gzip, deflate and br are inflated to at most MaxBodySize (413 beyond), the body is
// replaced by the result and the header removed. fiber's c.Body() (and fasthttp's multipart
// parser) would otherwise inflate a compressed body without any bound on every call — the body
// limit only ever saw the compressed bytes, so a 1 MB gzip could become gigabytes in memory and
// upstream. Other codings, and chains of codings no client sends, get 415.
func (s *server) decodeBody(c *fiber.Ctx) error {
	h := &c.Request().Header
	values := h.PeekAll(fiber.HeaderContentEncoding)
	if len(values) == 0 {
		return c.Next()
	}
	coding := string(bytes.Join(values, []byte(",")))
	body, err := inflateBody(c.Request().Body(), coding, MaxBodySize)
	if err != nil {
		return err
	}
	h.Del(fiber.HeaderContentEncoding)
	c.Request().SetBodyRaw(body)
	return c.Next()
}

// inflateBody decodes body as Content-Encoding coding (a comma-separated list; "identity" entries
// count for nothing) into at most limit bytes. Its errors are *providers.Error: 413 past the
// limit, 415 for a coding it does not know or more than one, 400 for bytes that are not what the
// coding says.
func inflateBody(body []byte, coding string, limit int) ([]byte, error) {
	var codings []string
	for _, c := range strings.Split(coding, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "" && c != "identity" {
			codings = append(codings, c)
		}
	}
	switch {
	case len(codings) == 0:
		return body, nil
	case len(codings) > 1:
		return nil, unsupportedCoding(coding)
	}
	if len(body) == 0 {
		return body, nil
	}
	var (
		r   io.Reader
		err error
	)
	switch codings[0] {
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(body))
	case "deflate":
		// HTTP's deflate is zlib-wrapped (RFC 9110 §8.4.1.2); some clients send the raw stream.
		if zlibHeader(body) {
			r, err = zlib.NewReader(bytes.NewReader(body))
		} else {
			r = flate.NewReader(bytes.NewReader(body))
		}
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		return nil, unsupportedCoding(coding)
	}
	if err != nil {
		return nil, badCoding(codings[0], err)
	}
	var out bytes.Buffer
	out.Grow(min(limit, 4*len(body)) + 1)
	n, err := out.ReadFrom(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, badCoding(codings[0], err)
	}
	if n > int64(limit) {
		return nil, &gateway.Refusal{Kind: providers.KindTooLarge, Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("request body is larger than the %d MB limit once decompressed", limit>>20)}
	}
	return out.Bytes(), nil
}

// zlibHeader reports whether b starts with a zlib header (deflate method, valid check bits).
func zlibHeader(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

func unsupportedCoding(coding string) error {
	return &gateway.Refusal{Kind: providers.KindBadRequest, Status: http.StatusUnsupportedMediaType,
		Message: fmt.Sprintf("Content-Encoding %q is not supported; send the body uncompressed, or as gzip, deflate or br", coding)}
}

func badCoding(coding string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("it ends early")
	}
	return &gateway.Refusal{Kind: providers.KindBadRequest, Status: http.StatusBadRequest,
		Message: fmt.Sprintf("request body is not valid %s: %v", coding, err)}
}
