// The Vercel AI SDK with @ai-sdk/openai-compatible (what opencode and many apps use) against the
// OpenAI front door, over every backend.

import assert from 'node:assert/strict';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { assertToolResultsReceived, assertToolsReceived, parallelCalls, timeArgs, tools, weatherArgs } from '../lib/fixtures.js';

// aiTools are the fixtures' tools for the AI SDK; with execute they run locally.
function aiTools(execute) {
  return Object.fromEntries(
    tools.map((t) => [t.name, tool({ description: t.description, inputSchema: jsonSchema(t.schema), execute: execute?.[t.name] })]),
  );
}

export function register(t, ctx) {
  for (const b of ctx.backends) {
    const provider = () => createOpenAICompatible({ name: 'gw', baseURL: `${ctx.gw.url}/v1`, apiKey: b.key, includeUsage: true });

    t.test(`ai sdk [${b.name}]: streamText with tools: text, tool calls, usage`, async () => {
      b.mock.script({ text: 'Checking both.', toolCalls: parallelCalls(b.protocol), usage: { input: 40, output: 12 } });
      const errors = [];
      const result = streamText({
        model: provider()(b.model),
        prompt: 'What is the weather in Paris and the time in Tokyo?',
        tools: aiTools(),
        maxRetries: 0,
        onError: ({ error }) => errors.push(error),
      });
      const deltas = { text: 0, toolInput: 0 };
      for await (const part of result.fullStream) {
        if (part.type === 'text-delta') deltas.text++;
        if (part.type === 'tool-input-delta') deltas.toolInput++;
      }
      assert.deepEqual(errors, []);
      assert.equal(await result.text, 'Checking both.');
      const calls = await result.toolCalls;
      assert.deepEqual(
        calls.map((c) => [c.toolName, c.input]),
        [
          ['get_weather', weatherArgs],
          ['get_time', timeArgs],
        ],
      );
      assert.ok(
        calls.every((c) => c.toolCallId),
        'tool calls without ids',
      );
      assert.notEqual(calls[0].toolCallId, calls[1].toolCallId);
      assert.equal(await result.finishReason, 'tool-calls');
      const usage = await result.usage;
      assert.deepEqual(
        { input: usage.inputTokens, output: usage.outputTokens, total: usage.totalTokens },
        { input: 40, output: 12, total: 52 },
      );
      assert.ok(deltas.text > 1, 'text was not streamed');
      assert.ok(deltas.toolInput > 1, 'tool arguments were not streamed');
      const rec = b.mock.last();
      assertToolsReceived(b, rec);
      if (b.protocol === 'openai') assert.equal(rec.body.stream_options?.include_usage, true);
    });

    t.test(`ai sdk [${b.name}]: streamText runs the tools and sends the results back (two steps)`, async () => {
      b.mock.script((rec) =>
        rec.summary.toolResults.length
          ? { text: 'Paris is sunny; in Tokyo it is 21:04.', usage: { input: 70, output: 10 } }
          : { toolCalls: parallelCalls(b.protocol), usage: { input: 40, output: 12 } },
      );
      const ran = [];
      const result = streamText({
        model: provider()(b.model),
        prompt: 'What is the weather in Paris and the time in Tokyo?',
        tools: aiTools({
          get_weather: async (input) => (ran.push(['get_weather', input]), '18°C and sunny'),
          get_time: async (input) => (ran.push(['get_time', input]), '21:04'),
        }),
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      });
      assert.equal(await result.text, 'Paris is sunny; in Tokyo it is 21:04.');
      assert.deepEqual(ran, [
        ['get_weather', weatherArgs],
        ['get_time', timeArgs],
      ]);
      assert.equal((await result.steps).length, 2);
      const total = await result.totalUsage;
      assert.deepEqual({ input: total.inputTokens, output: total.outputTokens }, { input: 110, output: 22 });
      assert.equal(b.mock.chats().length, 2);
      assertToolResultsReceived(b, b.mock.last(), { weather: '18°C and sunny', time: '21:04' });
    });

    t.test(`ai sdk [${b.name}]: an upstream error reaches onError with its message`, async () => {
      b.mock.script({ error: { status: 400, message: 'mock: context too long for this model' } });
      const errors = [];
      const result = streamText({
        model: provider()(b.model),
        prompt: 'hi',
        maxRetries: 0,
        onError: ({ error }) => errors.push(error),
      });
      for await (const _ of result.fullStream);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].statusCode, 400);
      assert.match(errors[0].message, /context too long/);
    });
  }
}
