// Runs the Codex CLI (npm package @openai/codex) non-interactively against the gateway, as
// reference/agents.md describes: `codex exec` with a custom provider `gw` whose wire API is
// Responses, its own HOME and CODEX_HOME, no update check, no analytics, no plugins, and a
// minimal environment so no key of the machine leaks in.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const e2eRoot = path.resolve(import.meta.dirname, '..');

// launcher is the package's own launcher script, which finds the platform binary.
export function launcher() {
  const p = path.join(e2eRoot, 'node_modules', '@openai', 'codex', 'bin', 'codex.js');
  if (!fs.existsSync(p)) throw new Error('Codex CLI is not installed: run `npm ci` in e2e/');
  return p;
}

// catalogEntry is a model catalog entry (Codex's `model_catalog_json` file) for a model Codex does
// not know: the fields this release requires, with `apply_patch_tool_type: "freeform"`, which
// makes Codex offer its `apply_patch` custom tool. Without an entry Codex falls back to metadata
// that offers no `apply_patch` tool to a custom provider, and edits files through its shell tool.
export function catalogEntry(model) {
  return {
    slug: model,
    display_name: model,
    base_instructions: 'You are Codex, a coding agent working in the user\'s workspace.',
    apply_patch_tool_type: 'freeform',
    shell_type: 'shell_command',
    support_verbosity: false,
    supported_reasoning_levels: [],
    truncation_policy: { mode: 'tokens', limit: 10000 },
    experimental_supported_tools: [],
    visibility: 'list',
    supported_in_api: true,
    priority: 1,
  };
}

// exec runs `codex exec prompt` with model through the gateway at gatewayURL with key, in cwd,
// and resolves with its exit code and output. stdin is closed, as in CI. With catalog set, a
// model catalog holding catalogEntry(model) is written to home and passed to Codex.
export function exec(prompt, { gatewayURL, key, model, cwd, home, catalog = false, timeout = 90_000 }) {
  fs.mkdirSync(home, { recursive: true });
  const extra = [];
  if (catalog) {
    const file = path.join(home, 'models.json');
    fs.writeFileSync(file, JSON.stringify({ models: [catalogEntry(model)] }, null, 2));
    extra.push('-c', `model_catalog_json=${JSON.stringify(file)}`);
  }
  const env = { PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: home, CODEX_HOME: home, GW_KEY: key, NO_COLOR: '1' };
  const args = [
    launcher(),
    'exec',
    '--skip-git-repo-check',
    '--dangerously-bypass-approvals-and-sandbox',
    '--disable',
    'plugins',
    '-c',
    'check_for_update_on_startup=false',
    '-c',
    'analytics.enabled=false',
    '-c',
    'model_provider=gw',
    '-c',
    `model_providers.gw={name="gw",base_url="${gatewayURL}/v1",env_key="GW_KEY",wire_api="responses"}`,
    ...extra,
    '-m',
    model,
    prompt,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`codex exec timed out after ${timeout} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
