// The official `openai` SDK's Responses client against the gateway's Responses front door, over
// every backend. `responses.stream()` checks the event sequence strictly (output_index and
// content_index append-only, item ids matching their item, no unknown event types).

import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { assertToolResultsReceived, assertToolsReceived, parallelCalls, timeArgs, tools, weatherArgs } from '../lib/fixtures.js';

const responsesTools = tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.schema, strict: false }));
const question = 'What is the weather in Paris and the time in Tokyo?';

export function register(t, ctx) {
  const sdk = (key) => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });

  for (const b of ctx.backends) {
    const client = () => sdk(b.key);

    t.test(`responses [${b.name}]: stream helper, text and usage`, async () => {
      const text = 'Streaming a Responses answer, piece by piece.';
      b.mock.script({ text, usage: { input: 33, output: 12 } });
      const stream = client().responses.stream({ model: b.model, instructions: 'Be brief.', input: 'Stream something' });
      let deltas = '';
      stream.on('response.output_text.delta', (e) => (deltas += e.delta));
      const final = await stream.finalResponse();
      assert.equal(deltas, text);
      assert.equal(final.output_text, text);
      assert.equal(final.status, 'completed');
      assert.deepEqual({ i: final.usage.input_tokens, o: final.usage.output_tokens, t: final.usage.total_tokens }, { i: 33, o: 12, t: 45 });
      assert.equal(b.mock.last().summary.system, 'Be brief.');
    });

    t.test(`responses [${b.name}]: stream parallel function calls, then the results by previous_response_id`, async () => {
      b.mock.script({ toolCalls: parallelCalls(b.protocol), usage: { input: 50, output: 20 } });
      const stream = client().responses.stream({ model: b.model, input: question, tools: responsesTools });
      const final = await stream.finalResponse();
      const calls = final.output.filter((o) => o.type === 'function_call');
      assert.deepEqual(
        calls.map((c) => c.name),
        ['get_weather', 'get_time'],
      );
      assert.deepEqual(JSON.parse(calls[0].arguments), weatherArgs);
      assert.deepEqual(JSON.parse(calls[1].arguments), timeArgs);
      assertToolsReceived(b, b.mock.last());

      b.mock.script({ text: 'Paris: 18°C and sunny. Tokyo: 21:04.' });
      const next = await client().responses.create({
        model: b.model,
        previous_response_id: final.id,
        tools: responsesTools,
        input: [
          { type: 'function_call_output', call_id: calls[0].call_id, output: '18°C and sunny' },
          { type: 'function_call_output', call_id: calls[1].call_id, output: '21:04' },
        ],
      });
      assert.equal(next.output_text, 'Paris: 18°C and sunny. Tokyo: 21:04.');
      assertToolResultsReceived(b, b.mock.last(), { weather: '18°C and sunny', time: '21:04' });
    });
  }
}
