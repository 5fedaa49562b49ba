// The OpenAI Agents SDK (@openai/agents) against the gateway's Responses front door, over every
// backend: an agent with a function tool runs it and answers, with tracing off (its exporter would
// call api.openai.com).

import assert from 'node:assert/strict';
import { Agent, OpenAIProvider, Runner, setTracingDisabled, tool } from '@openai/agents';
import { z } from 'zod';
import { geminiSignature, weatherArgs } from '../lib/fixtures.js';

setTracingDisabled(true);

export function register(t, ctx) {
  for (const b of ctx.backends) {
    const runner = () => new Runner({ modelProvider: new OpenAIProvider({ baseURL: `${ctx.gw.url}/v1`, apiKey: b.key, useResponses: true }) });

    t.test(`agents sdk [${b.name}]: a run calls the function tool and answers`, async () => {
      const call = { name: 'get_weather', args: weatherArgs };
      if (b.protocol === 'gemini') call.signature = geminiSignature;
      else call.id = b.protocol === 'anthropic' ? 'toolu_01Weather' : 'call_w1';
      b.mock.script((rec) =>
        rec.summary.toolResults.length
          ? { text: 'It is 18°C and sunny in Paris.', usage: { input: 90, output: 10 } }
          : { toolCalls: [call], usage: { input: 60, output: 14 } },
      );
      const ran = [];
      const getWeather = tool({
        name: 'get_weather',
        description: 'Current weather for a city',
        parameters: z.object({
          city: z.string(),
          unit: z.enum(['celsius', 'fahrenheit']),
          days: z.number().int(),
          note: z.string(),
        }),
        execute: async (input) => {
          ran.push(input);
          return '18°C and sunny';
        },
      });
      const agent = new Agent({ name: 'Weather', instructions: 'Answer weather questions.', model: b.model, tools: [getWeather] });
      const result = await runner().run(agent, 'What is the weather in Paris?');
      assert.equal(result.finalOutput, 'It is 18°C and sunny in Paris.');
      assert.deepEqual(ran, [weatherArgs]);

      const chats = b.mock.chats();
      assert.equal(chats.length, 2, `upstream requests: ${chats.length}`);
      assert.deepEqual(chats[0].summary.tools, ['get_weather']);
      assert.equal(chats[0].summary.system, 'Answer weather questions.');
      const s = chats[1].summary;
      assert.equal(s.toolCalls.length, 1);
      assert.deepEqual(JSON.parse(s.toolCalls[0].args), weatherArgs);
      assert.equal(s.toolResults.length, 1);
      assert.match(s.toolResults[0].content, /18°C and sunny/);
      if (b.protocol === 'gemini') assert.equal(s.toolCalls[0].signature, geminiSignature, 'thought signature not handed back');
      else assert.equal(s.toolResults[0].id, call.id);
    });

    t.test(`agents sdk [${b.name}]: a streamed run yields the text`, async () => {
      const text = 'Streamed through the agent runner.';
      b.mock.script({ text, usage: { input: 20, output: 6 } });
      const agent = new Agent({ name: 'Echo', instructions: 'Be brief.', model: b.model });
      const result = await runner().run(agent, 'Say something', { stream: true });
      let streamed = '';
      for await (const chunk of result.toTextStream()) streamed += chunk;
      await result.completed;
      assert.equal(streamed, text);
      assert.equal(result.finalOutput, text);
      assert.equal(b.mock.last().summary.system, 'Be brief.');
    });
  }
}
