package openai

import (
	"bytes"
	"crypto/sha256"
	"strings"

	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// Request quirks of the vendors, applied to the top level of a Chat Completions body. Each one
// edits only what its vendor rejects or misreads; everything else stays byte-for-byte.

// quirkOpenAI: OpenAI's reasoning models (o1, o3, o4, gpt-5 families) reject max_tokens and want
// max_completion_tokens. Azure deployments named after those models get the same treatment.
func quirkOpenAI(o *jsonscan.Object, x *exchange) error {
	if isOpenAIReasoningModel(x.model) {
		o.Rename("max_tokens", "max_completion_tokens")
	}
	return nil
}

// skipOpenAI: without top_k, and unless the model is a reasoning model sent max_tokens, no OpenAI
// quirk applies. The model is sniffed, not parsed: a false "no skip" only costs a parse.
func skipOpenAI(body []byte) bool {
	if bytes.Contains(body, []byte(`"top_k"`)) {
		return false
	}
	if !bytes.Contains(body, []byte(`"max_tokens"`)) {
		return true
	}
	i := jsonscan.ValueAfterKey(body, `"model"`)
	if i < 0 || i >= len(body) || body[i] != '"' {
		return false
	}
	end, err := jsonscan.SkipString(body, i)
	if err != nil {
		return false
	}
	model, _ := jsonscan.StringValue(body[i:end])
	return !isOpenAIReasoningModel(model)
}

func isOpenAIReasoningModel(model string) bool {
	m := strings.ToLower(model)
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if m == p || strings.HasPrefix(m, p+"-") || strings.HasPrefix(m, p+".") {
			return true
		}
	}
	return false
}

// mistralBridge is the assistant turn inserted between a tool result and a user message: Mistral
// rejects "user" right after "tool" (400 "Unexpected role 'user' after role 'tool'").
const mistralBridge = `{"role":"assistant","content":"OK."}`

// quirkMistral rewrites tool-call ids to Mistral's 9-character form (recording how to map them
// back), bridges tool→user turns, renames max_completion_tokens and seed, and drops fields Mistral
// rejects.
func quirkMistral(o *jsonscan.Object, x *exchange) error {
	// OpenAI fields Mistral's strict schema rejects with 422 "Extra inputs are not permitted"
	// (stream_options among them: Mistral always puts usage on its last chunk).
	for _, k := range [...]string{"stream_options", "metadata", "store", "service_tier", "user", "logit_bias",
		"logprobs", "top_logprobs", "modalities", "audio", "safety_identifier", "prompt_cache_key", "verbosity",
		"web_search_options"} {
		o.Del(k)
	}
	o.Rename("max_completion_tokens", "max_tokens")
	o.Rename("seed", "random_seed")
	msgs := o.Get("messages")
	if len(msgs) == 0 || msgs[0] != '[' {
		return nil
	}
	out := make([]byte, 0, len(msgs)+64)
	out = append(out, '[')
	changed := false
	prevRole := ""
	n := 0
	add := func(b []byte) {
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
		n++
	}
	err := jsonscan.EachElement(msgs, func(m []byte) bool {
		mo, e := jsonscan.ParseObject(m)
		if e != nil { // not an object: leave it to the upstream to complain
			add(m)
			prevRole = ""
			return true
		}
		role, _ := jsonscan.StringValue(mo.Get("role"))
		if prevRole == "tool" && role == "user" {
			add([]byte(mistralBridge))
			changed = true
		}
		switch role {
		case "assistant":
			if tcs := mo.Get("tool_calls"); len(tcs) > 0 && tcs[0] == '[' {
				if nt, ok := mistralToolCalls(tcs, x); ok {
					mo.Set("tool_calls", nt)
				}
			}
		case "tool":
			if id, ok := jsonscan.StringValue(mo.Get("tool_call_id")); ok {
				if nid := mistralID(id); nid != id {
					x.mapID(nid, id)
					mo.Set("tool_call_id", appendString(nil, nid))
				}
			}
		}
		if mo.Changed() {
			changed = true
			add(mo.Bytes())
		} else {
			add(m)
		}
		prevRole = role
		return true
	})
	if err != nil || !changed {
		return nil
	}
	o.Set("messages", append(out, ']'))
	return nil
}

// mistralToolCalls rewrites the ids of an assistant's tool_calls array; ok is false when none changed.
func mistralToolCalls(tcs []byte, x *exchange) ([]byte, bool) {
	out := make([]byte, 0, len(tcs)+16)
	out = append(out, '[')
	changed := false
	n := 0
	_ = jsonscan.EachElement(tcs, func(tc []byte) bool {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		to, err := jsonscan.ParseObject(tc)
		if err != nil {
			out = append(out, tc...)
			return true
		}
		if id, ok := jsonscan.StringValue(to.Get("id")); ok {
			if nid := mistralID(id); nid != id {
				x.mapID(nid, id)
				to.Set("id", appendString(nil, nid))
				changed = true
				out = to.AppendTo(out)
				return true
			}
		}
		out = append(out, tc...)
		return true
	})
	return append(out, ']'), changed
}

func (x *exchange) mapID(upstream, client string) {
	if x.ids == nil {
		x.ids = make(map[string]string, 4)
	}
	x.ids[upstream] = client
}

// mistralID returns id when it already matches Mistral's [a-zA-Z0-9]{9}, else a deterministic
// 9-character id derived from its SHA-256: the same client id maps to the same upstream id in
// every turn, so multi-turn history stays consistent without any stored state.
func mistralID(id string) string {
	if len(id) == 9 {
		ok := true
		for i := 0; i < 9; i++ {
			c := id[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				ok = false
				break
			}
		}
		if ok {
			return id
		}
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	sum := sha256.Sum256([]byte(id))
	var b [9]byte
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b[:])
}

// mapIDsBack replaces, in an upstream answer, every quoted upstream id of x.ids by the client's
// original id. It returns b itself when there is nothing to replace.
func (x *exchange) mapIDsBack(b []byte) []byte {
	if x == nil || len(x.ids) == 0 || !bytes.Contains(b, []byte(`"tool_calls"`)) {
		return b
	}
	var q [11]byte
	for up, orig := range x.ids {
		q[0], q[10] = '"', '"'
		if len(up) != 9 {
			continue
		}
		copy(q[1:10], up)
		if bytes.Contains(b, q[:]) {
			b = bytes.ReplaceAll(b, q[:], appendString(nil, orig))
		}
	}
	return b
}

// quirkPerplexity drops tools (Perplexity has none) and merges consecutive messages of the same
// role: Perplexity rejects anything but strict user/assistant alternation after the system
// message(s) (opencode's title request is system, user, user).
func quirkPerplexity(o *jsonscan.Object, x *exchange) error {
	o.Del("tools")
	o.Del("tool_choice")
	o.Del("parallel_tool_calls")
	msgs := o.Get("messages")
	if len(msgs) == 0 || msgs[0] != '[' {
		return nil
	}
	type msg struct {
		role string
		obj  *jsonscan.Object
		raw  []byte
	}
	var list []msg
	merged := false
	_ = jsonscan.EachElement(msgs, func(m []byte) bool {
		mo, err := jsonscan.ParseObject(m)
		if err != nil {
			list = append(list, msg{raw: m})
			return true
		}
		role, _ := jsonscan.StringValue(mo.Get("role"))
		if n := len(list); n > 0 && role != "" && list[n-1].obj != nil && list[n-1].role == role {
			prev := list[n-1].obj
			prev.Set("content", mergeContent(prev.Get("content"), mo.Get("content")))
			merged = true
			return true
		}
		list = append(list, msg{role: role, obj: mo, raw: m})
		return true
	})
	if !merged {
		return nil
	}
	out := make([]byte, 0, len(msgs)+16)
	out = append(out, '[')
	for i, m := range list {
		if i > 0 {
			out = append(out, ',')
		}
		if m.obj != nil && m.obj.Changed() {
			out = m.obj.AppendTo(out)
		} else {
			out = append(out, m.raw...)
		}
	}
	o.Set("messages", append(out, ']'))
	return nil
}

// mergeContent joins two message contents: two strings become one string separated by a blank
// line; anything else becomes one array of parts.
func mergeContent(a, b []byte) []byte {
	if jsonscan.IsNull(a) {
		return b
	}
	if jsonscan.IsNull(b) {
		return a
	}
	as, aok := jsonscan.StringValue(a)
	bs, bok := jsonscan.StringValue(b)
	if aok && bok {
		return appendString(nil, as+"\n\n"+bs)
	}
	out := []byte{'['}
	n := 0
	for _, c := range [][]byte{a, b} {
		if c[0] == '"' {
			if n > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"type":"text","text":`...)
			out = append(out, c...)
			out = append(out, '}')
			n++
			continue
		}
		_ = jsonscan.EachElement(c, func(p []byte) bool {
			if n > 0 {
				out = append(out, ',')
			}
			out = append(out, p...)
			n++
			return true
		})
	}
	return append(out, ']')
}

// isXAIReasoningModel: grok-3-mini, the grok-4 family, grok-code and any model whose name says
// "reasoning" are reasoning models.
func isXAIReasoningModel(model string) bool {
	m := strings.ToLower(model)
	return strings.HasPrefix(m, "grok-3-mini") || strings.HasPrefix(m, "grok-4") ||
		strings.HasPrefix(m, "grok-code") || strings.Contains(m, "reasoning")
}

// quirkXAI: xAI's reasoning models reject presence_penalty, frequency_penalty and stop, and want
// max_completion_tokens; the grok-4 family also rejects reasoning_effort.
func quirkXAI(o *jsonscan.Object, x *exchange) error {
	if !isXAIReasoningModel(x.model) {
		return nil
	}
	o.Del("presence_penalty")
	o.Del("frequency_penalty")
	o.Del("stop")
	o.Rename("max_tokens", "max_completion_tokens")
	if m := strings.ToLower(x.model); strings.HasPrefix(m, "grok-4") || strings.HasPrefix(m, "grok-code") {
		o.Del("reasoning_effort")
	}
	return nil
}

// quirkCohere drops what the Compatibility API rejects, uses max_tokens (the documented name), and
// maps reasoning_effort onto the two values it supports: "none" and "high" (thinking off/on).
func quirkCohere(o *jsonscan.Object, x *exchange) error {
	// The chat parameters Cohere's Compatibility API documents as unsupported
	// (docs.cohere.com/docs/compatibility-api, "Unsupported parameters"), plus logprobs, which
	// only makes sense with top_logprobs.
	for _, k := range [...]string{"store", "metadata", "logit_bias", "logprobs", "top_logprobs", "n",
		"modalities", "prediction", "audio", "service_tier", "parallel_tool_calls"} {
		o.Del(k)
	}
	o.Rename("max_completion_tokens", "max_tokens")
	if so := o.Get("stream_options"); len(so) > 0 && so[0] == '{' {
		if soo, err := jsonscan.ParseObject(so); err == nil && soo.Del("include_obfuscation") {
			o.Set("stream_options", soo.Bytes())
		}
	}
	if re := o.Get("reasoning_effort"); re != nil {
		v, _ := jsonscan.StringValue(re)
		switch v {
		case "none", "high":
		case "minimal":
			o.Set("reasoning_effort", []byte(`"none"`))
		case "":
			o.Del("reasoning_effort")
		default:
			o.Set("reasoning_effort", []byte(`"high"`))
		}
	}
	return nil
}
