// What real upstreams do that a translator must survive, seen through the real SDKs:
// OpenAI-compatible servers with SSE comments, CRLF framing, no [DONE], usage in the finish
// chunk and whole tool arguments in one fragment; and reasoning (Anthropic thinking blocks,
// Gemini thought parts, OpenAI-compatible reasoning_content) ahead of the text and tool calls,
// which shifts Anthropic's block indices.

import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { jsonSchema, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { parallelCalls, timeArgs, tools, weatherArgs } from '../lib/fixtures.js';

const question = 'What is the weather in Paris and the time in Tokyo?';
const expectedCalls = [
  ['get_weather', weatherArgs],
  ['get_time', timeArgs],
];

// Each front door, streamed, reduced to what a user sees: text, reasoning, tool calls, usage.
const frontDoors = {
  async openai(ctx, b) {
    const client = new OpenAI({ apiKey: b.key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: b.model,
      messages: [{ role: 'user', content: question }],
      tools: tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.schema } })),
      stream: true,
      stream_options: { include_usage: true },
    });
    const out = { text: '', reasoning: '', calls: [], usage: null };
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta ?? {};
      out.text += d.content ?? '';
      out.reasoning += d.reasoning_content ?? '';
      for (const tc of d.tool_calls ?? []) {
        const c = (out.calls[tc.index] ??= { name: '', args: '' });
        c.name += tc.function?.name ?? '';
        c.args += tc.function?.arguments ?? '';
      }
      if (chunk.usage) out.usage = { input: chunk.usage.prompt_tokens, output: chunk.usage.completion_tokens };
    }
    assert.ok(out.calls.every(Boolean), `a tool call index was skipped: ${JSON.stringify(out.calls)}`);
    out.calls = out.calls.map((c) => [c.name, JSON.parse(c.args)]);
    return out;
  },

  async anthropic(ctx, b) {
    const client = new Anthropic({ apiKey: b.key, baseURL: ctx.gw.url, maxRetries: 0 });
    const stream = client.messages.stream({
      model: b.model,
      max_tokens: 1024,
      tools: tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.schema })),
      messages: [{ role: 'user', content: question }],
    });
    const m = await stream.finalMessage();
    return {
      text: m.content
        .filter((c) => c.type === 'text')
        .map((c) => c.text)
        .join(''),
      reasoning: m.content
        .filter((c) => c.type === 'thinking')
        .map((c) => c.thinking)
        .join(''),
      calls: m.content.filter((c) => c.type === 'tool_use').map((c) => [c.name, c.input]),
      usage: { input: m.usage.input_tokens, output: m.usage.output_tokens },
      blocks: m.content.map((c) => c.type),
    };
  },

  async genai(ctx, b) {
    const ai = new GoogleGenAI({ apiKey: b.key, httpOptions: { baseUrl: ctx.gw.url } });
    const stream = await ai.models.generateContentStream({
      model: b.model,
      contents: question,
      config: {
        tools: [{ functionDeclarations: tools.map((t) => ({ name: t.name, description: t.description, parametersJsonSchema: t.schema })) }],
      },
    });
    const out = { text: '', reasoning: '', calls: [], usage: null };
    for await (const chunk of stream) {
      for (const p of chunk.candidates?.[0]?.content?.parts ?? []) {
        if (typeof p.text === 'string') {
          if (p.thought) out.reasoning += p.text;
          else out.text += p.text;
        }
        if (p.functionCall) out.calls.push([p.functionCall.name, p.functionCall.args]);
      }
      if (chunk.usageMetadata) {
        out.usage = {
          input: chunk.usageMetadata.promptTokenCount,
          output: (chunk.usageMetadata.candidatesTokenCount ?? 0) + (chunk.usageMetadata.thoughtsTokenCount ?? 0),
        };
      }
    }
    return out;
  },

  async 'ai sdk'(ctx, b) {
    const provider = createOpenAICompatible({ name: 'gw', baseURL: `${ctx.gw.url}/v1`, apiKey: b.key, includeUsage: true });
    const result = streamText({
      model: provider(b.model),
      prompt: question,
      tools: Object.fromEntries(tools.map((t) => [t.name, tool({ description: t.description, inputSchema: jsonSchema(t.schema) })])),
      maxRetries: 0,
    });
    const usage = await result.usage;
    return {
      text: await result.text,
      reasoning: (await result.reasoningText) ?? '',
      calls: (await result.toolCalls).map((c) => [c.toolName, c.input]),
      usage: { input: usage.inputTokens, output: usage.outputTokens },
    };
  },
};

export function register(t, ctx) {
  const openaiBackend = ctx.backends.find((b) => b.protocol === 'openai');
  for (const [door, drive] of Object.entries(frontDoors)) {
    t.test(
      `quirks: ${door} front door over an OpenAI-compatible upstream with comments, CRLF, no [DONE], usage in the finish chunk`,
      async () => {
        const b = openaiBackend;
        b.mock.script({
          text: 'Looking both up.',
          toolCalls: parallelCalls('openai'),
          usage: { input: 61, output: 23 },
          quirks: { keepalive: true, crlf: true, noDone: true, usageWithFinish: true, argsWhole: true },
        });
        const out = await drive(ctx, b);
        assert.equal(out.text, 'Looking both up.');
        assert.deepEqual(out.calls, expectedCalls);
        assert.deepEqual(out.usage, { input: 61, output: 23 });
      },
    );
  }

  const thinking = 'The user wants two things; call both tools.';
  for (const b of ctx.backends) {
    for (const [door, drive] of Object.entries(frontDoors)) {
      if (door === 'ai sdk') continue;
      const same = { openai: 'openai', anthropic: 'anthropic', genai: 'gemini' }[door] === b.protocol;
      if (same) continue; // forwarded as is; the translated paths are the ones at risk
      t.test(`reasoning: ${door} front door over ${b.name} reasoning, text and parallel tool calls`, async () => {
        b.mock.script({ thinking, text: 'Checking both.', toolCalls: parallelCalls(b.protocol), usage: { input: 70, output: 30 } });
        const out = await drive(ctx, b);
        assert.equal(out.text, 'Checking both.', 'reasoning must not leak into the answer text');
        assert.equal(out.reasoning, thinking);
        assert.deepEqual(out.calls, expectedCalls);
        assert.equal(out.usage.input, 70);
        if (out.blocks) assert.deepEqual(out.blocks, ['thinking', 'text', 'tool_use', 'tool_use']);
      });
    }
  }
}
