// The Codex CLI (`codex exec`, a custom provider with wire_api "responses") through the
// gateway's Responses front door, over every backend: the mock asks for Codex's shell tool,
// Codex runs the command, the mock sees its output come back (with the reasoning signature
// Codex carried statelessly in encrypted_content, on Anthropic) and answers; the request log notes
// the built-in and namespaced tools Codex offered that the backend was not.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { geminiSignature } from '../lib/fixtures.js';
import * as codex from '../lib/codex.js';

const TIMEOUT = 120_000;

export function register(t, ctx) {
  let n = 0;
  for (const b of ctx.backends) {
    t.test(
      `codex [${b.name}]: exec runs the shell tool and reports its output`,
      async () => {
        const dir = path.join(ctx.tmp, 'codex', `${b.name}-${++n}`);
        const cwd = path.join(dir, 'work');
        fs.mkdirSync(cwd, { recursive: true });
        const call = { name: 'exec_command', args: { cmd: 'echo gateway-ok-42' } };
        if (b.protocol === 'gemini') call.signature = geminiSignature;
        else call.id = b.protocol === 'anthropic' ? 'toolu_01Exec' : 'call_exec1';
        const answer = 'The command printed gateway-ok-42.';
        b.mock.script((rec) =>
          rec.summary.toolResults.length
            ? { text: answer, usage: { input: 300, output: 9 } }
            : { toolCalls: [call], usage: { input: 200, output: 15 } },
        );
        // Rows of this test's requests are the ones that began after this moment.
        const started = new Date();
        const r = await codex.exec('Run echo gateway-ok-42 and tell me what it printed', {
          gatewayURL: ctx.gw.url,
          key: b.key,
          model: b.model,
          cwd,
          home: path.join(dir, 'home'),
          timeout: TIMEOUT,
        });
        assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.ok(r.stdout.includes(answer), `answer missing from stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        const last = b.mock.last();
        assert.ok(last.summary.tools.includes('exec_command'), `tools offered: ${last.summary.tools}`);
        assert.ok(!last.summary.tools.includes('web_search'), `a built-in tool was offered: ${last.summary.tools}`);
        assert.equal(last.summary.toolResults.length, 1);
        assert.match(last.summary.toolResults[0].content, /gateway-ok-42/);
        // The request log notes the built-in and namespaced tools left out of what the backend
        // was offered, on the attempt.
        const rows = await ctx.gw.loggedSince(b.clientID, started, 2);
        assert.equal(rows.length, 2, `request log rows: ${JSON.stringify(rows)}`);
        for (const row of rows) {
          assert.equal(row.endpoint, '/v1/responses');
          const omitted = row.attempts.at(-1).omitted_tools ?? [];
          assert.ok(omitted.includes('web_search'), `omitted tools logged: ${JSON.stringify(omitted)}`);
          assert.ok(omitted.some((t) => t.startsWith('namespace ')), `omitted tools logged: ${JSON.stringify(omitted)}`);
        }
      },
      { timeout: TIMEOUT + 5000 },
    );
  }
}
