// The per-client policy as the SDKs meet it (SPEC §6): the client's system prompt goes first,
// the caller's own system text after it; the output-token cap is clamped (and set when the caller
// sent none) in every protocol's own field; rate limits answer 429 with Retry-After in each front
// door's error shape.

import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { rejects } from '../lib/fixtures.js';

const PROMPT = 'GATEWAY PROMPT: answer in French.';
const CAP = 100;

// maxTokens is the output-token cap the upstream received, in its protocol's field.
function maxTokens(protocol, body) {
  if (protocol === 'openai') return body.max_completion_tokens ?? body.max_tokens;
  if (protocol === 'anthropic') return body.max_tokens;
  return body.generationConfig?.maxOutputTokens;
}

function assertSystem(rec) {
  const sys = rec.summary.system;
  assert.ok(sys.startsWith(PROMPT), `the client's system prompt is not first: ${JSON.stringify(sys)}`);
  assert.ok(sys.indexOf('Be brief.') > PROMPT.length - 1, `the caller's system text is missing after it: ${JSON.stringify(sys)}`);
}

export function register(t, ctx) {
  const clients = new Map();
  // policyClient creates (once per backend) a client with a system prompt and an output cap.
  const policyClient = async (b) => {
    if (!clients.has(b.name)) {
      const c = await ctx.gw.createClient({
        name: `e2e policy ${b.name}`,
        backend: b.name,
        base_url: b.protocol === 'openai' ? `${b.mock.url}/v1` : b.mock.url,
        upstream_key: b.upstreamKey,
        default_model: b.model,
        system_prompt: PROMPT,
        quota: {
          max_input_tokens_per_day: 0,
          max_output_tokens_per_day: 0,
          max_requests_per_day: 0,
          max_input_tokens: 0,
          max_output_tokens: CAP,
        },
      });
      clients.set(b.name, c.key);
    }
    return clients.get(b.name);
  };

  for (const b of ctx.backends) {
    t.test(`policy [${b.name}]: openai sdk gets the system prompt first and the output cap`, async () => {
      const openai = new OpenAI({ apiKey: await policyClient(b), baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
      b.mock.script({ text: 'Bonjour.' });
      const r = await openai.chat.completions.create({
        model: b.model,
        max_tokens: 5000,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
      });
      assert.equal(r.choices[0].message.content, 'Bonjour.');
      assertSystem(b.mock.last());
      assert.equal(maxTokens(b.protocol, b.mock.last().body), CAP);
      await openai.chat.completions.create({
        model: b.model,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
      });
      assert.equal(maxTokens(b.protocol, b.mock.last().body), CAP, 'the cap is not set when the caller sent none');
    });

    t.test(`policy [${b.name}]: anthropic sdk gets the system prompt first and the output cap`, async () => {
      const anthropic = new Anthropic({ apiKey: await policyClient(b), baseURL: ctx.gw.url, maxRetries: 0 });
      b.mock.script({ text: 'Bonjour.' });
      const m = await anthropic.messages.create({
        model: b.model,
        max_tokens: 5000,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.equal(m.content[0].text, 'Bonjour.');
      assertSystem(b.mock.last());
      assert.equal(maxTokens(b.protocol, b.mock.last().body), CAP);
    });

    t.test(`policy [${b.name}]: genai sdk gets the system prompt first and the output cap`, async () => {
      const ai = new GoogleGenAI({ apiKey: await policyClient(b), httpOptions: { baseUrl: ctx.gw.url } });
      b.mock.script({ text: 'Bonjour.' });
      const r = await ai.models.generateContent({
        model: b.model,
        contents: 'hi',
        config: { systemInstruction: 'Be brief.', maxOutputTokens: 5000 },
      });
      assert.equal(r.text, 'Bonjour.');
      assertSystem(b.mock.last());
      assert.equal(maxTokens(b.protocol, b.mock.last().body), CAP);
      await ai.models.generateContent({ model: b.model, contents: 'hi', config: { systemInstruction: 'Be brief.' } });
      assert.equal(maxTokens(b.protocol, b.mock.last().body), CAP, 'the cap is not set when the caller sent none');
    });
  }

  // limited creates a client allowed one request per minute on the OpenAI-compatible backend.
  const limited = async (name) => {
    const b = ctx.backends.find((x) => x.protocol === 'openai');
    const c = await ctx.gw.createClient({
      name,
      backend: b.name,
      base_url: `${b.mock.url}/v1`,
      upstream_key: b.upstreamKey,
      default_model: b.model,
      rate_limit: { requests_per_minute: 1, requests_per_hour: 0, requests_per_day: 0 },
    });
    b.mock.script({ text: 'first one is free' });
    return { b, key: c.key };
  };

  t.test('policy: rate limit through the openai sdk is RateLimitError with Retry-After', async () => {
    const { b, key } = await limited('e2e limited openai');
    const openai = new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
    const ok = await openai.chat.completions.create({ model: b.model, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(ok.choices[0].message.content, 'first one is free');
    const err = await rejects(
      () => openai.chat.completions.create({ model: b.model, messages: [{ role: 'user', content: 'x' }] }),
      'second request',
    );
    assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.ok(Number(err.headers.get('retry-after')) > 0, `retry-after: ${err.headers.get('retry-after')}`);
    assert.equal(b.mock.chats().length, 1, 'the refused request reached the upstream');
  });

  t.test('policy: rate limit through the anthropic sdk is RateLimitError', async () => {
    const { b, key } = await limited('e2e limited anthropic');
    const anthropic = new Anthropic({ apiKey: key, baseURL: ctx.gw.url, maxRetries: 0 });
    await anthropic.messages.create({ model: b.model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    const err = await rejects(
      () => anthropic.messages.create({ model: b.model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      'second request',
    );
    assert.ok(err instanceof Anthropic.RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.error?.error?.type, 'rate_limit_error');
  });

  t.test('policy: rate limit through the genai sdk is a 429 ApiError', async () => {
    const { b, key } = await limited('e2e limited genai');
    const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: ctx.gw.url } });
    await ai.models.generateContent({ model: b.model, contents: 'x' });
    const err = await rejects(() => ai.models.generateContent({ model: b.model, contents: 'x' }), 'second request');
    assert.equal(err.status, 429, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.match(err.message, /RESOURCE_EXHAUSTED/);
  });
}
