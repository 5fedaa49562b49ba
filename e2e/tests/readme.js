// Runs the README's snippets as written (only http://localhost:8090 is replaced by the test
// gateway's address): the five SDK snippets of "Use with the OpenAI / Anthropic / Gemini SDKs",
// the snippet of "Use with the OpenAI Agents SDK", and both opencode.json files (Chat Completions
// and Responses) with the `opencode run` line of "Use with opencode", over every backend. The
// config files of the Gemini CLI and Codex CLI sections must be the ones the e2e suite runs with.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/gateway.js';
import * as opencode from '../lib/opencode.js';
import * as codex from '../lib/codex.js';
import * as geminiCLI from '../lib/gemini-cli.js';
import * as claude from '../lib/claude.js';

const e2eRoot = path.resolve(import.meta.dirname, '..');
const README_URL = 'http://localhost:8090';

// section returns the README text under the level-2 heading title, up to the next one.
export function section(readme, title) {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

// codeBlocks returns the fenced blocks of the given language in text.
export function codeBlocks(text, lang) {
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  return [...text.matchAll(re)].map((m) => m[1]);
}

// shellWords splits a command line on spaces, keeping "double" and 'single' quoted words whole.
function shellWords(line) {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

function runNode(code, env) {
  return new Promise((resolve, reject) => {
    // --input-type=module reads an ES module from stdin; its imports resolve from e2e/.
    const child = spawn(process.execPath, ['--input-type=module'], { cwd: e2eRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(code);
  });
}

export function register(t, ctx) {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const sdkSection = section(readme, 'Use with the OpenAI / Anthropic / Gemini SDKs');
  const snippets = codeBlocks(sdkSection, 'js');
  const names = snippets.map((s) => s.match(/from '([^']+)';/)?.[1]);
  t.test('readme: the SDK section has the openai, anthropic, genai and AI SDK snippets', () => {
    assert.deepEqual(names, ['openai', '@anthropic-ai/sdk', '@google/genai', '@ai-sdk/openai-compatible', '@ai-sdk/openai']);
    for (const s of snippets) assert.ok(s.includes(README_URL), `snippet without ${README_URL}:\n${s}`);
  });
  const agentsSnippets = codeBlocks(section(readme, 'Use with the OpenAI Agents SDK'), 'js');
  t.test('readme: the Agents SDK section has one snippet', () => {
    assert.equal(agentsSnippets.length, 1);
    assert.ok(agentsSnippets[0].includes(README_URL));
  });
  const runnable = [...snippets.map((code, i) => ({ code, name: names[i] })), ...agentsSnippets.map((code) => ({ code, name: '@openai/agents' }))];

  t.test('readme: the Gemini CLI settings.json is the one the e2e suite uses', () => {
    const [file] = codeBlocks(section(readme, 'Use with Gemini CLI'), 'json');
    assert.deepEqual(JSON.parse(file), geminiCLI.settings);
  });
  // The variables the Claude Code and Gemini CLI sections export are ones the e2e suite sets.
  const exported = (title) => [...codeBlocks(section(readme, title), 'sh').join('\n').matchAll(/^export (\w+)=/gm)].map((m) => m[1]);
  t.test('readme: the Claude Code section sets the variables the e2e suite runs it with', () => {
    const names = exported('Use with Claude Code');
    assert.deepEqual(names, ['ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC']);
    for (const n of names) assert.ok(n in claude.env('http://x', 'k', '/h'), `${n} is not set by lib/claude.js`);
  });
  t.test('readme: the Gemini CLI section sets the variables the e2e suite runs it with', () => {
    const names = exported('Use with Gemini CLI');
    assert.deepEqual(names, ['GOOGLE_GEMINI_BASE_URL', 'GEMINI_API_KEY']);
    for (const n of names) assert.ok(n in geminiCLI.env('http://x', 'k', '/h'), `${n} is not set by lib/gemini-cli.js`);
  });
  t.test("readme: the Codex CLI model catalog entry is the one the e2e suite uses", () => {
    const [file] = codeBlocks(section(readme, 'Use with Codex CLI'), 'json');
    const entry = JSON.parse(file).models[0];
    assert.deepEqual(entry, codex.catalogEntry(entry.slug));
  });

  const ocSection = section(readme, 'Use with opencode');
  const ocConfigs = codeBlocks(ocSection, 'json');
  const [ocShell] = codeBlocks(ocSection, 'sh');
  t.test('readme: the opencode section has an OpenAI-compatible and a Responses config', () => {
    assert.deepEqual(
      ocConfigs.map((c) => Object.values(JSON.parse(c).provider)[0].npm),
      ['@ai-sdk/openai-compatible', '@ai-sdk/openai'],
    );
  });

  for (const b of ctx.backends) {
    for (const { code: snippet, name } of runnable) {
      t.test(`readme ${name} snippet [${b.name}]`, async () => {
        const answer = `Hello from the ${b.name} backend!`;
        b.mock.script({ text: answer, usage: { input: 13, output: 5 } });
        const code = snippet.replaceAll(README_URL, ctx.gw.url);
        const r = await runNode(code, { PATH: process.env.PATH, AIGW_KEY: b.key });
        assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.equal(r.stdout, `${answer}\n[13 in, 5 out]\n`);
        assert.equal(b.mock.chats().length, 1);
      });
    }

    for (const ocConfig of ocConfigs) {
      const npm = Object.values(JSON.parse(ocConfig).provider)[0].npm;
      t.test(
        `readme opencode config (${npm}) and command [${b.name}]`,
        async () => {
          assert.ok(ocConfig && ocShell, 'the opencode section needs a json and a sh block');
          const answer = `This project is answered by the ${b.name} backend.`;
          b.mock.script((rec) => (rec.summary.tools.length ? { text: answer } : { text: 'Title' }));
          const dir = path.join(ctx.tmp, 'readme-opencode', `${b.name}-${npm.replace(/\W/g, '')}`);
          const cwd = path.join(dir, 'project');
          fs.mkdirSync(cwd, { recursive: true });
          fs.writeFileSync(path.join(cwd, 'opencode.json'), ocConfig.replaceAll(README_URL, ctx.gw.url));
          const commands = ocShell.split('\n').filter((l) => l.startsWith('opencode '));
          assert.equal(commands.length, 1, `opencode commands in the sh block: ${commands}`);
          const args = shellWords(commands[0]).slice(1);
          const r = await opencode.run(args, {
            cwd,
            env: opencode.isolatedEnv(path.join(dir, 'home'), { AIGW_KEY: b.key }),
            timeout: 120_000,
          });
          assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
          assert.ok(r.stdout.includes(answer), `answer missing from stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
          const model = JSON.parse(ocConfig).model.split('/')[1];
          const agent = b.mock.chats().find((rec) => rec.summary.tools.length);
          assert.ok(agent, 'no agent request reached the upstream');
          const sentModel = b.protocol === 'gemini' ? decodeURIComponent(agent.path.match(/models\/([^:]+):/)[1]) : agent.body.model;
          assert.equal(sentModel, model);
        },
        { timeout: 125_000 },
      );
    }
  }
}
