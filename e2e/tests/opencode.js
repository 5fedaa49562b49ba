// The opencode CLI (`opencode run`, non-interactive) through the gateway's OpenAI front door,
// over every backend, including a tool round trip: the mock asks for opencode's `read` tool,
// opencode reads the file, the mock sees the file's content come back and answers.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertImageReceived, assertUpstreamAuth, geminiSignature, pngBase64 } from '../lib/fixtures.js';
import * as opencode from '../lib/opencode.js';

const TIMEOUT = 120_000;

// agentOrTitle answers opencode's requests: the title request (no tools) gets a title, the agent
// request (tools offered) gets reply(rec).
function agentOrTitle(reply) {
  return (rec) => (rec.summary.tools.length ? reply(rec) : { text: 'Mock title', usage: { input: 5, output: 2 } });
}

export function register(t, ctx) {
  let n = 0;
  // project makes a fresh project directory (opencode's working directory) and a home for it.
  const project = (b, files = {}) => {
    const dir = path.join(ctx.tmp, 'opencode', `${b.name}-${++n}`);
    const home = path.join(dir, 'home');
    const cwd = path.join(dir, 'project');
    fs.mkdirSync(home, { recursive: true });
    fs.mkdirSync(cwd, { recursive: true });
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(cwd, name), content);
    const config = JSON.stringify(opencode.providerConfig(ctx.gw.url, b.key, b.model));
    return { cwd, env: opencode.isolatedEnv(home, { OPENCODE_CONFIG_CONTENT: config }) };
  };

  for (const b of ctx.backends) {
    t.test(
      `opencode [${b.name}]: run prints the streamed answer`,
      async () => {
        const answer = 'Hello from the mock upstream, through the gateway.';
        b.mock.script(agentOrTitle(() => ({ text: answer, usage: { input: 120, output: 11 } })));
        const p = project(b);
        const r = await opencode.run(['run', 'Say hello', '--model', `gw/${b.model}`], { ...p, timeout: TIMEOUT });
        assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.ok(r.stdout.includes(answer), `answer missing from stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        const agent = b.mock.chats().filter((rec) => rec.summary.tools.length);
        assert.equal(agent.length, 1, `agent requests: ${agent.length}`);
        assert.ok(agent[0].summary.tools.includes('read'), `tools offered: ${agent[0].summary.tools}`);
        // opencode itself wraps the prompt in quotes (it does so on a direct connection too).
        assert.match(agent[0].summary.userTexts.at(-1), /^"?Say hello"?$/);
        for (const rec of b.mock.chats()) assertUpstreamAuth(b, rec);
      },
      { timeout: TIMEOUT + 5000 },
    );

    for (const preamble of ['Reading notes.txt.', '']) {
      t.test(
        `opencode [${b.name}]: tool round trip with the read tool${preamble ? ', after some text' : ', tool call only'}`,
        async () => {
          const p = project(b, { 'notes.txt': 'The secret word is pelican.\n' });
          const file = path.join(p.cwd, 'notes.txt');
          const call = { name: 'read', args: { filePath: file } };
          if (b.protocol === 'gemini') call.signature = geminiSignature;
          else call.id = b.protocol === 'anthropic' ? 'toolu_01Read' : 'call_read1';
          b.mock.script(
            agentOrTitle((rec) =>
              rec.summary.toolResults.length
                ? { text: 'The file says the secret word is pelican.', usage: { input: 300, output: 9 } }
                : { text: preamble, toolCalls: [call], usage: { input: 200, output: 15 } },
            ),
          );
          const r = await opencode.run(['run', '--format', 'json', 'What is the secret word in notes.txt?', '-m', `gw/${b.model}`], {
            ...p,
            timeout: TIMEOUT,
          });
          assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
          const evs = opencode.events(r.stdout);
          const tool = evs.find((e) => e.type === 'tool_use');
          assert.ok(tool, `no tool_use event in:\n${r.stdout}\nstderr:\n${r.stderr}`);
          assert.equal(tool.part.tool, 'read');
          assert.equal(tool.part.state.status, 'completed', `tool state: ${JSON.stringify(tool.part.state)}`);
          assert.deepEqual(tool.part.state.input, { filePath: file });
          assert.match(tool.part.state.output, /pelican/);
          const texts = evs.filter((e) => e.type === 'text').map((e) => e.part.text);
          assert.deepEqual(texts, [preamble, 'The file says the secret word is pelican.'].filter(Boolean));
          const steps = evs.filter((e) => e.type === 'step_finish').map((e) => e.part);
          assert.deepEqual(
            steps.map((s) => [s.reason, s.tokens.input, s.tokens.output]),
            [
              ['tool-calls', 200, 15],
              ['stop', 300, 9],
            ],
          );

          // What the upstream saw on the second agent turn: the call replayed and the file's content.
          const agent = b.mock.chats().filter((rec) => rec.summary.tools.length);
          assert.equal(agent.length, 2, `agent requests: ${agent.length}`);
          const s = agent[1].summary;
          assert.equal(s.toolCalls.length, 1);
          assert.equal(s.toolCalls[0].name, 'read');
          assert.deepEqual(JSON.parse(s.toolCalls[0].args), { filePath: file });
          assert.equal(s.toolResults.length, 1);
          assert.match(s.toolResults[0].content, /The secret word is pelican\./);
          if (b.protocol === 'gemini') {
            assert.equal(s.toolResults[0].name, 'read');
            assert.equal(s.toolCalls[0].signature, geminiSignature, 'thought signature not handed back to Gemini');
          } else {
            assert.equal(s.toolCalls[0].id, call.id);
            assert.equal(s.toolResults[0].id, call.id);
          }
        },
        { timeout: TIMEOUT + 5000 },
      );
    }

    t.test(
      `opencode [${b.name}]: an attached image reaches the upstream`,
      async () => {
        b.mock.script(agentOrTitle(() => ({ text: 'A single transparent pixel.' })));
        const p = project(b, { 'pixel.png': Buffer.from(pngBase64, 'base64') });
        const r = await opencode.run(['run', '--file', 'pixel.png', '--model', `gw/${b.model}`, '--', 'What is in this image?'], {
          ...p,
          timeout: TIMEOUT,
        });
        assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.ok(r.stdout.includes('A single transparent pixel.'), `answer missing from stdout:\n${r.stdout}`);
        const agent = b.mock.chats().filter((rec) => rec.summary.tools.length);
        assert.equal(agent.length, 1, `agent requests: ${agent.length}`);
        assertImageReceived(b, agent[0]);
      },
      { timeout: TIMEOUT + 5000 },
    );

    t.test(
      `opencode [${b.name}]: an upstream error is printed and exits 1`,
      async () => {
        b.mock.script({ error: { status: 400, message: 'mock: this prompt breaks the rules' } });
        const p = project(b);
        const r = await opencode.run(['run', 'Say hello', '--model', `gw/${b.model}`], { ...p, timeout: TIMEOUT });
        assert.equal(r.code, 1, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.match(r.stdout + r.stderr, /this prompt breaks the rules/);
      },
      { timeout: TIMEOUT + 5000 },
    );
  }
}
