// opencode configured with the `@ai-sdk/openai` provider, which speaks the Responses API, through
// the gateway's Responses front door over every backend: a plain answer and a tool round trip
// with opencode's `read` tool. A recorder in front of the gateway shows the door opencode used.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertUpstreamAuth, geminiSignature } from '../lib/fixtures.js';
import * as opencode from '../lib/opencode.js';
import { Recorder } from '../lib/recorder.js';

const TIMEOUT = 120_000;

// agentOrTitle answers opencode's requests: the title request (no tools) gets a title, the agent
// request (tools offered) gets reply(rec).
function agentOrTitle(reply) {
  return (rec) => (rec.summary.tools.length ? reply(rec) : { text: 'Mock title', usage: { input: 5, output: 2 } });
}

export function register(t, ctx) {
  let n = 0;
  // withProject runs fn with a fresh project directory holding files, opencode configured with
  // the Responses provider pointing at a recorder in front of the gateway.
  const withProject = async (b, files, fn) => {
    const dir = path.join(ctx.tmp, 'opencode-responses', `${b.name}-${++n}`);
    const home = path.join(dir, 'home');
    const cwd = path.join(dir, 'project');
    fs.mkdirSync(home, { recursive: true });
    fs.mkdirSync(cwd, { recursive: true });
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(cwd, name), content);
    const rec = new Recorder(ctx.gw.url);
    await rec.start();
    try {
      const config = JSON.stringify(opencode.providerConfig(rec.url, b.key, b.model, '@ai-sdk/openai'));
      await fn({ cwd, env: opencode.isolatedEnv(home, { OPENCODE_CONFIG_CONTENT: config }) }, rec);
    } finally {
      await rec.stop();
    }
  };
  // assertResponsesDoor checks that every generation request went through /v1/responses.
  const assertResponsesDoor = (rec) => {
    const posts = rec.paths().filter((p) => p.startsWith('POST '));
    assert.ok(posts.length > 0, 'opencode sent nothing');
    assert.deepEqual([...new Set(posts)], ['POST /v1/responses']);
  };

  for (const b of ctx.backends) {
    t.test(
      `opencode responses [${b.name}]: run prints the streamed answer`,
      async () => {
        const answer = 'Hello through the Responses provider.';
        b.mock.script(agentOrTitle(() => ({ text: answer, usage: { input: 120, output: 11 } })));
        await withProject(b, {}, async (p, rec) => {
          const r = await opencode.run(['run', 'Say hello', '--model', `gw/${b.model}`], { ...p, timeout: TIMEOUT });
          assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
          assert.ok(r.stdout.includes(answer), `answer missing from stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
          assertResponsesDoor(rec);
        });
        const agent = b.mock.chats().filter((rec) => rec.summary.tools.length);
        assert.equal(agent.length, 1, `agent requests: ${agent.length}`);
        assert.ok(agent[0].summary.tools.includes('read'), `tools offered: ${agent[0].summary.tools}`);
        assert.match(agent[0].summary.userTexts.at(-1), /^"?Say hello"?$/);
        for (const rec of b.mock.chats()) assertUpstreamAuth(b, rec);
      },
      { timeout: TIMEOUT + 5000 },
    );

    t.test(
      `opencode responses [${b.name}]: tool round trip with the read tool`,
      async () => {
        await withProject(b, { 'notes.txt': 'The secret word is pelican.\n' }, async (p, rec) => {
          const file = path.join(p.cwd, 'notes.txt');
          const call = { name: 'read', args: { filePath: file } };
          if (b.protocol === 'gemini') call.signature = geminiSignature;
          else call.id = b.protocol === 'anthropic' ? 'toolu_01Read' : 'call_read1';
          b.mock.script(
            agentOrTitle((r) =>
              r.summary.toolResults.length
                ? { text: 'The file says the secret word is pelican.', usage: { input: 300, output: 9 } }
                : { thinking: 'The file will tell.', toolCalls: [call], usage: { input: 200, output: 15 } },
            ),
          );
          const r = await opencode.run(['run', '--format', 'json', 'What is the secret word in notes.txt?', '-m', `gw/${b.model}`], {
            ...p,
            timeout: TIMEOUT,
          });
          assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
          assertResponsesDoor(rec);
          const evs = opencode.events(r.stdout);
          const tool = evs.find((e) => e.type === 'tool_use');
          assert.ok(tool, `no tool_use event in:\n${r.stdout}\nstderr:\n${r.stderr}`);
          assert.equal(tool.part.tool, 'read');
          assert.equal(tool.part.state.status, 'completed', `tool state: ${JSON.stringify(tool.part.state)}`);
          assert.match(tool.part.state.output, /pelican/);
          const texts = evs.filter((e) => e.type === 'text').map((e) => e.part.text);
          assert.deepEqual(texts, ['The file says the secret word is pelican.']);

          const agent = b.mock.chats().filter((x) => x.summary.tools.length);
          assert.equal(agent.length, 2, `agent requests: ${agent.length}`);
          const s = agent[1].summary;
          assert.equal(s.toolCalls.length, 1);
          assert.equal(s.toolCalls[0].name, 'read');
          assert.deepEqual(JSON.parse(s.toolCalls[0].args), { filePath: file });
          assert.equal(s.toolResults.length, 1);
          assert.match(s.toolResults[0].content, /The secret word is pelican\./);
          if (b.protocol === 'gemini') assert.equal(s.toolCalls[0].signature, geminiSignature, 'thought signature not handed back');
          else assert.equal(s.toolResults[0].id, call.id);
        });
      },
      { timeout: TIMEOUT + 5000 },
    );
  }
}
