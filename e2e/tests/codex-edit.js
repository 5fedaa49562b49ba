// The Codex CLI editing files in its patch format through the gateway's Responses front door,
// over every backend, through both tools this release edits with: its `apply_patch` custom tool
// (offered when Codex's model catalog says the model takes free-form patches) and `apply_patch`
// run through its shell tool `exec_command` (what a custom provider gets without a catalog
// entry). The mock asks for the patch, Codex applies it, the mock sees the call and Codex's
// report come back, and the files on disk are checked.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { geminiSignature } from '../lib/fixtures.js';
import * as codex from '../lib/codex.js';

const TIMEOUT = 120_000;

// The patch updates one line of notes.txt and adds hello.txt.
const patch = [
  '*** Begin Patch',
  '*** Update File: notes.txt',
  '@@',
  ' # Notes',
  '-The secret word is pelican.',
  '+The secret word is albatross.',
  '*** Add File: hello.txt',
  '+Hello from a patch sent through the gateway.',
  '*** End Patch',
].join('\n');

const ways = [
  {
    name: 'the apply_patch custom tool',
    catalog: true,
    tool: 'apply_patch',
    args: { input: patch },
    // What the upstream must see come back as the call: the patch itself.
    sentPatch: (args) => args.input,
  },
  {
    name: 'apply_patch through exec_command',
    catalog: false,
    tool: 'exec_command',
    args: { cmd: `apply_patch <<'EOF'\n${patch}\nEOF\n` },
    sentPatch: (args) => args.cmd,
  },
];

export function register(t, ctx) {
  let n = 0;
  for (const b of ctx.backends) {
    for (const way of ways) {
      t.test(
        `codex [${b.name}]: exec edits files with ${way.name}`,
        async () => {
          const dir = path.join(ctx.tmp, 'codex-edit', `${b.name}-${++n}`);
          const cwd = path.join(dir, 'work');
          fs.mkdirSync(cwd, { recursive: true });
          fs.writeFileSync(path.join(cwd, 'notes.txt'), '# Notes\nThe secret word is pelican.\n');
          const call = { name: way.tool, args: way.args };
          if (b.protocol === 'gemini') call.signature = geminiSignature;
          else call.id = b.protocol === 'anthropic' ? 'toolu_01Patch' : 'call_patch1';
          const answer = 'I changed the secret word and added hello.txt.';
          b.mock.script((rec) =>
            rec.summary.toolResults.length
              ? { text: answer, usage: { input: 400, output: 12 } }
              : { toolCalls: [call], usage: { input: 250, output: 60 } },
          );
          const r = await codex.exec('Change the secret word in notes.txt to albatross and add hello.txt', {
            gatewayURL: ctx.gw.url,
            key: b.key,
            model: b.model,
            cwd,
            home: path.join(dir, 'home'),
            catalog: way.catalog,
            timeout: TIMEOUT,
          });
          assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
          assert.ok(r.stdout.includes(answer), `answer missing from stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);

          // The files on disk.
          assert.equal(fs.readFileSync(path.join(cwd, 'notes.txt'), 'utf8'), '# Notes\nThe secret word is albatross.\n');
          assert.equal(fs.readFileSync(path.join(cwd, 'hello.txt'), 'utf8'), 'Hello from a patch sent through the gateway.\n');

          // What the upstream received: the tool offered (as a function taking the free-form
          // input, for the custom tool), then the call replayed and Codex's report of the edit.
          const chats = b.mock.chats();
          assert.equal(chats.length, 2, `upstream requests: ${chats.length}`);
          assert.ok(chats[0].summary.tools.includes(way.tool), `tools offered: ${chats[0].summary.tools}`);
          if (way.catalog) assertCustomToolOffered(b.protocol, chats[0].body);
          else assert.ok(!chats[0].summary.tools.includes('apply_patch'), `tools offered: ${chats[0].summary.tools}`);
          const s = chats[1].summary;
          assert.equal(s.toolCalls.length, 1);
          assert.equal(s.toolCalls[0].name, way.tool);
          assert.equal(way.sentPatch(JSON.parse(s.toolCalls[0].args)), way.sentPatch(way.args));
          assert.equal(s.toolResults.length, 1);
          assert.match(s.toolResults[0].content, /hello\.txt/);
          assert.match(s.toolResults[0].content, /notes\.txt/);
          if (b.protocol === 'gemini') assert.equal(s.toolCalls[0].signature, geminiSignature, 'thought signature not handed back');
          else assert.equal(s.toolResults[0].id, call.id);
        },
        { timeout: TIMEOUT + 5000 },
      );
    }
  }
}

// assertCustomToolOffered checks that the apply_patch custom tool reached the upstream as a
// function whose one string parameter `input` carries the free-form patch.
function assertCustomToolOffered(protocol, body) {
  let schema;
  if (protocol === 'openai') schema = body.tools.find((t) => t.function?.name === 'apply_patch')?.function.parameters;
  else if (protocol === 'anthropic') schema = body.tools.find((t) => t.name === 'apply_patch')?.input_schema;
  else {
    const f = body.tools.flatMap((t) => t.functionDeclarations ?? []).find((d) => d.name === 'apply_patch');
    schema = f?.parameters ?? f?.parametersJsonSchema;
  }
  assert.ok(schema, `apply_patch has no parameter schema upstream: ${JSON.stringify(body.tools)}`);
  assert.deepEqual(schema.required, ['input']);
  assert.equal(schema.properties.input.type.toLowerCase(), 'string');
}
