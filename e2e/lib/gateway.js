// Builds and runs the real ai-gateway binary in a temporary directory, the way a user does:
// first launch writes config and database, the CLI makes an admin token, clients are created
// through the admin JSON API. Same sequence as contrib/bench/main.go.

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');

// build compiles the gateway into dir and returns the binary's path. AIGW_E2E_BINARY names a
// binary built elsewhere instead.
export async function build(dir) {
  if (process.env.AIGW_E2E_BINARY) return path.resolve(process.env.AIGW_E2E_BINARY);
  const bin = path.join(dir, 'ai-gateway');
  await run('go', ['build', '-o', bin, '.'], { cwd: repoRoot, maxBuffer: 16 << 20 });
  return bin;
}

export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export class Gateway {
  constructor(bin, dir) {
    this.bin = bin;
    this.dir = dir;
    this.config = path.join(dir, 'config.yaml');
    // The suites make one mock upstream fail on purpose (429s, 500s, broken streams) and then
    // expect the next test's request to reach it: with the circuit breaker on, a few deliberate
    // failures would open it for every later test of that backend. The breaker and the retries
    // are covered by the Go tests (gateway, TestAttackRouting*); here every test stands alone.
    this.env = {
      ...process.env,
      AIGW_DATABASE_PATH: path.join(dir, 'data', 'gateway.db'),
      AIGW_UPSTREAM_BREAKER_FAILURES: '0',
    };
    this.logPath = path.join(dir, 'gateway.log');
  }

  async start() {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(this.bin, ['-config', this.config, '-host', '127.0.0.1', '-port', String(this.port)], {
      cwd: this.dir,
      env: this.env,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const gone = await Promise.race([this.exited, new Promise((r) => setTimeout(() => r(null), 50))]);
      if (gone) throw new Error(`gateway exited during start (${JSON.stringify(gone)}):\n${this.log()}`);
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`gateway at ${this.url} did not become healthy:\n${this.log()}`);
    }
    const { stdout } = await run(this.bin, ['admin', 'token', 'create', '--name', 'e2e', '-config', this.config], {
      cwd: this.dir,
      env: this.env,
    });
    this.adminToken = stdout
      .split(/\s+/)
      .filter((w) => w.startsWith('aigw_'))
      .sort((a, b) => b.length - a.length)[0];
    if (!this.adminToken) throw new Error(`no admin token in the CLI output:\n${stdout}`);
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  async admin(method, p, body) {
    const r = await fetch(`${this.url}/admin/api/v1${p}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`admin ${method} ${p}: HTTP ${r.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  }

  // createClient creates a client with no rate limits or quotas (so the suite never trips them)
  // and returns the admin API's answer, whose `key` is the client key.
  async createClient(fields) {
    const unlimited = {
      rate_limit: { requests_per_minute: 0, requests_per_hour: 0, requests_per_day: 0 },
      quota: {
        max_input_tokens_per_day: 0,
        max_output_tokens_per_day: 0,
        max_requests_per_day: 0,
        max_input_tokens: 0,
        max_output_tokens: 0,
      },
    };
    const c = await this.admin('POST', '/clients', { ...unlimited, ...fields });
    if (!c.key) throw new Error(`client ${fields.name} created without a key: ${JSON.stringify(c)}`);
    return c;
  }

  // loggedSince waits until the request log holds at least n rows of client for requests that
  // began at or after since (a Date; rows are written in the background) and returns those rows,
  // newest first, as the admin API lists them.
  async loggedSince(client, since, n) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { requests } = await this.admin('GET', `/requests?client_id=${client}`);
      const rows = requests.filter((r) => new Date(r.time) >= since);
      if (rows.length >= n || Date.now() > deadline) return rows;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
