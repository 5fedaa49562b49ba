// Runs the opencode CLI (npm package opencode-ai) non-interactively, isolated from the user's
// own opencode setup as reference/protocols.md §2 describes: its own HOME and XDG directories,
// no auto-update, no models.dev fetch, no LSP downloads, and a minimal environment so no
// provider key of the machine leaks in.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const e2eRoot = path.resolve(import.meta.dirname, '..');

// binary finds the opencode executable: the one opencode-ai's postinstall put in place, else the
// platform package's own (when install scripts did not run).
export function binary() {
  const mod = path.join(e2eRoot, 'node_modules');
  const installed = path.join(mod, 'opencode-ai', 'bin', 'opencode.exe');
  if (fs.existsSync(installed) && fs.statSync(installed).size > 1 << 20) return installed;
  const os = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform];
  for (const variant of ['', '-baseline', '-musl', '-baseline-musl']) {
    const p = path.join(mod, `opencode-${os}-${process.arch}${variant}`, 'bin', process.platform === 'win32' ? 'opencode.exe' : 'opencode');
    if (fs.existsSync(p)) return p;
  }
  throw new Error('opencode is not installed: run `npm ci` in e2e/');
}

// isolatedEnv is the environment opencode runs with: home under dir, nothing else of ours.
export function isolatedEnv(home, extra = {}) {
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    NO_COLOR: '1',
    ...extra,
  };
}

// providerConfig is an opencode config with one provider `gw` pointing at the gateway, the given
// model as both the main and the small (title) model. The provider is OpenAI-compatible (Chat
// Completions, /v1/chat/completions) unless npm names `@ai-sdk/openai`, which speaks the
// Responses API (/v1/responses).
export function providerConfig(gatewayURL, key, model, npm = '@ai-sdk/openai-compatible') {
  return {
    provider: {
      gw: {
        npm,
        options: { baseURL: `${gatewayURL}/v1`, apiKey: key },
        models: {
          [model]: {
            tool_call: true,
            attachment: true,
            modalities: { input: ['text', 'image'], output: ['text'] },
            limit: { context: 128000, output: 4096 },
          },
        },
      },
    },
    model: `gw/${model}`,
    small_model: `gw/${model}`,
    autoupdate: false,
    share: 'disabled',
  };
}

// run starts opencode with args in cwd and resolves with its exit code and output. stdin is
// closed, as in CI.
export function run(args, { cwd, env, timeout = 90_000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary(), args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opencode ${args.join(' ')} timed out after ${timeout} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
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

// events parses `opencode run --format json` output: one JSON event per line.
export function events(stdout) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}
