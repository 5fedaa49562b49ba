package gemini

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"strings"
)

// Tool-call ids handed out for Gemini function calls.
//
// Gemini has no tool-call ids of its own (the Developer API rarely sets functionCall.id), but it
// needs two things back on the next turn that OpenAI-shaped clients do not keep: the function
// name on each functionResponse, and the functionCall part's thoughtSignature (Gemini 3 rejects
// a turn whose function call lost its signature). OpenAI clients drop unknown fields but always
// echo the tool-call id, so the id carries both:
//
//	id      = "call_" + 12 random [A-Za-z0-9] + base64url(payload)   (no padding)
//	payload = version(1) | sigKind(1) | uvarint len(name) | name
//	        | uvarint len(upstreamID) | upstreamID | signature bytes | CRC-32 (IEEE, big endian) of all before
//
// sigKind 0 means no signature, 1 that the signature was standard base64 and is stored as its
// decoded bytes (a third smaller), 2 that it is stored as the literal string. upstreamID is
// functionCall.id when Gemini sent one, so it can be sent back on the functionResponse.
// The random part keeps ids unique across turns even for identical calls. Every character is in
// [A-Za-z0-9_-], which Anthropic's tool_use id pattern also accepts. An id that does not parse
// (wrong prefix, bad base64, bad checksum) is a foreign id: it carries nothing and is not an error.
// Ids with a signature are long (Gemini signatures are hundreds of bytes to a few KB); clients
// treat ids as opaque strings, so this is only a concern for an upstream with an id length limit.
const (
	toolIDPrefix  = "call_"
	toolIDRandLen = 12
	toolIDVersion = 1

	sigNone    = 0
	sigBytes   = 1
	sigLiteral = 2
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomToken returns n random characters of [A-Za-z0-9]. Ids need uniqueness, not secrecy.
func randomToken(n int) string {
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(idAlphabet[rand.IntN(len(idAlphabet))])
	}
	return b.String()
}

// encodeToolID builds a tool-call id carrying name, upstreamID and signature. random must be
// toolIDRandLen characters of [A-Za-z0-9].
func encodeToolID(random, name, upstreamID, signature string) string {
	kind, sig := byte(sigNone), []byte(nil)
	if signature != "" {
		kind, sig = sigLiteral, []byte(signature)
		if raw, err := base64.StdEncoding.DecodeString(signature); err == nil &&
			base64.StdEncoding.EncodeToString(raw) == signature {
			kind, sig = sigBytes, raw
		}
	}
	p := make([]byte, 0, 2+2*binary.MaxVarintLen32+len(name)+len(upstreamID)+len(sig)+4)
	p = append(p, toolIDVersion, kind)
	p = binary.AppendUvarint(p, uint64(len(name)))
	p = append(p, name...)
	p = binary.AppendUvarint(p, uint64(len(upstreamID)))
	p = append(p, upstreamID...)
	p = append(p, sig...)
	p = binary.BigEndian.AppendUint32(p, crc32.ChecksumIEEE(p))

	var b strings.Builder
	b.Grow(len(toolIDPrefix) + len(random) + base64.RawURLEncoding.EncodedLen(len(p)))
	b.WriteString(toolIDPrefix)
	b.WriteString(random)
	enc := make([]byte, base64.RawURLEncoding.EncodedLen(len(p)))
	base64.RawURLEncoding.Encode(enc, p)
	b.Write(enc)
	return b.String()
}

// decodeToolID recovers what encodeToolID stored. ok is false for ids this package did not make.
func decodeToolID(id string) (name, upstreamID, signature string, ok bool) {
	if len(id) <= len(toolIDPrefix)+toolIDRandLen || !strings.HasPrefix(id, toolIDPrefix) {
		return "", "", "", false
	}
	p, err := base64.RawURLEncoding.DecodeString(id[len(toolIDPrefix)+toolIDRandLen:])
	if err != nil || len(p) < 2+2+4 {
		return "", "", "", false
	}
	body, sum := p[:len(p)-4], binary.BigEndian.Uint32(p[len(p)-4:])
	if crc32.ChecksumIEEE(body) != sum || body[0] != toolIDVersion {
		return "", "", "", false
	}
	kind := body[1]
	rest := body[2:]
	field := func() (string, bool) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return "", false
		}
		s := string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
		return s, true
	}
	if name, ok = field(); !ok {
		return "", "", "", false
	}
	if upstreamID, ok = field(); !ok {
		return "", "", "", false
	}
	switch kind {
	case sigNone:
		if len(rest) != 0 {
			return "", "", "", false
		}
	case sigBytes:
		signature = base64.StdEncoding.EncodeToString(rest)
	case sigLiteral:
		signature = string(rest)
	default:
		return "", "", "", false
	}
	return name, upstreamID, signature, true
}
