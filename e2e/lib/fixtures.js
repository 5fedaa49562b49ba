// What the suites share: the tools offered, the tool calls the mocks answer with, a tiny image,
// and assertions on what reached the upstream.

import assert from 'node:assert/strict';

export const weatherSchema = {
  type: 'object',
  properties: {
    city: { type: 'string', description: 'City name' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer' },
    note: { type: 'string' },
  },
  required: ['city'],
};

export const timeSchema = {
  type: 'object',
  properties: { timezone: { type: 'string' } },
  required: ['timezone'],
};

export const tools = [
  { name: 'get_weather', description: 'Current weather for a city', schema: weatherSchema },
  { name: 'get_time', description: 'Local time in a time zone', schema: timeSchema },
];

// The arguments are long enough to be cut into many fragments, one of them inside an escaped
// quote, and carry non-ASCII text.
export const weatherArgs = { city: 'Paris', unit: 'celsius', days: 3, note: 'café "terrace" ✓' };
export const timeArgs = { timezone: 'Asia/Tokyo' };

// A Gemini 3 thought signature (base64); the gateway must hand it back on the next turn.
export const geminiSignature = Buffer.from('mock-thought-signature-for-get_weather').toString('base64');

// parallelCalls is what a mock of protocol answers when asked for the weather and the time:
// two tool calls with the ids that protocol uses (Gemini sends none, but a thought signature).
export function parallelCalls(protocol) {
  if (protocol === 'gemini') {
    return [
      { name: 'get_weather', args: weatherArgs, signature: geminiSignature },
      { name: 'get_time', args: timeArgs },
    ];
  }
  const ids = protocol === 'anthropic' ? ['toolu_01Weather', 'toolu_02Time'] : ['call_w1', 'call_t2'];
  return [
    { id: ids[0], name: 'get_weather', args: weatherArgs },
    { id: ids[1], name: 'get_time', args: timeArgs },
  ];
}

// assertCallIds checks the ids a client saw: the upstream's own where it has them, else unique
// non-empty ids made by the gateway.
export function assertCallIds(protocol, ids) {
  assert.equal(ids.length, 2);
  if (protocol === 'gemini') {
    for (const id of ids) assert.ok(typeof id === 'string' && id.length > 0, `empty tool call id in ${JSON.stringify(ids)}`);
    assert.notEqual(ids[0], ids[1], 'tool call ids must differ');
  } else {
    assert.deepEqual(
      ids,
      parallelCalls(protocol).map((c) => c.id),
    );
  }
}

// 1x1 transparent PNG.
export const pngBase64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

// receivedSchema is the JSON Schema of tool name as the upstream received it.
export function receivedSchema(protocol, body, name) {
  if (protocol === 'openai') return body.tools?.find((t) => t.function?.name === name)?.function?.parameters;
  if (protocol === 'anthropic') return body.tools?.find((t) => t.name === name)?.input_schema;
  const f = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? []).find((d) => d.name === name);
  return f?.parametersJsonSchema ?? f?.parameters;
}

// assertToolsReceived checks that both tools reached the upstream with their parameters.
export function assertToolsReceived(b, rec) {
  assert.deepEqual(rec.summary.tools, ['get_weather', 'get_time']);
  const w = receivedSchema(b.protocol, rec.body, 'get_weather');
  assert.ok(w, `no schema for get_weather in ${rec.raw.slice(0, 500)}`);
  assert.equal(String(w.properties.city.type).toLowerCase(), 'string');
  assert.deepEqual(w.properties.unit.enum, ['celsius', 'fahrenheit']);
  assert.deepEqual(w.required, ['city']);
  assert.equal(String(receivedSchema(b.protocol, rec.body, 'get_time').properties.timezone.type).toLowerCase(), 'string');
}

// assertToolResultsReceived checks that the tool results of a second turn reached the upstream in
// its own shape: ids (or, for Gemini, names) paired with the right content, the assistant's calls
// replayed with their arguments, and Gemini's thought signature handed back.
export function assertToolResultsReceived(b, rec, { weather, time }) {
  const s = rec.summary;
  assert.equal(s.toolResults.length, 2, `tool results received: ${JSON.stringify(s.toolResults)}`);
  assert.equal(s.toolCalls.length, 2, `tool calls replayed: ${JSON.stringify(s.toolCalls)}`);
  const [wCall, tCall] = s.toolCalls;
  assert.equal(wCall.name, 'get_weather');
  assert.deepEqual(JSON.parse(wCall.args), weatherArgs);
  assert.equal(tCall.name, 'get_time');
  assert.deepEqual(JSON.parse(tCall.args), timeArgs);
  const [wRes, tRes] = s.toolResults;
  if (b.protocol === 'gemini') {
    assert.equal(wRes.name, 'get_weather');
    assert.equal(tRes.name, 'get_time');
    assert.equal(wCall.signature, geminiSignature, 'thought signature not handed back to Gemini');
  } else {
    assert.equal(wRes.id, wCall.id);
    assert.equal(tRes.id, tCall.id);
    assert.deepEqual(
      [wCall.id, tCall.id],
      parallelCalls(b.protocol).map((c) => c.id),
    );
  }
  assert.ok(wRes.content.includes(weather), `weather result ${JSON.stringify(wRes.content)} lacks ${weather}`);
  assert.ok(tRes.content.includes(time), `time result ${JSON.stringify(tRes.content)} lacks ${time}`);
}

// assertUpstreamAuth checks that the upstream saw its own key in its protocol's header and never
// the client's gateway key.
export function assertUpstreamAuth(b, rec) {
  const h = rec.headers;
  if (b.protocol === 'openai') assert.equal(h.authorization, `Bearer ${b.upstreamKey}`);
  if (b.protocol === 'anthropic') assert.equal(h['x-api-key'], b.upstreamKey);
  if (b.protocol === 'gemini') assert.equal(h['x-goog-api-key'], b.upstreamKey);
  assert.ok(!JSON.stringify(h).includes(b.key), 'the client key reached the upstream in a header');
  assert.ok(!rec.query.includes(b.key) && !rec.raw.includes(b.key), 'the client key reached the upstream');
}

// assertImageReceived checks that the PNG reached the upstream in its own image shape.
export function assertImageReceived(b, rec) {
  const imgs = rec.summary.images;
  assert.equal(imgs.length, 1, `images received: ${JSON.stringify(imgs).slice(0, 300)}`);
  if (b.protocol === 'openai') assert.equal(imgs[0].url, `data:image/png;base64,${pngBase64}`);
  else assert.deepEqual({ mediaType: imgs[0].mediaType, data: imgs[0].data }, { mediaType: 'image/png', data: pngBase64 });
}

// rejects runs fn, expects it to throw, and returns the error for further checks.
export async function rejects(fn, what) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail(`expected ${what} to fail`);
}
