// End-to-end suite: builds the gateway, starts it with a mock upstream per protocol, creates one
// client per backend through the admin API, and drives the real client SDKs, opencode and Codex through
// it. Usage: `npm test` (all), `npm test -- <regexp>` (only tests whose name matches).
// AIGW_E2E_BINARY=path skips the build; AIGW_E2E_KEEP=1 keeps the temporary directory.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Gateway, build } from './lib/gateway.js';
import { MockUpstream } from './lib/mock.js';
import { Runner } from './lib/runner.js';
import * as openaiSDK from './tests/openai-sdk.js';
import * as aiSDK from './tests/ai-sdk.js';
import * as aiSDKOpenAI from './tests/ai-sdk-openai.js';
import * as agentsSDK from './tests/agents-sdk.js';
import * as anthropicSDK from './tests/anthropic-sdk.js';
import * as genaiSDK from './tests/genai-sdk.js';
import * as opencode from './tests/opencode.js';
import * as opencodeResponses from './tests/opencode-responses.js';
import * as accounting from './tests/accounting.js';
import * as disconnect from './tests/disconnect.js';
import * as mockSelftest from './tests/mock-selftest.js';
import * as policy from './tests/policy.js';
import * as quirks from './tests/quirks.js';
import * as translation from './tests/translation.js';
import * as readme from './tests/readme.js';
import * as responses from './tests/responses.js';
import * as codexCLI from './tests/codex.js';
import * as codexEdit from './tests/codex-edit.js';
import * as claudeCode from './tests/claude-code.js';
import * as geminiCLI from './tests/gemini-cli.js';

const suites = [
  mockSelftest,
  openaiSDK,
  aiSDK,
  anthropicSDK,
  genaiSDK,
  translation,
  responses,
  aiSDKOpenAI,
  agentsSDK,
  quirks,
  policy,
  accounting,
  disconnect,
  opencode,
  opencodeResponses,
  codexCLI,
  codexEdit,
  claudeCode,
  geminiCLI,
  readme,
];

// The three upstream protocols, each behind one client of the matching backend.
const backendSpecs = [
  {
    name: 'openai-compatible',
    protocol: 'openai',
    model: 'gpt-e2e',
    models: ['gpt-e2e', 'gpt-e2e-mini', 'text-embedding-e2e'],
    embeddingModel: 'text-embedding-e2e',
  },
  { name: 'anthropic', protocol: 'anthropic', model: 'claude-e2e', models: ['claude-e2e', 'claude-e2e-haiku'] },
  {
    name: 'gemini',
    protocol: 'gemini',
    model: 'gemini-e2e',
    models: ['gemini-e2e', 'gemini-e2e-flash', 'embedding-e2e'],
    embeddingModel: 'embedding-e2e',
  },
];

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aigw-e2e-'));
  const mocks = [];
  let gw;
  let result = { passed: 0, failed: 1 };
  try {
    console.log(`building the gateway (temporary directory ${tmp}) …`);
    const bin = await build(tmp);
    gw = new Gateway(bin, path.join(tmp, 'gateway'));
    fs.mkdirSync(gw.dir, { recursive: true });
    await gw.start();
    console.log(`gateway on ${gw.url}`);

    const backends = [];
    for (const spec of backendSpecs) {
      const mock = new MockUpstream(spec.protocol, { models: spec.models });
      mocks.push(mock);
      await mock.start();
      const upstreamKey = `upstream-secret-${spec.protocol}`;
      const client = await gw.createClient({
        name: `e2e ${spec.name}`,
        backend: spec.name,
        base_url: spec.protocol === 'openai' ? `${mock.url}/v1` : mock.url,
        upstream_key: upstreamKey,
        default_model: spec.model,
      });
      backends.push({ ...spec, mock, key: client.key, clientID: client.id, upstreamKey });
    }

    const wlMock = new MockUpstream('openai', { models: ['gpt-e2e'] });
    mocks.push(wlMock);
    await wlMock.start();
    const wl = await gw.createClient({
      name: 'e2e whitelisted',
      backend: 'openai-compatible',
      base_url: `${wlMock.url}/v1`,
      upstream_key: 'upstream-secret-whitelisted',
      default_model: 'gpt-e2e',
      model_whitelist: ['gpt-e2e'],
    });

    const ctx = { gw, backends, tmp, whitelisted: { mock: wlMock, key: wl.key, allowed: 'gpt-e2e' } };
    const runner = new Runner({ filter: process.argv[2] });
    for (const s of suites) s.register(runner, ctx);
    result = await runner.run();
  } catch (err) {
    console.log(`setup failed: ${err.stack ?? err}`);
  } finally {
    await gw?.stop();
    for (const m of mocks) await m.stop();
    if (result.failed && gw) {
      const log = gw.log();
      console.log(`\n--- gateway log (last 4000 characters)\n${log.slice(-4000)}`);
    }
    if (!process.env.AIGW_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\n${result.passed} passed, ${result.failed} failed`);
  process.exit(result.failed ? 1 : 0);
}

await main();
