// Runs the Gemini CLI (npm package @google/gemini-cli) non-interactively against the gateway's
// Gemini front door, as reference/agents.md describes: `gemini -p` with GOOGLE_GEMINI_BASE_URL at
// the gateway and the client key as GEMINI_API_KEY, its own HOME, and a minimal environment so no
// key of the machine leaks in.

import fs from 'node:fs';
import path from 'node:path';
import { runProcess } from './spawn.js';

const e2eRoot = path.resolve(import.meta.dirname, '..');

// settings is the ~/.gemini/settings.json the CLI needs behind a gateway. Release 0.61 selects its
// own "gateway" auth type when GOOGLE_GEMINI_BASE_URL is set and then rejects it ("Invalid auth
// method selected"); selecting `gemini-api-key` works, and the base URL still applies. Folder
// trust off keeps --yolo in effect in a fresh folder; the rest keeps it off the network.
export const settings = {
  security: { auth: { selectedType: 'gemini-api-key' }, folderTrust: { enabled: false } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { disableAutoUpdate: true },
};

// launcher is the package's entry script.
export function launcher() {
  const p = path.join(e2eRoot, 'node_modules', '@google', 'gemini-cli', 'bundle', 'gemini.js');
  if (!fs.existsSync(p)) throw new Error('Gemini CLI is not installed: run `npm ci` in e2e/');
  return p;
}

// env is the environment the CLI runs with: the gateway as its Gemini API, home under home,
// nothing else of ours.
export function env(gatewayURL, key, home) {
  return { PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: home, GOOGLE_GEMINI_BASE_URL: gatewayURL, GEMINI_API_KEY: key, NO_COLOR: '1' };
}

// prompt runs `gemini -p text --yolo -m model --output-format json` in cwd with settings in
// home/.gemini, and resolves with its exit code, output and the parsed JSON answer.
export async function prompt(text, { gatewayURL, key, model, cwd, home, timeout = 90_000 }) {
  fs.mkdirSync(path.join(home, '.gemini'), { recursive: true });
  fs.writeFileSync(path.join(home, '.gemini', 'settings.json'), JSON.stringify(settings, null, 2));
  const args = [launcher(), '-p', text, '--yolo', '-m', model, '--output-format', 'json'];
  const r = await runProcess(process.execPath, args, { cwd, env: env(gatewayURL, key, home), timeout });
  try {
    r.result = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  } catch {
    r.result = null;
  }
  return r;
}
