// The mock upstreams themselves: they must refuse what the real services refuse, or the
// translation tests could pass against a mock more lenient than the real thing.

import assert from 'node:assert/strict';
import { validate } from '../lib/validate.js';

const cases = [
  ['openai', '/v1/chat/completions', { model: 'm', messages: [] }, /empty array/],
  [
    'openai',
    '/v1/chat/completions',
    {
      model: 'm',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      ],
    },
    /must be followed by tool messages/,
  ],
  [
    'openai',
    '/v1/chat/completions',
    { model: 'm', messages: [{ role: 'tool', tool_call_id: 'a', content: 'x' }] },
    /preceeding message with 'tool_calls'/,
  ],
  ['anthropic', '/v1/messages', { model: 'm', messages: [{ role: 'user', content: 'x' }] }, /max_tokens: Field required/],
  ['anthropic', '/v1/messages', { model: 'm', max_tokens: 5, messages: [{ role: 'system', content: 'x' }] }, /role/],
  [
    'anthropic',
    '/v1/messages',
    { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'nope', content: 'x' }] }] },
    /unexpected `tool_use_id`/,
  ],
  [
    'anthropic',
    '/v1/messages',
    {
      model: 'm',
      max_tokens: 5,
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call.1', name: 'f', input: {} }] },
      ],
    },
    /pattern/,
  ],
  [
    'anthropic',
    '/v1/messages',
    {
      model: 'm',
      max_tokens: 5,
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [{ type: 'text', text: '' }] },
        { role: 'user', content: 'y' },
      ],
    },
    /text content blocks must be non-empty/,
  ],
  ['gemini', '/v1beta/models/m:generateContent', { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, /valid role/],
  ['gemini', '/v1beta/models/m:generateContent', { contents: [{ role: 'user', parts: [] }] }, /must not be empty/],
  [
    'gemini',
    '/v1beta/models/m:streamGenerateContent',
    {
      contents: [{ role: 'user', parts: [{ text: 'x' }] }],
      tools: [
        { functionDeclarations: [{ name: 'f', parameters: { type: 'object', $schema: 'http://json-schema.org/draft-07/schema#' } }] },
      ],
    },
    /Unknown name "\$schema"/,
  ],
  [
    'gemini',
    '/v1beta/models/m:generateContent',
    {
      contents: [
        { role: 'user', parts: [{ text: 'x' }] },
        { role: 'model', parts: [{ functionCall: { name: 'a', args: {} } }, { functionCall: { name: 'b', args: {} } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'a', response: { output: 'x' } } }] },
      ],
    },
    /number of function response parts/,
  ],
];

export function register(t, ctx) {
  t.test('mock upstreams refuse what the real services refuse', async () => {
    for (const [protocol, path, body, want] of cases)
      assert.match(validate(protocol, path, body) ?? 'accepted', want, `${protocol} ${JSON.stringify(body)}`);
    // And over HTTP, in the protocol's error shape.
    const b = ctx.backends.find((x) => x.protocol === 'anthropic');
    const r = await fetch(`${b.mock.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error.message, /max_tokens/);
  });
}
