// The official `openai` SDK against the gateway's OpenAI front door, over every backend.

import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  assertCallIds,
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

const openaiTools = tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.schema } }));
const question = 'What is the weather in Paris and the time in Tokyo?';

export function register(t, ctx) {
  const sdk = (key) => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });

  for (const b of ctx.backends) {
    const client = () => sdk(b.key);

    t.test(`openai sdk [${b.name}]: non-stream text, usage, system prompt, upstream auth`, async () => {
      b.mock.script({ text: 'Hello from the mock upstream.', usage: { input: 21, output: 9 } });
      const r = await client().chat.completions.create({
        model: b.model,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Say hello' },
        ],
      });
      assert.equal(r.choices[0].message.content, 'Hello from the mock upstream.');
      assert.equal(r.choices[0].finish_reason, 'stop');
      assert.match(r._request_id ?? '', /\S/, 'no x-request-id on the answer');
      assert.deepEqual({ p: r.usage.prompt_tokens, c: r.usage.completion_tokens, t: r.usage.total_tokens }, { p: 21, c: 9, t: 30 });
      const rec = b.mock.last();
      assert.equal(rec.summary.system, 'Be brief.');
      assert.deepEqual(rec.summary.userTexts, ['Say hello']);
      assertUpstreamAuth(b, rec);
    });

    t.test(`openai sdk [${b.name}]: stream text with include_usage`, async () => {
      const text = 'Streaming through the gateway, piece by piece.';
      b.mock.script({ text, usage: { input: 33, output: 12 } });
      const stream = await client().chat.completions.create({
        model: b.model,
        messages: [{ role: 'user', content: 'Stream something' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let got = '';
      let finish = null;
      let usage = null;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        got += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(got, text);
      assert.ok(chunks > 3, `expected the answer in several chunks, got ${chunks}`);
      assert.equal(finish, 'stop');
      assert.deepEqual({ p: usage?.prompt_tokens, c: usage?.completion_tokens, t: usage?.total_tokens }, { p: 33, c: 12, t: 45 });
      if (b.protocol === 'gemini') assert.equal(b.mock.last().query, '?alt=sse');
    });

    t.test(`openai sdk [${b.name}]: stream without include_usage has no usage chunk`, async () => {
      b.mock.script({ text: 'No usage for you.' });
      const stream = await client().chat.completions.create({
        model: b.model,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      let got = '';
      for await (const chunk of stream) {
        assert.ok(!chunk.usage, `unexpected usage chunk ${JSON.stringify(chunk)}`);
        assert.ok(chunk.choices.length > 0, `unexpected chunk without choices ${JSON.stringify(chunk)}`);
        got += chunk.choices[0]?.delta?.content ?? '';
      }
      assert.equal(got, 'No usage for you.');
    });

    t.test(`openai sdk [${b.name}]: stream parallel tool calls (indices, ids, arguments)`, async () => {
      b.mock.script({ toolCalls: parallelCalls(b.protocol), usage: { input: 50, output: 20 } });
      const stream = await client().chat.completions.create({
        model: b.model,
        messages: [{ role: 'user', content: question }],
        tools: openaiTools,
        stream: true,
        stream_options: { include_usage: true },
      });
      const calls = [];
      let finish = null;
      let usage = null;
      for await (const chunk of stream) {
        for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) {
          const c = (calls[tc.index] ??= { id: '', name: '', args: '' });
          if (tc.id) c.id = tc.id;
          if (tc.function?.name) c.name += tc.function.name;
          if (tc.function?.arguments) c.args += tc.function.arguments;
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(calls.length, 2, `tool call indices: ${JSON.stringify(calls)}`);
      assert.ok(calls.every(Boolean), `a tool call index was skipped: ${JSON.stringify(calls)}`);
      assert.deepEqual(
        calls.map((c) => c.name),
        ['get_weather', 'get_time'],
      );
      assert.deepEqual(JSON.parse(calls[0].args), weatherArgs);
      assert.deepEqual(JSON.parse(calls[1].args), timeArgs);
      assertCallIds(
        b.protocol,
        calls.map((c) => c.id),
      );
      assert.equal(finish, 'tool_calls');
      assert.deepEqual({ p: usage?.prompt_tokens, c: usage?.completion_tokens }, { p: 50, c: 20 });
      assertToolsReceived(b, b.mock.last());
    });

    t.test(`openai sdk [${b.name}]: stream helper finalChatCompletion with text and tool calls`, async () => {
      b.mock.script({ text: 'Let me look that up.', toolCalls: parallelCalls(b.protocol) });
      const runner = client().chat.completions.stream({
        model: b.model,
        messages: [{ role: 'user', content: question }],
        tools: openaiTools,
      });
      const done = [];
      runner.on('tool_calls.function.arguments.done', (e) =>
        done.push({ name: e.name, args: e.parsed_arguments ?? JSON.parse(e.arguments) }),
      );
      const final = await runner.finalChatCompletion();
      const msg = final.choices[0].message;
      assert.equal(msg.content, 'Let me look that up.');
      assert.deepEqual(
        msg.tool_calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]),
        [
          ['get_weather', weatherArgs],
          ['get_time', timeArgs],
        ],
      );
      assert.deepEqual(done, [
        { name: 'get_weather', args: weatherArgs },
        { name: 'get_time', args: timeArgs },
      ]);
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
    });

    t.test(`openai sdk [${b.name}]: non-stream parallel tool calls`, async () => {
      b.mock.script({ toolCalls: parallelCalls(b.protocol), usage: { input: 50, output: 20 } });
      const r = await client().chat.completions.create({
        model: b.model,
        messages: [{ role: 'user', content: question }],
        tools: openaiTools,
        tool_choice: 'auto',
      });
      const msg = r.choices[0].message;
      assert.equal(r.choices[0].finish_reason, 'tool_calls');
      assert.deepEqual(
        msg.tool_calls.map((c) => c.type),
        ['function', 'function'],
      );
      assert.deepEqual(
        msg.tool_calls.map((c) => c.function.name),
        ['get_weather', 'get_time'],
      );
      assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), weatherArgs);
      assert.deepEqual(JSON.parse(msg.tool_calls[1].function.arguments), timeArgs);
      assertCallIds(
        b.protocol,
        msg.tool_calls.map((c) => c.id),
      );
      assertToolsReceived(b, b.mock.last());
    });

    t.test(`openai sdk [${b.name}]: tool results round trip to the upstream`, async () => {
      b.mock.script({ toolCalls: parallelCalls(b.protocol) });
      const messages = [{ role: 'user', content: question }];
      const first = await client().chat.completions.create({ model: b.model, messages, tools: openaiTools });
      const assistant = first.choices[0].message;
      assert.equal(assistant.tool_calls?.length, 2);
      messages.push(assistant);
      messages.push({ role: 'tool', tool_call_id: assistant.tool_calls[0].id, content: '18°C and sunny' });
      messages.push({ role: 'tool', tool_call_id: assistant.tool_calls[1].id, content: '21:04' });
      b.mock.script({ text: 'Paris: 18°C and sunny. Tokyo: 21:04.' });
      const stream = await client().chat.completions.create({ model: b.model, messages, tools: openaiTools, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      assert.equal(text, 'Paris: 18°C and sunny. Tokyo: 21:04.');
      assertToolResultsReceived(b, b.mock.last(), { weather: '18°C and sunny', time: '21:04' });
    });

    t.test(`openai sdk [${b.name}]: image input as a data URL`, async () => {
      b.mock.script({ text: 'A single transparent pixel.' });
      const r = await client().chat.completions.create({
        model: b.model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this image?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${pngBase64}` } },
            ],
          },
        ],
      });
      assert.equal(r.choices[0].message.content, 'A single transparent pixel.');
      const rec = b.mock.last();
      assertImageReceived(b, rec);
      assert.deepEqual(rec.summary.userTexts, ['What is in this image?']);
    });

    t.test(`openai sdk [${b.name}]: upstream 400 becomes BadRequestError with the upstream's message`, async () => {
      b.mock.script({ error: { status: 400, message: 'mock: messages[0].content is not valid' } });
      const err = await rejects(
        () => client().chat.completions.create({ model: b.model, messages: [{ role: 'user', content: 'x' }] }),
        'create',
      );
      assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.status, 400);
      assert.match(err.message, /messages\[0\]\.content is not valid/);
      assert.equal(b.mock.chats().length, 1);
    });

    t.test(`openai sdk [${b.name}]: upstream 429 becomes RateLimitError`, async () => {
      // Retry-After 0: a longer one would rest the client's only upstream key for that long
      // (SPEC §15), and the next tests would get this 429 from the gateway without a call.
      b.mock.script({ error: { status: 429, message: 'mock: slow down', headers: { 'retry-after': '0' } } });
      const err = await rejects(
        () => client().chat.completions.create({ model: b.model, messages: [{ role: 'user', content: 'x' }] }),
        'create',
      );
      assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.status, 429);
      assert.match(err.message, /slow down/);
    });

    t.test(`openai sdk [${b.name}]: upstream error on a stream request`, async () => {
      b.mock.script({ error: { status: 400, message: 'mock: stream refused' } });
      const err = await rejects(async () => {
        const s = await client().chat.completions.create({ model: b.model, messages: [{ role: 'user', content: 'x' }], stream: true });
        for await (const _ of s);
      }, 'stream');
      assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.match(err.message, /stream refused/);
    });

    t.test(`openai sdk [${b.name}]: error in the middle of a stream`, async () => {
      b.mock.script({ text: 'partial answer', streamError: { message: 'mock: upstream exploded' } });
      let text = '';
      const err = await rejects(async () => {
        const s = await client().chat.completions.create({ model: b.model, messages: [{ role: 'user', content: 'x' }], stream: true });
        for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
      }, 'stream');
      assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.match(err.message, /upstream exploded/);
      assert.equal(text, 'partial answer');
    });

    t.test(`openai sdk [${b.name}]: models list and retrieve`, async () => {
      const page = await client().models.list();
      const ids = page.data.map((m) => m.id);
      assert.deepEqual([...ids].sort(), [...b.models].sort());
      assert.ok(page.data.every((m) => m.object === 'model'));
      const one = await client().models.retrieve(b.models[0]);
      assert.equal(one.id, b.models[0]);
      const err = await rejects(() => client().models.retrieve('no-such-model'), 'retrieve');
      assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err?.message}`);
    });

    if (b.protocol !== 'anthropic') {
      t.test(`openai sdk [${b.name}]: embeddings (SDK default base64 and float)`, async () => {
        const vectors = [
          [0.5, -0.25, 0.125],
          [1, 2, -3.5],
        ];
        b.mock.script({ embeddings: vectors, usage: { input: 6, output: 0 } });
        const r = await client().embeddings.create({ model: b.embeddingModel, input: ['first text', 'second text'] });
        assert.deepEqual(
          r.data.map((d) => d.embedding),
          vectors,
        );
        assert.deepEqual(
          r.data.map((d) => d.index),
          [0, 1],
        );
        const f = await client().embeddings.create({ model: b.embeddingModel, input: 'one', encoding_format: 'float' });
        assert.deepEqual(f.data[0].embedding, vectors[0]);
        if (b.protocol === 'openai') assert.equal(r.usage.prompt_tokens, 6);
      });
    } else {
      t.test(`openai sdk [${b.name}]: embeddings on a backend without them is a clear 400`, async () => {
        const err = await rejects(() => client().embeddings.create({ model: b.model, input: 'x' }), 'embeddings');
        assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.match(err.message, /embedding/i);
      });
    }
  }

  t.test('openai sdk: a wrong key is AuthenticationError (401)', async () => {
    const err = await rejects(
      () => sdk('gm_not-a-real-key').chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }),
      'create',
    );
    assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 401);
  });

  t.test('openai sdk: a model outside the whitelist is PermissionDeniedError (403)', async () => {
    const w = ctx.whitelisted;
    w.mock.script({ text: 'allowed' });
    const ok = await sdk(w.key).chat.completions.create({ model: w.allowed, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(ok.choices[0].message.content, 'allowed');
    w.mock.script({ text: 'must not be called' });
    const err = await rejects(
      () => sdk(w.key).chat.completions.create({ model: 'not-allowed-model', messages: [{ role: 'user', content: 'x' }] }),
      'create',
    );
    assert.ok(err instanceof OpenAI.PermissionDeniedError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 403);
    assert.equal(w.mock.chats().length, 0, 'a refused request reached the upstream');
    const models = await sdk(w.key).models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      [w.allowed],
    );
  });
}
