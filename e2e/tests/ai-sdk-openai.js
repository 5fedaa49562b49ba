// The Vercel AI SDK's `openai()` provider (@ai-sdk/openai), which speaks the Responses API by
// default, against the gateway's Responses front door, over every backend. With its default
// `store: true` the second step of a tool run refers to the first step's reasoning item by id
// (`item_reference`), which the gateway resolves from its own store; with `store: false` the SDK
// sends the items back whole (Anthropic's signature rides in encrypted_content, Gemini's in the
// call id).

import assert from 'node:assert/strict';
import { createOpenAI } from '@ai-sdk/openai';
import { jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { THINKING_SIGNATURE } from '../lib/mock.js';
import { assertToolResultsReceived, assertToolsReceived, parallelCalls, tools } from '../lib/fixtures.js';

// aiTools are the fixtures' tools for the AI SDK; with execute they run locally.
function aiTools(execute) {
  return Object.fromEntries(
    tools.map((t) => [t.name, tool({ description: t.description, inputSchema: jsonSchema(t.schema), execute: execute?.[t.name] })]),
  );
}

export function register(t, ctx) {
  for (const b of ctx.backends) {
    // sent keeps the bodies the SDK sent to the gateway.
    let sent = [];
    const provider = () => {
      sent = [];
      const spy = (url, init) => (sent.push(JSON.parse(init.body)), fetch(url, init));
      return createOpenAI({ baseURL: `${ctx.gw.url}/v1`, apiKey: b.key, fetch: spy });
    };

    t.test(`ai sdk openai() [${b.name}]: streamText over Responses, text and usage`, async () => {
      const text = 'Answered through the Responses API.';
      b.mock.script({ text, usage: { input: 31, output: 8 } });
      const errors = [];
      const result = streamText({
        model: provider()(b.model),
        system: 'Be brief.',
        prompt: 'Say something',
        maxRetries: 0,
        onError: ({ error }) => errors.push(error),
      });
      let deltas = 0;
      for await (const part of result.fullStream) if (part.type === 'text-delta') deltas++;
      assert.deepEqual(errors, []);
      assert.equal(await result.text, text);
      assert.ok(deltas > 1, 'text was not streamed');
      assert.equal(await result.finishReason, 'stop');
      const usage = await result.usage;
      assert.deepEqual({ input: usage.inputTokens, output: usage.outputTokens }, { input: 31, output: 8 });
      const rec = b.mock.last();
      assert.equal(rec.summary.system, 'Be brief.');
      assert.deepEqual(rec.summary.userTexts, ['Say something']);
      const id = (await result.providerMetadata)?.openai?.responseId;
      assert.match(id ?? '', /^resp_/, `response id ${id}`);
    });

    for (const store of [true, false]) {
      t.test(`ai sdk openai() [${b.name}]: a two-step tool run with store ${store}`, async () => {
        b.mock.script((rec) =>
          rec.summary.toolResults.length
            ? { text: 'Paris is sunny; in Tokyo it is 21:04.', usage: { input: 70, output: 10 } }
            : { thinking: 'Two lookups are needed.', toolCalls: parallelCalls(b.protocol), usage: { input: 40, output: 12 } },
        );
        const ran = [];
        const errors = [];
        const result = streamText({
          model: provider()(b.model),
          prompt: 'What is the weather in Paris and the time in Tokyo?',
          tools: aiTools({
            get_weather: async () => (ran.push('get_weather'), '18°C and sunny'),
            get_time: async () => (ran.push('get_time'), '21:04'),
          }),
          providerOptions: { openai: { store } },
          stopWhen: stepCountIs(3),
          maxRetries: 0,
          onError: ({ error }) => errors.push(error),
        });
        assert.equal(await result.text, 'Paris is sunny; in Tokyo it is 21:04.');
        assert.deepEqual(errors, []);
        assert.deepEqual(ran, ['get_weather', 'get_time']);
        assert.equal((await result.steps).length, 2);
        const total = await result.totalUsage;
        assert.deepEqual({ input: total.inputTokens, output: total.outputTokens }, { input: 110, output: 22 });
        // With store on, the SDK refers to the first step's reasoning item by id only.
        const refs = sent[1].input.filter((i) => i.type === 'item_reference').map((i) => i.id);
        if (store) assert.ok(refs.length === 1 && refs[0].startsWith('rs_'), `item references sent: ${JSON.stringify(refs)}`);
        else assert.deepEqual(refs, []);
        const chats = b.mock.chats();
        assert.equal(chats.length, 2);
        assertToolsReceived(b, chats[0]);
        assertToolResultsReceived(b, chats[1], { weather: '18°C and sunny', time: '21:04' });
        if (b.protocol === 'anthropic') {
          // The thinking block went back with its signature, from the store or from encrypted_content.
          const thinking = chats[1].body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((c) => c.type === 'thinking');
          assert.deepEqual(thinking, { type: 'thinking', thinking: 'Two lookups are needed.', signature: THINKING_SIGNATURE });
        }
      });
    }

    t.test(`ai sdk openai() [${b.name}]: an upstream error reaches onError with its message`, async () => {
      b.mock.script({ error: { status: 400, message: 'mock: context too long for this model' } });
      const errors = [];
      const result = streamText({ model: provider()(b.model), prompt: 'hi', maxRetries: 0, onError: ({ error }) => errors.push(error) });
      for await (const _ of result.fullStream);
      assert.equal(errors.length, 1);
      assert.match(errors[0].message, /context too long/);
    });
  }
}
