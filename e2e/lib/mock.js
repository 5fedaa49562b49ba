// Hand-written mock upstreams, one per wire protocol (reference/protocols.md §1). Each records
// every request it receives and answers with a scripted reply encoded in its own protocol:
// OpenAI-compatible SSE ending in `data: [DONE]`, Anthropic named SSE events, Gemini
// `data: {...}\r\n\r\n` SSE. Text and tool-call arguments are cut into small fragments so the
// gateway has to reassemble or re-split them the way real upstreams make it.

import http from 'node:http';
import { validate } from './validate.js';

// A reply is what the mock answers, protocol-neutral:
//   {text, thinking, toolCalls: [{id, name, args, signature?}], usage: {input, output}, finish,
//    quirks: {keepalive, crlf, noDone, usageWithFinish, argsWhole} (OpenAI streams),
//    hang: true (a stream that sends its text, then stays open until the gateway hangs up)}
//   {error: {status, message}}                 an HTTP error in the protocol's envelope
//   {streamError: {message}, text}             a stream that breaks after some text
// reply.usage is {input, output, cached, reasoning} in one meaning for every protocol: input
// counts every prompt token (cached ones included), output every generated one (reasoning
// included); each protocol's encoder splits them its own way. Defaults to {input: 11, output: 7}.

const DEFAULT_USAGE = { input: 11, output: 7 };

// The signature an Anthropic mock puts on its thinking blocks.
export const THINKING_SIGNATURE = 'mock-thinking-signature';

export const PROTOCOLS = ['openai', 'anthropic', 'gemini'];

// pieces cuts s into fragments of n characters (at least one fragment, possibly empty).
export function pieces(s, n) {
  const out = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out.length ? out : [''];
}

function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (typeof p === 'string' ? p : (p.text ?? (p.type === 'text' ? p.text : ''))))
      .filter(Boolean)
      .join('');
  }
  return '';
}

// summarize reads the parts of a request the tests look at, whatever its protocol:
// the tool names offered, the tool results sent back, images, system text and the last user text.
export function summarize(protocol, body) {
  const s = { tools: [], toolResults: [], toolCalls: [], images: [], system: '', userTexts: [], messages: 0 };
  if (!body || typeof body !== 'object') return s;
  if (protocol === 'openai') {
    s.tools = (body.tools ?? []).map((t) => t.function?.name);
    for (const m of body.messages ?? []) {
      s.messages++;
      if (m.role === 'system' || m.role === 'developer') s.system += textOf(m.content);
      if (m.role === 'tool') s.toolResults.push({ id: m.tool_call_id, content: textOf(m.content) });
      if (m.role === 'assistant') {
        for (const c of m.tool_calls ?? []) s.toolCalls.push({ id: c.id, name: c.function.name, args: c.function.arguments });
      }
      if (m.role === 'user') {
        s.userTexts.push(textOf(m.content));
        if (Array.isArray(m.content)) {
          for (const p of m.content) if (p.type === 'image_url') s.images.push({ url: p.image_url.url });
        }
      }
    }
  } else if (protocol === 'anthropic') {
    s.tools = (body.tools ?? []).map((t) => t.name);
    s.system = typeof body.system === 'string' ? body.system : textOf(body.system ?? []);
    for (const m of body.messages ?? []) {
      s.messages++;
      const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content ?? []);
      if (m.role === 'user') s.userTexts.push(textOf(blocks.filter((b) => b.type === 'text')));
      for (const b of blocks) {
        if (b.type === 'tool_result') s.toolResults.push({ id: b.tool_use_id, content: textOf(b.content) });
        if (b.type === 'tool_use') s.toolCalls.push({ id: b.id, name: b.name, args: JSON.stringify(b.input) });
        if (b.type === 'image') s.images.push({ mediaType: b.source.media_type, data: b.source.data, url: b.source.url });
      }
    }
  } else {
    s.tools = (body.tools ?? []).flatMap((t) => (t.functionDeclarations ?? []).map((f) => f.name));
    s.system = textOf(body.systemInstruction?.parts ?? []);
    for (const c of body.contents ?? []) {
      s.messages++;
      const parts = c.parts ?? [];
      if (c.role !== 'model') {
        const t = textOf(parts.filter((p) => typeof p.text === 'string'));
        if (t) s.userTexts.push(t);
      }
      for (const p of parts) {
        if (p.functionResponse) {
          s.toolResults.push({
            id: p.functionResponse.id,
            name: p.functionResponse.name,
            content: JSON.stringify(p.functionResponse.response),
          });
        }
        if (p.functionCall) {
          s.toolCalls.push({
            id: p.functionCall.id,
            name: p.functionCall.name,
            args: JSON.stringify(p.functionCall.args),
            signature: p.thoughtSignature,
          });
        }
        if (p.inlineData) s.images.push({ mediaType: p.inlineData.mimeType, data: p.inlineData.data });
      }
    }
  }
  return s;
}

export class MockUpstream {
  constructor(protocol, { models } = {}) {
    if (!PROTOCOLS.includes(protocol)) throw new Error(`unknown protocol ${protocol}`);
    this.protocol = protocol;
    this.models = models ?? [];
    this.requests = [];
    this.reply = () => ({ text: 'ok' });
    this.server = http.createServer((req, res) => this.#handle(req, res));
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this.url;
  }

  async stop() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
  }

  // script sets the reply function for the next requests and forgets what was received.
  script(reply) {
    this.requests = [];
    this.reply = typeof reply === 'function' ? reply : () => reply;
  }

  // chats are the received generation requests (not model lists).
  chats() {
    return this.requests.filter((r) => r.method === 'POST');
  }

  // last is the last generation request received; it fails loudly when there was none.
  last() {
    const c = this.chats();
    if (!c.length) throw new Error(`${this.protocol} mock received no request`);
    return c[c.length - 1];
  }

  async #handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = null;
    }
    const url = new URL(req.url, 'http://mock');
    const rec = { method: req.method, path: url.pathname, query: url.search, headers: req.headers, raw, body };
    // closed resolves when the connection goes away: after the answer, or early when the gateway
    // cancels the upstream request (a reply with hang: true never ends by itself).
    rec.closed = new Promise((resolve) => res.on('close', () => resolve(res.writableFinished ? 'finished' : 'aborted')));
    rec.summary = summarize(this.protocol, body);
    this.requests.push(rec);
    try {
      if (req.method === 'GET') return this.#models(url, res);
      // Refuse what the real service refuses, before any scripted reply.
      rec.refused = validate(this.protocol, url.pathname, body);
      if (rec.refused) return this.#error(res, { status: 400, message: `mock upstream refused the request: ${rec.refused}` });
      const reply = this.reply(rec) ?? { text: 'ok' };
      if (reply.error) return this.#error(res, reply.error);
      if (/\/embeddings$|:batchEmbedContents$|:embedContent$/.test(url.pathname)) return this.#embeddings(rec, reply, res);
      if (this.protocol === 'openai') return this.#openai(rec, reply, res);
      if (this.protocol === 'anthropic') return this.#anthropic(rec, reply, res);
      return this.#gemini(rec, reply, res);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`mock failed: ${err.stack}`);
    }
  }

  #json(res, status, obj) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  }

  #models(url, res) {
    if (this.protocol === 'openai' && url.pathname.endsWith('/models')) {
      return this.#json(res, 200, {
        object: 'list',
        data: this.models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'mock' })),
      });
    }
    if (this.protocol === 'anthropic' && url.pathname === '/v1/models') {
      return this.#json(res, 200, {
        data: this.models.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' })),
        has_more: false,
        first_id: this.models[0],
        last_id: this.models[this.models.length - 1],
      });
    }
    if (this.protocol === 'gemini' && url.pathname === '/v1beta/models') {
      return this.#json(res, 200, {
        models: this.models.map((id) => ({
          name: `models/${id}`,
          baseModelId: id,
          version: '001',
          displayName: id,
          inputTokenLimit: 1048576,
          outputTokenLimit: 65536,
          supportedGenerationMethods: ['generateContent', 'countTokens'],
        })),
      });
    }
    return this.#error(res, { status: 404, message: `mock: no route GET ${url.pathname}` });
  }

  #error(res, { status, message, headers = {} }) {
    const types = {
      400: 'invalid_request_error',
      401: 'authentication_error',
      403: 'permission_error',
      404: 'not_found_error',
      429: 'rate_limit_error',
    };
    const statuses = {
      400: 'INVALID_ARGUMENT',
      401: 'UNAUTHENTICATED',
      403: 'PERMISSION_DENIED',
      404: 'NOT_FOUND',
      429: 'RESOURCE_EXHAUSTED',
    };
    let body;
    if (this.protocol === 'openai') {
      body = { error: { message, type: types[status] ?? 'server_error', param: null, code: null } };
    } else if (this.protocol === 'anthropic') {
      body = { type: 'error', error: { type: types[status] ?? 'api_error', message }, request_id: 'req_mock' };
    } else {
      body = { error: { code: status, message, status: statuses[status] ?? 'INTERNAL' } };
    }
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  // #embeddings answers reply.embeddings (arrays of numbers); OpenAI's base64 encoding_format is
  // little-endian float32, as the official SDK decodes it.
  #embeddings(rec, reply, res) {
    const inputs = this.protocol === 'gemini' ? (rec.body?.requests?.length ?? 1) : [rec.body?.input].flat().length;
    const vectors = (reply.embeddings ?? [[0.5, -0.25, 0.125]]).slice(0, inputs);
    const usage = reply.usage ?? DEFAULT_USAGE;
    if (this.protocol === 'openai') {
      const b64 = rec.body?.encoding_format === 'base64';
      const enc = (v) => (b64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v);
      return this.#json(res, 200, {
        object: 'list',
        data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: enc(v) })),
        model: rec.body?.model ?? 'mock',
        usage: { prompt_tokens: usage.input, total_tokens: usage.input },
      });
    }
    if (this.protocol === 'gemini') {
      if (rec.path.endsWith(':embedContent')) return this.#json(res, 200, { embedding: { values: vectors[0] } });
      return this.#json(res, 200, { embeddings: vectors.map((values) => ({ values })) });
    }
    return this.#error(res, { status: 404, message: 'mock: anthropic has no embeddings' });
  }

  #sse(res) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  }

  // ---- OpenAI Chat Completions ----

  #openai(rec, reply, res) {
    const usage = reply.usage ?? DEFAULT_USAGE;
    const model = rec.body?.model ?? 'mock';
    const calls = reply.toolCalls ?? [];
    const finish = reply.finish ?? (calls.length ? 'tool_calls' : 'stop');
    const u = { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output };
    if (usage.cached !== undefined) u.prompt_tokens_details = { cached_tokens: usage.cached };
    if (usage.reasoning !== undefined) u.completion_tokens_details = { reasoning_tokens: usage.reasoning };
    if (!rec.body?.stream) {
      const message = { role: 'assistant', content: reply.text ?? null, refusal: null };
      if (reply.thinking) message.reasoning_content = reply.thinking;
      if (calls.length) {
        message.tool_calls = calls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: JSON.stringify(c.args) },
        }));
      }
      return this.#json(res, 200, {
        id: 'chatcmpl-mock',
        object: 'chat.completion',
        created: 1700000000,
        model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage: u,
        system_fingerprint: 'fp_mock',
      });
    }
    this.#sse(res);
    // Quirks real OpenAI-compatible servers show: SSE comments, CRLF framing, no [DONE], usage in
    // the finish chunk, a tool call's whole arguments in its first fragment.
    const q = reply.quirks ?? {};
    const eol = q.crlf ? '\r\n\r\n' : '\n\n';
    const write = (obj) => {
      if (q.keepalive) res.write(`: keepalive${eol}`);
      res.write(`data: ${typeof obj === 'string' ? obj : JSON.stringify(obj)}${eol}`);
    };
    const chunk = (delta, finishReason = null, extra = {}) => ({
      id: 'chatcmpl-mock',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model,
      system_fingerprint: 'fp_mock',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...extra,
    });
    const includeUsage = rec.body.stream_options?.include_usage;
    write(chunk({ role: 'assistant', content: '' }));
    if (reply.thinking) for (const p of pieces(reply.thinking, 5)) write(chunk({ reasoning_content: p }));
    if (reply.text) for (const p of pieces(reply.text, 4)) write(chunk({ content: p }));
    if (reply.hang) return;
    if (reply.streamError) {
      write({ error: { message: reply.streamError.message, type: 'server_error', param: null, code: 'mock_error' } });
      return res.end();
    }
    calls.forEach((c, index) => {
      const args = JSON.stringify(c.args);
      write(chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: q.argsWhole ? args : '' } }] }));
      if (!q.argsWhole) for (const p of pieces(args, 7)) write(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
    });
    if (q.usageWithFinish) {
      write(chunk({}, finish, includeUsage ? { usage: u } : {}));
    } else {
      write(chunk({}, finish));
      if (includeUsage) write({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1700000000, model, choices: [], usage: u });
    }
    if (!q.noDone) write('[DONE]');
    res.end();
  }

  // ---- Anthropic Messages ----

  #anthropic(rec, reply, res) {
    const usage = reply.usage ?? DEFAULT_USAGE;
    if (rec.path === '/v1/messages/count_tokens') return this.#json(res, 200, { input_tokens: usage.input });
    const model = rec.body?.model ?? 'mock';
    const calls = reply.toolCalls ?? [];
    const stop = reply.finish ?? (calls.length ? 'tool_use' : 'end_turn');
    if (!rec.body?.stream) {
      const content = [];
      if (reply.thinking) content.push({ type: 'thinking', thinking: reply.thinking, signature: THINKING_SIGNATURE });
      if (reply.text) content.push({ type: 'text', text: reply.text });
      for (const c of calls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: c.args });
      return this.#json(res, 200, {
        id: 'msg_mock',
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: {
          input_tokens: usage.input - (usage.cached ?? 0),
          output_tokens: usage.output,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: usage.cached ?? 0,
        },
      });
    }
    this.#sse(res);
    const ev = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    ev('message_start', {
      message: {
        id: 'msg_mock',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: usage.input - (usage.cached ?? 0),
          output_tokens: 1,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: usage.cached ?? 0,
        },
      },
    });
    let index = 0;
    if (reply.thinking) {
      ev('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      for (const p of pieces(reply.thinking, 5)) ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: p } });
      ev('content_block_delta', { index, delta: { type: 'signature_delta', signature: THINKING_SIGNATURE } });
      ev('content_block_stop', { index });
      index++;
    }
    if (reply.text) {
      ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
      ev('ping', {});
      for (const p of pieces(reply.text, 4)) ev('content_block_delta', { index, delta: { type: 'text_delta', text: p } });
      if (reply.hang) return;
      if (reply.streamError) {
        ev('error', { error: { type: 'api_error', message: reply.streamError.message } });
        return res.end();
      }
      ev('content_block_stop', { index });
      index++;
    }
    for (const c of calls) {
      ev('content_block_start', { index, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } });
      ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
      for (const p of pieces(JSON.stringify(c.args), 7))
        ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: p } });
      ev('content_block_stop', { index });
      index++;
    }
    ev('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: usage.output } });
    ev('message_stop', {});
    res.end();
  }

  // ---- Gemini generateContent ----

  #gemini(rec, reply, res) {
    const usage = reply.usage ?? DEFAULT_USAGE;
    const model = decodeURIComponent(rec.path.match(/models\/([^:]+):/)?.[1] ?? 'mock');
    if (rec.path.endsWith(':countTokens')) return this.#json(res, 200, { totalTokens: usage.input });
    const calls = reply.toolCalls ?? [];
    const finish = reply.finish ?? 'STOP';
    const usageMetadata = {
      promptTokenCount: usage.input,
      candidatesTokenCount: usage.output - (usage.reasoning ?? 0),
      totalTokenCount: usage.input + usage.output,
    };
    const callParts = calls.map((c) => {
      const part = { functionCall: { name: c.name, args: c.args } };
      if (c.id) part.functionCall.id = c.id;
      if (c.signature) part.thoughtSignature = c.signature;
      return part;
    });
    const wrap = (parts, extra = {}) => ({
      candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }],
      modelVersion: model,
      responseId: 'resp_mock',
    });
    if (usage.reasoning !== undefined) usageMetadata.thoughtsTokenCount = usage.reasoning;
    if (usage.cached !== undefined) usageMetadata.cachedContentTokenCount = usage.cached;
    if (!rec.path.endsWith(':streamGenerateContent')) {
      const parts = [];
      if (reply.thinking) parts.push({ text: reply.thinking, thought: true });
      if (reply.text) parts.push({ text: reply.text });
      parts.push(...callParts);
      return this.#json(res, 200, { ...wrap(parts, { finishReason: finish }), usageMetadata });
    }
    this.#sse(res);
    const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\r\n\r\n`);
    const running = { promptTokenCount: usage.input, totalTokenCount: usage.input };
    if (reply.thinking) for (const p of pieces(reply.thinking, 5)) send({ ...wrap([{ text: p, thought: true }]), usageMetadata: running });
    if (reply.text) for (const p of pieces(reply.text, 4)) send({ ...wrap([{ text: p }]), usageMetadata: running });
    if (reply.hang) return;
    if (reply.streamError) {
      send({ error: { code: 500, message: reply.streamError.message, status: 'INTERNAL' } });
      return res.end();
    }
    if (callParts.length) send({ ...wrap(callParts), usageMetadata: running });
    send({ ...wrap([{ text: '' }], { finishReason: finish }), usageMetadata });
    res.end();
  }
}
