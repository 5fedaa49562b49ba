// The official @anthropic-ai/sdk against the gateway's Anthropic front door (/v1/messages), over
// every backend.

import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import {
  assertImageReceived,
  assertToolResultsReceived,
  assertToolsReceived,
  assertUpstreamAuth,
  parallelCalls,
  pngBase64,
  rejects,
  timeArgs,
  tools,
  weatherArgs,
} from '../lib/fixtures.js';

const anthropicTools = tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.schema }));
const question = 'What is the weather in Paris and the time in Tokyo?';

export function register(t, ctx) {
  const sdk = (key) => new Anthropic({ apiKey: key, baseURL: ctx.gw.url, maxRetries: 0 });

  for (const b of ctx.backends) {
    const client = () => sdk(b.key);

    t.test(`anthropic sdk [${b.name}]: non-stream text, usage, system, upstream auth`, async () => {
      b.mock.script({ text: 'Hello from the mock upstream.', usage: { input: 21, output: 9 } });
      const m = await client().messages.create({
        model: b.model,
        max_tokens: 256,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Say hello' }],
      });
      assert.equal(m.type, 'message');
      assert.equal(m.role, 'assistant');
      assert.deepEqual(
        m.content.map((c) => [c.type, c.text]),
        [['text', 'Hello from the mock upstream.']],
      );
      assert.equal(m.stop_reason, 'end_turn');
      assert.deepEqual({ input: m.usage.input_tokens, output: m.usage.output_tokens }, { input: 21, output: 9 });
      const rec = b.mock.last();
      assert.equal(rec.summary.system, 'Be brief.');
      assert.deepEqual(rec.summary.userTexts, ['Say hello']);
      assertUpstreamAuth(b, rec);
    });

    t.test(`anthropic sdk [${b.name}]: stream with text and parallel tool_use (input_json_delta)`, async () => {
      b.mock.script({ text: 'Let me check.', toolCalls: parallelCalls(b.protocol), usage: { input: 44, output: 17 } });
      const stream = client().messages.stream({
        model: b.model,
        max_tokens: 1024,
        tools: anthropicTools,
        messages: [{ role: 'user', content: question }],
      });
      const partial = {};
      const started = {};
      const names = [];
      let text = '';
      for await (const ev of stream) {
        if (ev.type === 'content_block_start') {
          started[ev.index] = ev.content_block.type;
          if (ev.content_block.type === 'tool_use') names.push(ev.content_block.name);
        }
        if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') {
          partial[ev.index] = (partial[ev.index] ?? '') + ev.delta.partial_json;
        }
        if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
      }
      assert.equal(text, 'Let me check.');
      assert.deepEqual(started, { 0: 'text', 1: 'tool_use', 2: 'tool_use' });
      assert.deepEqual(names, ['get_weather', 'get_time']);
      assert.deepEqual(JSON.parse(partial[1]), weatherArgs);
      assert.deepEqual(JSON.parse(partial[2]), timeArgs);
      const final = await stream.finalMessage();
      assert.deepEqual(
        final.content.map((c) => c.type),
        ['text', 'tool_use', 'tool_use'],
      );
      assert.deepEqual(final.content[1].input, weatherArgs);
      assert.deepEqual(final.content[2].input, timeArgs);
      assert.ok(final.content[1].id && final.content[2].id && final.content[1].id !== final.content[2].id, 'tool_use ids');
      if (b.protocol !== 'gemini')
        assert.deepEqual(
          [final.content[1].id, final.content[2].id],
          parallelCalls(b.protocol).map((c) => c.id),
        );
      assert.equal(final.stop_reason, 'tool_use');
      assert.deepEqual({ input: final.usage.input_tokens, output: final.usage.output_tokens }, { input: 44, output: 17 });
      assertToolsReceived(b, b.mock.last());
    });

    t.test(`anthropic sdk [${b.name}]: non-stream tool_use and tool_result round trip`, async () => {
      b.mock.script({ toolCalls: parallelCalls(b.protocol) });
      const messages = [{ role: 'user', content: question }];
      const first = await client().messages.create({ model: b.model, max_tokens: 1024, tools: anthropicTools, messages });
      assert.equal(first.stop_reason, 'tool_use');
      const uses = first.content.filter((c) => c.type === 'tool_use');
      assert.deepEqual(
        uses.map((u) => [u.name, u.input]),
        [
          ['get_weather', weatherArgs],
          ['get_time', timeArgs],
        ],
      );
      messages.push({ role: 'assistant', content: first.content });
      messages.push({
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: uses[0].id, content: '18°C and sunny' },
          { type: 'tool_result', tool_use_id: uses[1].id, content: [{ type: 'text', text: '21:04' }] },
        ],
      });
      b.mock.script({ text: 'Paris: 18°C and sunny. Tokyo: 21:04.' });
      const second = await client().messages.create({ model: b.model, max_tokens: 1024, tools: anthropicTools, messages });
      assert.equal(second.content[0].text, 'Paris: 18°C and sunny. Tokyo: 21:04.');
      assertToolResultsReceived(b, b.mock.last(), { weather: '18°C and sunny', time: '21:04' });
    });

    t.test(`anthropic sdk [${b.name}]: image block`, async () => {
      b.mock.script({ text: 'A single transparent pixel.' });
      const m = await client().messages.create({
        model: b.model,
        max_tokens: 256,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pngBase64 } },
              { type: 'text', text: 'What is in this image?' },
            ],
          },
        ],
      });
      assert.equal(m.content[0].text, 'A single transparent pixel.');
      assertImageReceived(b, b.mock.last());
    });

    t.test(`anthropic sdk [${b.name}]: upstream 400 becomes BadRequestError with the upstream's message`, async () => {
      b.mock.script({ error: { status: 400, message: 'mock: messages.0.content is empty' } });
      const err = await rejects(
        () => client().messages.create({ model: b.model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
        'create',
      );
      assert.ok(err instanceof Anthropic.BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.status, 400);
      assert.match(err.message, /messages\.0\.content is empty/);
    });

    t.test(`anthropic sdk [${b.name}]: error in the middle of a stream`, async () => {
      b.mock.script({ text: 'partial answer', streamError: { message: 'mock: upstream overloaded' } });
      let text = '';
      const err = await rejects(async () => {
        const stream = client().messages.stream({ model: b.model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
        for await (const ev of stream) if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
      }, 'stream');
      assert.ok(err instanceof Anthropic.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.match(err.message, /upstream overloaded/);
      assert.equal(text, 'partial answer');
    });

    t.test(`anthropic sdk [${b.name}]: count_tokens`, async () => {
      b.mock.script({ usage: { input: 123, output: 0 } });
      const r = await client().messages.countTokens({ model: b.model, messages: [{ role: 'user', content: 'How many tokens is this?' }] });
      if (b.protocol === 'openai') assert.ok(Number.isInteger(r.input_tokens) && r.input_tokens > 0, `estimate ${r.input_tokens}`);
      else assert.equal(r.input_tokens, 123);
    });
  }

  t.test('anthropic sdk: a wrong key is AuthenticationError (401)', async () => {
    const err = await rejects(
      () => sdk('gm_not-a-real-key').messages.create({ model: 'x', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      'create',
    );
    assert.ok(err instanceof Anthropic.AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 401);
    assert.equal(err.error?.type, 'error');
  });

  t.test('anthropic sdk: an old-style x-api-key caller (anthropic-version 2023-06-01) is accepted', async () => {
    const b = ctx.backends.find((x) => x.protocol === 'anthropic');
    b.mock.script({ text: 'hello old client' });
    const old = new Anthropic({
      apiKey: null,
      authToken: null,
      baseURL: ctx.gw.url,
      maxRetries: 0,
      defaultHeaders: { 'x-api-key': b.key, 'anthropic-version': '2023-06-01' },
    });
    const m = await old.messages.create({ model: b.model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(m.content[0].text, 'hello old client');
    assertUpstreamAuth(b, b.mock.last());
  });
}
