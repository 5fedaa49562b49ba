// What the gateway counts is what the upstream reported (SPEC §5 "usage is always real"), read
// back by the client itself from GET /v1/usage after driving each SDK through it — including a
// stream whose caller did not ask for usage.

import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';

// settled polls the client's usage until no request is in flight (accounting happens right after
// a stream's last byte, so a caller can be a moment ahead of it).
async function settled(ctx, key, requests) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await fetch(`${ctx.gw.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(r.status, 200);
    const u = (await r.json()).usage;
    if ((u.in_flight ?? 0) === 0 && u.requests >= requests) return u;
    if (Date.now() > deadline) return u;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function register(t, ctx) {
  for (const b of ctx.backends) {
    t.test(`accounting [${b.name}]: /v1/usage adds up what the upstream reported, across the SDKs`, async () => {
      const c = await ctx.gw.createClient({
        name: `e2e accounting ${b.name}`,
        backend: b.name,
        base_url: b.protocol === 'openai' ? `${b.mock.url}/v1` : b.mock.url,
        upstream_key: b.upstreamKey,
        default_model: b.model,
      });
      const usages = [
        { input: 101, output: 11, cached: 20 },
        { input: 202, output: 22, cached: 0 },
        { input: 303, output: 33, cached: 30 },
        { input: 404, output: 44, cached: 0 },
      ];
      let i = 0;
      b.mock.script(() => ({ text: 'counted', usage: usages[i++] }));

      const openai = new OpenAI({ apiKey: c.key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
      await openai.chat.completions.create({ model: b.model, messages: [{ role: 'user', content: 'x' }] });
      // A stream whose caller did not ask for usage is counted all the same.
      let text = '';
      for await (const chunk of await openai.chat.completions.create({
        model: b.model,
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      })) {
        assert.ok(!chunk.usage, 'usage chunk the caller did not ask for');
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      assert.equal(text, 'counted');
      const anthropic = new Anthropic({ apiKey: c.key, baseURL: ctx.gw.url, maxRetries: 0 });
      await anthropic.messages.stream({ model: b.model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
      const ai = new GoogleGenAI({ apiKey: c.key, httpOptions: { baseUrl: ctx.gw.url } });
      for await (const _ of await ai.models.generateContentStream({ model: b.model, contents: 'x' }));

      const u = await settled(ctx, c.key, usages.length);
      const sum = (k) => usages.reduce((n, x) => n + x[k], 0);
      assert.deepEqual(
        { requests: u.requests, input: u.input_tokens, output: u.output_tokens, cached: u.cached_tokens, inFlight: u.in_flight },
        { requests: usages.length, input: sum('input'), output: sum('output'), cached: sum('cached'), inFlight: 0 },
      );
    });
  }
}
