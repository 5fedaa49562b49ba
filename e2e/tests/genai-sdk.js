// The official @google/genai SDK against the gateway's Gemini front door (/v1beta), over every
// backend.

import assert from 'node:assert/strict';
import { GoogleGenAI } from '@google/genai';
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

const functionDeclarations = tools.map((t) => ({ name: t.name, description: t.description, parametersJsonSchema: t.schema }));
const question = 'What is the weather in Paris and the time in Tokyo?';

// textOf joins a response's text parts (the SDK's .text getter warns when function calls are there).
function textOf(r) {
  return (r.candidates?.[0]?.content?.parts ?? [])
    .filter((p) => typeof p.text === 'string' && !p.thought)
    .map((p) => p.text)
    .join('');
}

export function register(t, ctx) {
  const sdk = (key) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: ctx.gw.url } });

  for (const b of ctx.backends) {
    const ai = () => sdk(b.key);

    t.test(`genai sdk [${b.name}]: generateContent text, usage, system instruction, upstream auth`, async () => {
      b.mock.script({ text: 'Hello from the mock upstream.', usage: { input: 21, output: 9 } });
      const r = await ai().models.generateContent({
        model: b.model,
        contents: 'Say hello',
        config: { systemInstruction: 'Be brief.' },
      });
      assert.equal(r.text, 'Hello from the mock upstream.');
      assert.equal(r.candidates[0].finishReason, 'STOP');
      assert.deepEqual(
        { p: r.usageMetadata.promptTokenCount, c: r.usageMetadata.candidatesTokenCount, t: r.usageMetadata.totalTokenCount },
        { p: 21, c: 9, t: 30 },
      );
      const rec = b.mock.last();
      assert.equal(rec.summary.system, 'Be brief.');
      assert.deepEqual(rec.summary.userTexts, ['Say hello']);
      assertUpstreamAuth(b, rec);
    });

    t.test(`genai sdk [${b.name}]: generateContentStream text and usage`, async () => {
      const text = 'Streaming through the gateway, piece by piece.';
      b.mock.script({ text, usage: { input: 33, output: 12 } });
      const stream = await ai().models.generateContentStream({ model: b.model, contents: 'Stream something' });
      let got = '';
      let chunks = 0;
      let usage = null;
      let finish = null;
      for await (const chunk of stream) {
        chunks++;
        got += textOf(chunk);
        if (chunk.usageMetadata) usage = chunk.usageMetadata;
        finish = chunk.candidates?.[0]?.finishReason ?? finish;
      }
      assert.equal(got, text);
      assert.ok(chunks > 3, `expected several chunks, got ${chunks}`);
      assert.equal(finish, 'STOP');
      assert.deepEqual({ p: usage?.promptTokenCount, c: usage?.candidatesTokenCount, t: usage?.totalTokenCount }, { p: 33, c: 12, t: 45 });
    });

    t.test(`genai sdk [${b.name}]: generateContentStream with parallel function calls`, async () => {
      b.mock.script({ text: 'Checking.', toolCalls: parallelCalls(b.protocol), usage: { input: 40, output: 12 } });
      const stream = await ai().models.generateContentStream({
        model: b.model,
        contents: question,
        config: { tools: [{ functionDeclarations }] },
      });
      const calls = [];
      let text = '';
      let usage = null;
      for await (const chunk of stream) {
        calls.push(...(chunk.functionCalls ?? []));
        text += textOf(chunk);
        if (chunk.usageMetadata) usage = chunk.usageMetadata;
      }
      assert.equal(text, 'Checking.');
      assert.deepEqual(
        calls.map((c) => [c.name, c.args]),
        [
          ['get_weather', weatherArgs],
          ['get_time', timeArgs],
        ],
      );
      assert.deepEqual({ p: usage?.promptTokenCount, c: usage?.candidatesTokenCount }, { p: 40, c: 12 });
      assertToolsReceived(b, b.mock.last());
    });

    t.test(`genai sdk [${b.name}]: functionCall and functionResponse round trip`, async () => {
      b.mock.script({ toolCalls: parallelCalls(b.protocol) });
      const contents = [{ role: 'user', parts: [{ text: question }] }];
      const config = { tools: [{ functionDeclarations }] };
      const first = await ai().models.generateContent({ model: b.model, contents, config });
      const calls = first.functionCalls ?? [];
      assert.deepEqual(
        calls.map((c) => [c.name, c.args]),
        [
          ['get_weather', weatherArgs],
          ['get_time', timeArgs],
        ],
      );
      contents.push(first.candidates[0].content);
      const results = { get_weather: '18°C and sunny', get_time: '21:04' };
      contents.push({
        role: 'user',
        parts: calls.map((c) => ({
          functionResponse: { ...(c.id ? { id: c.id } : {}), name: c.name, response: { output: results[c.name] } },
        })),
      });
      b.mock.script({ text: 'Paris: 18°C and sunny. Tokyo: 21:04.' });
      const second = await ai().models.generateContent({ model: b.model, contents, config });
      assert.equal(second.text, 'Paris: 18°C and sunny. Tokyo: 21:04.');
      assertToolResultsReceived(b, b.mock.last(), { weather: '18°C and sunny', time: '21:04' });
    });

    t.test(`genai sdk [${b.name}]: inline image`, async () => {
      b.mock.script({ text: 'A single transparent pixel.' });
      const r = await ai().models.generateContent({
        model: b.model,
        contents: [
          { role: 'user', parts: [{ text: 'What is in this image?' }, { inlineData: { mimeType: 'image/png', data: pngBase64 } }] },
        ],
      });
      assert.equal(r.text, 'A single transparent pixel.');
      assertImageReceived(b, b.mock.last());
    });

    t.test(`genai sdk [${b.name}]: upstream 400 becomes an ApiError with the upstream's message`, async () => {
      b.mock.script({ error: { status: 400, message: 'mock: contents is not specified' } });
      const err = await rejects(() => ai().models.generateContent({ model: b.model, contents: 'x' }), 'generateContent');
      assert.equal(err.status, 400, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.match(err.message, /contents is not specified/);
    });

    t.test(`genai sdk [${b.name}]: countTokens`, async () => {
      b.mock.script({ usage: { input: 123, output: 0 } });
      const r = await ai().models.countTokens({ model: b.model, contents: 'How many tokens is this?' });
      if (b.protocol === 'openai') assert.ok(Number.isInteger(r.totalTokens) && r.totalTokens > 0, `estimate ${r.totalTokens}`);
      else assert.equal(r.totalTokens, 123);
    });

    t.test(`genai sdk [${b.name}]: models.list`, async () => {
      const names = [];
      for await (const m of await ai().models.list()) names.push(m.name);
      assert.deepEqual(names.sort(), b.models.map((m) => `models/${m}`).sort());
    });
  }

  t.test('genai sdk: a wrong key is a 401 ApiError', async () => {
    const err = await rejects(() => sdk('gm_not-a-real-key').models.generateContent({ model: 'x', contents: 'x' }), 'generateContent');
    assert.equal(err.status, 401, `got ${err?.constructor?.name}: ${err?.message}`);
  });
}
