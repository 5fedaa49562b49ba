// A caller that stops reading (an SDK stream aborted with an AbortSignal) makes the gateway
// cancel the upstream request: the mock's stream never ends by itself, so only the gateway
// hanging up closes it (SPEC §10). Through each SDK's front door, over every backend.

import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';

const FIRST = 'first words, then silence';

// Each reads the stream until the mock's text has arrived, then aborts it.
const doors = {
  async openai(ctx, b, signal, abort) {
    const client = new OpenAI({ apiKey: b.key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create(
      { model: b.model, messages: [{ role: 'user', content: 'x' }], stream: true },
      { signal },
    );
    let got = '';
    for await (const chunk of stream) {
      got += chunk.choices[0]?.delta?.content ?? '';
      if (got === FIRST) abort();
    }
  },
  async anthropic(ctx, b, signal, abort) {
    const client = new Anthropic({ apiKey: b.key, baseURL: ctx.gw.url, maxRetries: 0 });
    const stream = client.messages.stream({ model: b.model, max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }, { signal });
    let got = '';
    for await (const ev of stream) {
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') got += ev.delta.text;
      if (got === FIRST) abort();
    }
  },
  async genai(ctx, b, signal, abort) {
    const ai = new GoogleGenAI({ apiKey: b.key, httpOptions: { baseUrl: ctx.gw.url } });
    const stream = await ai.models.generateContentStream({ model: b.model, contents: 'x', config: { abortSignal: signal } });
    let got = '';
    for await (const chunk of stream) {
      got += (chunk.candidates?.[0]?.content?.parts ?? []).map((p) => p.text ?? '').join('');
      if (got === FIRST) abort();
    }
  },
};

export function register(t, ctx) {
  for (const b of ctx.backends) {
    for (const [door, read] of Object.entries(doors)) {
      t.test(
        `disconnect [${b.name}]: aborting the ${door} sdk stream cancels the upstream request`,
        async () => {
          b.mock.script({ text: FIRST, hang: true });
          const ac = new AbortController();
          let aborted = false;
          try {
            await read(ctx, b, ac.signal, () => {
              aborted = true;
              ac.abort();
            });
          } catch (err) {
            if (!aborted) throw err;
          }
          assert.ok(aborted, 'the stream ended before the mock text arrived');
          assert.equal(await b.mock.last().closed, 'aborted');
        },
        { timeout: 15_000 },
      );
    }
  }
}
