// Runs Claude Code (npm package @anthropic-ai/claude-code) non-interactively against the gateway's
// Anthropic front door, as reference/agents.md describes: `claude -p` with ANTHROPIC_BASE_URL at
// the gateway and the client key as ANTHROPIC_API_KEY, its own HOME, no auto-update, telemetry or
// other non-essential traffic, and a minimal environment so no key of the machine leaks in.

import fs from 'node:fs';
import path from 'node:path';
import { runProcess } from './spawn.js';

const e2eRoot = path.resolve(import.meta.dirname, '..');

// binary is the native executable: the one the package's postinstall copied over its `claude`
// command, else the platform package's own (when install scripts did not run).
export function binary() {
  const mod = path.join(e2eRoot, 'node_modules', '@anthropic-ai');
  const installed = path.join(mod, 'claude-code', 'bin', 'claude.exe');
  if (fs.existsSync(installed) && fs.statSync(installed).size > 1 << 20) return installed;
  for (const variant of ['', '-musl']) {
    const p = path.join(mod, `claude-code-${process.platform}-${process.arch}${variant}`, process.platform === 'win32' ? 'claude.exe' : 'claude');
    if (fs.existsSync(p)) return p;
  }
  throw new Error('Claude Code is not installed: run `npm ci` in e2e/');
}

// env is the environment Claude Code runs with: the gateway as its Anthropic API, home under
// home, nothing else of ours.
export function env(gatewayURL, key, home) {
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    ANTHROPIC_BASE_URL: gatewayURL,
    ANTHROPIC_API_KEY: key,
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    NO_COLOR: '1',
  };
}

// print runs `claude -p prompt --model model --output-format json` in cwd, allowing its Bash tool
// (the permission bypass flags are refused when running as root), and resolves with its exit
// code, output and the parsed result object.
export async function print(prompt, { gatewayURL, key, model, cwd, home, timeout = 90_000 }) {
  fs.mkdirSync(home, { recursive: true });
  const args = ['-p', prompt, '--model', model, '--output-format', 'json', '--allowedTools', 'Bash'];
  const r = await runProcess(binary(), args, { cwd, env: env(gatewayURL, key, home), timeout });
  try {
    r.result = JSON.parse(r.stdout.trim().split('\n').at(-1));
  } catch {
    r.result = null;
  }
  return r;
}
