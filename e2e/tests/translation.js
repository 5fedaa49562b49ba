// Request parameters and usage details across protocols, through the real SDKs: sampling, stop
// sequences, a forced tool, JSON schema output, and cached/reasoning token counts, each checked
// where it lands (the upstream's own fields) and where it comes back (the SDK's usage object).

import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { tools } from '../lib/fixtures.js';

// answerSchema is what a caller asks the answer to look like (OpenAI strict mode style).
const answerSchema = {
  type: 'object',
  properties: { answer: { type: 'string' }, confidence: { type: 'number' } },
  required: ['answer', 'confidence'],
  additionalProperties: false,
};
const answerJSON = '{"answer":"42","confidence":0.9}';

// received normalizes the parameters an upstream got, whatever its protocol.
function received(protocol, body) {
  if (protocol === 'openai') {
    const tc = body.tool_choice;
    const rf = body.response_format;
    return {
      temperature: body.temperature,
      topP: body.top_p,
      stop: body.stop === undefined ? undefined : [body.stop].flat(),
      toolChoice:
        tc === undefined
          ? undefined
          : typeof tc === 'string'
            ? { auto: 'auto', required: 'any', none: 'none' }[tc]
            : `tool:${tc.function?.name}`,
      schema: rf?.type === 'json_schema' ? rf.json_schema?.schema : undefined,
    };
  }
  if (protocol === 'anthropic') {
    const tc = body.tool_choice;
    return {
      temperature: body.temperature,
      topP: body.top_p,
      stop: body.stop_sequences,
      toolChoice: tc === undefined ? undefined : tc.type === 'tool' ? `tool:${tc.name}` : tc.type,
      schema: body.output_config?.format?.schema,
    };
  }
  const gc = body.generationConfig ?? {};
  const fc = body.toolConfig?.functionCallingConfig;
  const allowed = fc?.allowedFunctionNames ?? [];
  return {
    temperature: gc.temperature,
    topP: gc.topP,
    stop: gc.stopSequences,
    toolChoice:
      fc === undefined ? undefined : fc.mode === 'ANY' && allowed.length === 1 ? `tool:${allowed[0]}` : String(fc.mode).toLowerCase(),
    schema: gc.responseJsonSchema ?? gc.responseSchema,
  };
}

// assertSchema checks the answer schema arrived with its properties (Gemini's OpenAPI subset
// spells types in capitals).
function assertSchema(schema) {
  assert.ok(schema, 'no response schema reached the upstream');
  assert.equal(String(schema.properties?.answer?.type).toLowerCase(), 'string');
  assert.equal(String(schema.properties?.confidence?.type).toLowerCase(), 'number');
  assert.deepEqual(schema.required, ['answer', 'confidence']);
}

const doors = {
  openai: {
    client: (ctx, b) => new OpenAI({ apiKey: b.key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 }),
    async params(c, b) {
      const r = await c.chat.completions.create({
        model: b.model,
        messages: [{ role: 'user', content: 'What time is it in Tokyo?' }],
        temperature: 0,
        top_p: 0.5,
        stop: ['END'],
        tools: tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.schema } })),
        tool_choice: { type: 'function', function: { name: 'get_time' } },
      });
      return r.choices[0].message.content;
    },
    async json(c, b) {
      const r = await c.chat.completions.create({
        model: b.model,
        messages: [{ role: 'user', content: 'Answer as JSON' }],
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: answerSchema, strict: true } },
      });
      return r.choices[0].message.content;
    },
    async usage(c, b, stream) {
      const req = { model: b.model, messages: [{ role: 'user', content: 'x' }] };
      if (!stream) return (await c.chat.completions.create(req)).usage;
      let usage = null;
      for await (const chunk of await c.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } })) {
        usage = chunk.usage ?? usage;
      }
      return usage;
    },
    checkUsage(u, want) {
      assert.deepEqual(
        { prompt: u.prompt_tokens, completion: u.completion_tokens, total: u.total_tokens, cached: u.prompt_tokens_details?.cached_tokens },
        { prompt: want.input, completion: want.output, total: want.input + want.output, cached: want.cached },
      );
      if (want.reasoning !== undefined) assert.equal(u.completion_tokens_details?.reasoning_tokens, want.reasoning);
    },
  },
  anthropic: {
    client: (ctx, b) => new Anthropic({ apiKey: b.key, baseURL: ctx.gw.url, maxRetries: 0 }),
    async params(c, b) {
      const m = await c.messages.create({
        model: b.model,
        max_tokens: 200,
        messages: [{ role: 'user', content: 'What time is it in Tokyo?' }],
        temperature: 0,
        top_p: 0.5,
        stop_sequences: ['END'],
        tools: tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.schema })),
        tool_choice: { type: 'tool', name: 'get_time' },
      });
      return m.content.find((x) => x.type === 'text')?.text;
    },
    async json(c, b) {
      const m = await c.messages.create({
        model: b.model,
        max_tokens: 200,
        messages: [{ role: 'user', content: 'Answer as JSON' }],
        output_config: { format: { type: 'json_schema', schema: answerSchema } },
      });
      return m.content[0].text;
    },
    async usage(c, b, stream) {
      const req = { model: b.model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] };
      if (!stream) return (await c.messages.create(req)).usage;
      return (await c.messages.stream(req).finalMessage()).usage;
    },
    checkUsage(u, want) {
      assert.deepEqual(
        { input: u.input_tokens, cacheRead: u.cache_read_input_tokens, output: u.output_tokens },
        { input: want.input - want.cached, cacheRead: want.cached, output: want.output },
      );
    },
  },
  genai: {
    client: (ctx, b) => new GoogleGenAI({ apiKey: b.key, httpOptions: { baseUrl: ctx.gw.url } }),
    async params(c, b) {
      const r = await c.models.generateContent({
        model: b.model,
        contents: 'What time is it in Tokyo?',
        config: {
          temperature: 0,
          topP: 0.5,
          stopSequences: ['END'],
          tools: [
            { functionDeclarations: tools.map((t) => ({ name: t.name, description: t.description, parametersJsonSchema: t.schema })) },
          ],
          toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } },
        },
      });
      return r.text;
    },
    async json(c, b) {
      const r = await c.models.generateContent({
        model: b.model,
        contents: 'Answer as JSON',
        config: { responseMimeType: 'application/json', responseJsonSchema: answerSchema },
      });
      return r.text;
    },
    async usage(c, b, stream) {
      const req = { model: b.model, contents: 'x' };
      if (!stream) return (await c.models.generateContent(req)).usageMetadata;
      let usage = null;
      for await (const chunk of await c.models.generateContentStream(req)) usage = chunk.usageMetadata ?? usage;
      return usage;
    },
    checkUsage(u, want) {
      assert.deepEqual(
        {
          prompt: u.promptTokenCount,
          cached: u.cachedContentTokenCount,
          output: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
          total: u.totalTokenCount,
        },
        { prompt: want.input, cached: want.cached, output: want.output, total: want.input + want.output },
      );
      if (want.reasoning !== undefined) assert.equal(u.thoughtsTokenCount, want.reasoning);
    },
  },
};

export function register(t, ctx) {
  for (const b of ctx.backends) {
    for (const [name, door] of Object.entries(doors)) {
      t.test(`translation [${name} sdk → ${b.name}]: temperature 0, top_p, stop sequences, a forced tool`, async () => {
        b.mock.script({ text: 'ok' });
        assert.equal(await door.params(door.client(ctx, b), b), 'ok');
        const got = received(b.protocol, b.mock.last().body);
        assert.deepEqual(got, { temperature: 0, topP: 0.5, stop: ['END'], toolChoice: 'tool:get_time', schema: undefined });
      });

      t.test(`translation [${name} sdk → ${b.name}]: JSON schema output`, async () => {
        b.mock.script({ text: answerJSON });
        assert.equal(await door.json(door.client(ctx, b), b), answerJSON);
        assertSchema(received(b.protocol, b.mock.last().body).schema);
      });

      for (const stream of [false, true]) {
        t.test(
          `translation [${name} sdk → ${b.name}]: usage with cached and reasoning tokens, ${stream ? 'stream' : 'non-stream'}`,
          async () => {
            // Anthropic reports no separate reasoning count.
            const usage = { input: 100, output: 40, cached: 30, ...(b.protocol === 'anthropic' ? {} : { reasoning: 12 }) };
            b.mock.script({ text: 'ok', usage });
            const got = await door.usage(door.client(ctx, b), b, stream);
            assert.ok(got, 'no usage');
            door.checkUsage(got, usage);
          },
        );
      }
    }
  }
}
