// The request checks real upstreams make, so a mock refuses what the real service would refuse
// (reference/protocols.md §1) and a translation that only a lenient mock accepts fails here.
// Each returns the upstream's error message, or null when the request is acceptable.

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const ANTHROPIC_TOOL_ID = /^[a-zA-Z0-9_-]+$/;

export function validate(protocol, path, body) {
  if (!body || typeof body !== 'object') return 'mock: the body is not a JSON object';
  if (protocol === 'openai') return path.endsWith('/chat/completions') ? openai(body) : null;
  if (protocol === 'anthropic') return path === '/v1/messages' ? anthropic(body) : null;
  return /:(stream)?[gG]enerateContent$/.test(path) ? gemini(body) : null;
}

function openai(body) {
  if (typeof body.model !== 'string' || !body.model) return 'you must provide a model parameter';
  const msgs = body.messages;
  if (!Array.isArray(msgs) || !msgs.length) return "Invalid 'messages': empty array. Expected an array with minimum length 1.";
  const roles = ['system', 'developer', 'user', 'assistant', 'tool'];
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    if (!roles.includes(m.role)) return `Invalid value: '${m.role}'. Supported values are: ${roles.join(', ')}.`;
    if (m.role === 'assistant' && m.tool_calls?.length) {
      const want = new Set(m.tool_calls.map((c) => c.id));
      for (const c of m.tool_calls) {
        if (typeof c.function?.arguments !== 'string') return `messages[${i}].tool_calls: function.arguments must be a string`;
      }
      let j = i + 1;
      for (; j < msgs.length && msgs[j].role === 'tool'; j++) want.delete(msgs[j].tool_call_id);
      if (want.size) {
        return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...want].join(', ')}`;
      }
    }
    if (m.role === 'tool') {
      const prev = msgs
        .slice(0, i)
        .reverse()
        .find((x) => x.role !== 'tool');
      if (!prev?.tool_calls?.some((c) => c.id === m.tool_call_id)) {
        return `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`;
      }
    }
  }
  for (const t of body.tools ?? []) {
    if (t.type !== 'function' || !TOOL_NAME.test(t.function?.name ?? '')) return `Invalid 'tools': ${JSON.stringify(t).slice(0, 100)}`;
  }
  return null;
}

function anthropic(body) {
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return 'max_tokens: Field required';
  const msgs = body.messages;
  if (!Array.isArray(msgs) || !msgs.length) return 'messages: at least one message is required';
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    const blocks = typeof m.content === 'string' ? [] : (m.content ?? []);
    const last = i === msgs.length - 1 && m.role === 'assistant';
    if ((m.content === '' || (typeof m.content !== 'string' && !blocks.length)) && !last) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    if (blocks.some((b) => b.type === 'text' && !b.text)) return `messages.${i}: text content blocks must be non-empty`;
    const uses = blocks.filter((b) => b.type === 'tool_use');
    for (const u of uses) {
      if (!ANTHROPIC_TOOL_ID.test(u.id ?? '')) return `messages.${i}.content: tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`;
      if (typeof u.input !== 'object' || u.input === null || Array.isArray(u.input))
        return `messages.${i}.content: tool_use.input: Input should be a valid dictionary`;
    }
    if (uses.length) {
      const next = msgs[i + 1];
      const results = new Set(
        (Array.isArray(next?.content) ? next.content : []).filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id),
      );
      const missing = uses.map((u) => u.id).filter((id) => !results.has(id));
      if (missing.length)
        return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
    const results = blocks.filter((b) => b.type === 'tool_result');
    if (results.length) {
      const prev = msgs[i - 1];
      const ids = new Set((Array.isArray(prev?.content) ? prev.content : []).filter((b) => b.type === 'tool_use').map((b) => b.id));
      for (const r of results) {
        if (!ids.has(r.tool_use_id))
          return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${r.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
      const firstOther = blocks.findIndex((b) => b.type !== 'tool_result');
      if (firstOther >= 0 && firstOther < results.length) return `messages.${i}: tool_result blocks must come first in the content`;
    }
  }
  for (const t of body.tools ?? []) {
    if (!TOOL_NAME.test(t.name ?? '')) return `tools: name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`;
    if (t.input_schema?.type !== 'object') return `tools.${t.name}.input_schema: type must be 'object'`;
  }
  return null;
}

// Keys Gemini's OpenAPI-subset `parameters` refuses ("Invalid JSON payload received. Unknown name").
const GEMINI_UNKNOWN = [
  '$schema',
  'additionalProperties',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'const',
  'propertyNames',
  '$ref',
  '$defs',
  'definitions',
];

function geminiSchemaProblem(schema, where) {
  if (!schema || typeof schema !== 'object') return null;
  for (const [k, v] of Object.entries(schema)) {
    if (GEMINI_UNKNOWN.includes(k)) return `Invalid JSON payload received. Unknown name "${k}" at '${where}': Cannot find field.`;
    if (k === 'type' && Array.isArray(v))
      return `Invalid JSON payload received. Proto field is not repeating, cannot start list at '${where}.type'.`;
    if (k === 'properties') {
      for (const [name, sub] of Object.entries(v ?? {})) {
        const p = geminiSchemaProblem(sub, `${where}.properties[${name}].value`);
        if (p) return p;
      }
    } else if (k === 'items' || k === 'anyOf') {
      for (const sub of [v].flat()) {
        const p = geminiSchemaProblem(sub, `${where}.${k}`);
        if (p) return p;
      }
    }
  }
  return null;
}

function gemini(body) {
  const contents = body.contents;
  if (!Array.isArray(contents) || !contents.length) return '* GenerateContentRequest.contents: contents is not specified';
  for (let i = 0; i < contents.length; i++) {
    const c = contents[i];
    if (c.role !== undefined && c.role !== 'user' && c.role !== 'model') return `Please use a valid role: user, model.`;
    if (!Array.isArray(c.parts) || !c.parts.length)
      return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`;
    const calls = c.parts.filter((p) => p.functionCall);
    for (const p of calls) {
      if (!p.functionCall.name) return `* GenerateContentRequest.contents[${i}].parts: function call name must not be empty`;
      if (typeof p.functionCall.args !== 'object' && p.functionCall.args !== undefined)
        return `Invalid JSON payload received. functionCall.args must be an object`;
    }
    if (calls.length && c.role === 'model') {
      const next = contents[i + 1];
      const responses = (next?.parts ?? []).filter((p) => p.functionResponse);
      if (next && responses.length !== calls.length) {
        return 'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.';
      }
    }
    for (const p of c.parts) {
      if (p.functionResponse && !p.functionResponse.name)
        return `* GenerateContentRequest.contents[${i}].parts: function response name must not be empty`;
      if (p.functionResponse && (typeof p.functionResponse.response !== 'object' || Array.isArray(p.functionResponse.response))) {
        return `Invalid JSON payload received. functionResponse.response must be an object`;
      }
    }
  }
  const gc = body.generationConfig ?? {};
  if (gc.responseSchema && gc.responseJsonSchema)
    return '* GenerateContentRequest.generation_config: response_schema and response_json_schema are mutually exclusive';
  if ((gc.responseSchema || gc.responseJsonSchema) && gc.responseMimeType !== 'application/json') {
    return '* GenerateContentRequest.generation_config.response_mime_type: must be application/json when a response schema is set';
  }
  const rs = geminiSchemaProblem(gc.responseSchema, 'generation_config.response_schema');
  if (rs) return rs;
  for (let ti = 0; ti < (body.tools ?? []).length; ti++) {
    const decls = body.tools[ti].functionDeclarations ?? [];
    for (let di = 0; di < decls.length; di++) {
      const d = decls[di];
      if (!TOOL_NAME.test(d.name ?? ''))
        return `* GenerateContentRequest.tools[${ti}].function_declarations[${di}].name: Invalid function name.`;
      if (d.parameters && d.parametersJsonSchema) {
        return `* GenerateContentRequest.tools[${ti}].function_declarations[${di}].parameters: parameters and parameters_json_schema are mutually exclusive`;
      }
      const p = geminiSchemaProblem(d.parameters, `tools[${ti}].function_declarations[${di}].parameters`);
      if (p) return p;
    }
  }
  return null;
}
