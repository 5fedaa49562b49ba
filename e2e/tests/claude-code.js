// Claude Code (`claude -p`) through the gateway's Anthropic front door, over every backend: a
// plain answer, and a round trip with its Bash tool — the mock asks for a command, Claude Code
// runs it, the mock sees the output come back and answers.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertUpstreamAuth, geminiSignature } from '../lib/fixtures.js';
import * as claude from '../lib/claude.js';

const TIMEOUT = 120_000;

export function register(t, ctx) {
  let n = 0;
  const dirs = (b) => {
    const dir = path.join(ctx.tmp, 'claude', `${b.name}-${++n}`);
    const cwd = path.join(dir, 'work');
    fs.mkdirSync(cwd, { recursive: true });
    return { cwd, home: path.join(dir, 'home') };
  };

  for (const b of ctx.backends) {
    t.test(
      `claude code [${b.name}]: -p prints the answer`,
      async () => {
        const answer = 'Hello from the mock upstream, through the gateway.';
        b.mock.script({ text: answer, usage: { input: 150, output: 11 } });
        const r = await claude.print('Say hello', { gatewayURL: ctx.gw.url, key: b.key, model: b.model, ...dirs(b), timeout: TIMEOUT });
        assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.equal(r.result?.result, answer, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.equal(r.result.is_error, false);
        const chats = b.mock.chats();
        assert.ok(chats.length >= 1, 'the upstream received nothing');
        const last = b.mock.last();
        assert.ok(last.summary.tools.includes('Bash'), `tools offered: ${last.summary.tools}`);
        assert.match(last.summary.userTexts.join('\n'), /Say hello/);
        for (const rec of chats) assertUpstreamAuth(b, rec);
      },
      { timeout: TIMEOUT + 5000 },
    );

    t.test(
      `claude code [${b.name}]: -p runs the Bash tool and reports its output`,
      async () => {
        const call = { name: 'Bash', args: { command: 'echo gateway-ok-42', description: 'Print a marker' } };
        if (b.protocol === 'gemini') call.signature = geminiSignature;
        else call.id = b.protocol === 'anthropic' ? 'toolu_01Bash' : 'call_bash1';
        const answer = 'The command printed gateway-ok-42.';
        b.mock.script((rec) =>
          rec.summary.toolResults.length
            ? { text: answer, usage: { input: 300, output: 9 } }
            : { toolCalls: [call], usage: { input: 200, output: 15 } },
        );
        const r = await claude.print('Run echo gateway-ok-42 and tell me what it printed', {
          gatewayURL: ctx.gw.url,
          key: b.key,
          model: b.model,
          ...dirs(b),
          timeout: TIMEOUT,
        });
        assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.equal(r.result?.result, answer, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        const s = b.mock.last().summary;
        assert.equal(s.toolCalls.length, 1);
        assert.equal(s.toolCalls[0].name, 'Bash');
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
