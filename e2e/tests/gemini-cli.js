// The Gemini CLI (`gemini -p`) through the gateway's Gemini front door, over every backend: a
// plain answer, and a round trip with its run_shell_command tool — the mock asks for a command,
// the CLI runs it, the mock sees the output come back and answers.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertUpstreamAuth, geminiSignature } from '../lib/fixtures.js';
import * as gemini from '../lib/gemini-cli.js';

const TIMEOUT = 120_000;

export function register(t, ctx) {
  let n = 0;
  const dirs = (b) => {
    const dir = path.join(ctx.tmp, 'gemini-cli', `${b.name}-${++n}`);
    const cwd = path.join(dir, 'work');
    fs.mkdirSync(cwd, { recursive: true });
    return { cwd, home: path.join(dir, 'home') };
  };

  for (const b of ctx.backends) {
    t.test(
      `gemini cli [${b.name}]: -p prints the answer`,
      async () => {
        const answer = 'Hello from the mock upstream, through the gateway.';
        b.mock.script({ text: answer, usage: { input: 150, output: 11 } });
        const r = await gemini.prompt('Say hello', { gatewayURL: ctx.gw.url, key: b.key, model: b.model, ...dirs(b), timeout: TIMEOUT });
        assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.equal(r.result?.response, answer, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        const tokens = r.result.stats.models[b.model]?.tokens;
        assert.deepEqual({ prompt: tokens?.prompt, candidates: tokens?.candidates }, { prompt: 150, candidates: 11 });
        const chats = b.mock.chats();
        assert.equal(chats.length, 1, `upstream requests: ${chats.length}`);
        assert.ok(chats[0].summary.tools.includes('run_shell_command'), `tools offered: ${chats[0].summary.tools}`);
        assert.match(chats[0].summary.userTexts.join('\n'), /Say hello/);
        assertUpstreamAuth(b, chats[0]);
      },
      { timeout: TIMEOUT + 5000 },
    );

    t.test(
      `gemini cli [${b.name}]: -p runs run_shell_command and reports its output`,
      async () => {
        const call = { name: 'run_shell_command', args: { command: 'echo gateway-ok-42', description: 'Print a marker' } };
        if (b.protocol === 'gemini') call.signature = geminiSignature;
        else call.id = b.protocol === 'anthropic' ? 'toolu_01Shell' : 'call_shell1';
        const answer = 'The command printed gateway-ok-42.';
        b.mock.script((rec) =>
          rec.summary.toolResults.length
            ? { text: answer, usage: { input: 300, output: 9 } }
            : { toolCalls: [call], usage: { input: 200, output: 15 } },
        );
        const r = await gemini.prompt('Run echo gateway-ok-42 and tell me what it printed', {
          gatewayURL: ctx.gw.url,
          key: b.key,
          model: b.model,
          ...dirs(b),
          timeout: TIMEOUT,
        });
        assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.equal(r.result?.response, answer, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.equal(r.result.stats.tools.totalSuccess, 1, JSON.stringify(r.result.stats.tools));
        const chats = b.mock.chats();
        assert.equal(chats.length, 2, `upstream requests: ${chats.length}`);
        const s = chats[1].summary;
        assert.equal(s.toolCalls.length, 1);
        assert.equal(s.toolCalls[0].name, 'run_shell_command');
        assert.equal(JSON.parse(s.toolCalls[0].args).command, 'echo gateway-ok-42');
        assert.equal(s.toolResults.length, 1);
        assert.match(s.toolResults[0].content, /gateway-ok-42/);
        if (b.protocol === 'gemini') assert.equal(s.toolCalls[0].signature, geminiSignature, 'thought signature not handed back');
        else assert.equal(s.toolResults[0].id, call.id);
      },
      { timeout: TIMEOUT + 5000 },
    );
  }
}
