// The gateway as one MCP server (SPEC §18): opencode is configured with the gateway's /mcp as a
// remote MCP server (its client key in the Authorization header); the model asks for the
// weather tool, opencode calls it through /mcp, the gateway runs it on the registered MCP
// server (with the server's own header), and the result reaches the model.
//
// The MCP server is a minimal Streamable HTTP one written here (JSON answers), and the suite
// starts a gateway of its own with mcp.allow_private on, since that server listens on 127.0.0.1.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Gateway } from '../lib/gateway.js';
import * as opencode from '../lib/opencode.js';

const TIMEOUT = 120_000;
const HEADER_SECRET = 'e2e-mcp-header-secret';

// startWeatherMCP serves the MCP methods a client needs (initialize, tools/list, tools/call)
// and records each tools/call with the X-Token header it came with.
async function startWeatherMCP() {
  const calls = [];
  const srv = http.createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const msg = JSON.parse(body);
      if (msg.id === undefined) {
        res.writeHead(202).end(); // a notification
        return;
      }
      let result;
      switch (msg.method) {
        case 'initialize':
          result = {
            protocolVersion: msg.params.protocolVersion,
            capabilities: { tools: {} },
            serverInfo: { name: 'e2e-weather', version: '1' },
          };
          break;
        case 'tools/list':
          result = {
            tools: [
              {
                name: 'forecast',
                description: 'The weather forecast of a city',
                inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
              },
            ],
          };
          break;
        case 'tools/call':
          calls.push({ name: msg.params.name, args: msg.params.arguments, token: req.headers['x-token'] });
          result = { content: [{ type: 'text', text: `sunny-42 in ${msg.params.arguments?.city}` }] };
          break;
        default:
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'method not found' } }));
          return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
    });
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${srv.address().port}/mcp`,
    calls,
    stop: () => new Promise((resolve) => srv.close(resolve)),
  };
}

export function register(t, ctx) {
  t.test(
    'opencode: the gateway /mcp as a remote MCP server runs a tool',
    async () => {
      const b = ctx.backends.find((x) => x.protocol === 'openai');
      const mcp = await startWeatherMCP();
      const gw = new Gateway(ctx.gw.bin, path.join(ctx.tmp, 'gateway-mcp'));
      gw.env.AIGW_MCP_ALLOW_PRIVATE = 'true';
      fs.mkdirSync(gw.dir, { recursive: true });
      try {
        await gw.start();
        await gw.admin('POST', '/mcp-servers', { name: 'weather', url: mcp.url, headers: { 'X-Token': HEADER_SECRET } });
        const client = await gw.createClient({
          name: 'e2e mcp',
          backend: 'openai-compatible',
          base_url: `${b.mock.url}/v1`,
          upstream_key: 'upstream-secret-mcp',
          default_model: b.model,
          mcp_servers: ['weather'],
        });

        // The model calls whichever offered tool is the gateway's weather__forecast (opencode
        // prefixes an MCP server's tools with the server's name), then answers from its result.
        let offered = [];
        b.mock.script((rec) => {
          if (!rec.summary.tools.length) return { text: 'Mock title', usage: { input: 5, output: 2 } };
          offered = rec.summary.tools;
          if (rec.summary.toolResults.length) {
            return { text: `The forecast: ${rec.summary.toolResults[0].content}`, usage: { input: 300, output: 9 } };
          }
          const name = rec.summary.tools.find((n) => n.endsWith('weather__forecast'));
          return name
            ? { toolCalls: [{ id: 'call_mcp1', name, args: { city: 'Paris' } }], usage: { input: 200, output: 15 } }
            : { text: 'no MCP tool was offered', usage: { input: 200, output: 5 } };
        });

        const dir = path.join(ctx.tmp, 'opencode-mcp');
        const home = path.join(dir, 'home');
        const cwd = path.join(dir, 'project');
        fs.mkdirSync(home, { recursive: true });
        fs.mkdirSync(cwd, { recursive: true });
        const config = {
          ...opencode.providerConfig(gw.url, client.key, b.model),
          mcp: { aigw: { type: 'remote', url: `${gw.url}/mcp`, headers: { Authorization: `Bearer ${client.key}` }, enabled: true } },
        };
        const env = opencode.isolatedEnv(home, { OPENCODE_CONFIG_CONTENT: JSON.stringify(config) });
        const r = await opencode.run(['run', '--format', 'json', 'What is the weather in Paris?', '-m', `gw/${b.model}`], {
          cwd,
          env,
          timeout: TIMEOUT,
        });
        assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.ok(
          offered.some((n) => n.endsWith('weather__forecast')),
          `opencode offered no tool of /mcp: ${offered}\nstderr:\n${r.stderr}\ngateway log:\n${gw.log().slice(-3000)}`,
        );
        const evs = opencode.events(r.stdout);
        const tool = evs.find((e) => e.type === 'tool_use');
        assert.ok(tool, `no tool_use event in:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.ok(tool.part.tool.endsWith('weather__forecast'), `tool ${tool.part.tool}`);
        assert.equal(tool.part.state.status, 'completed', `tool state: ${JSON.stringify(tool.part.state)}`);
        assert.match(tool.part.state.output, /sunny-42 in Paris/);
        const texts = evs.filter((e) => e.type === 'text').map((e) => e.part.text);
        assert.deepEqual(texts, ['The forecast: sunny-42 in Paris']);

        // The gateway ran the call on the registered server, with the server's header.
        assert.deepEqual(mcp.calls, [{ name: 'forecast', args: { city: 'Paris' }, token: HEADER_SECRET }]);
        // And logged it as a /mcp request with its tool step (the log is written in the
        // background, about once a second).
        let logged = [];
        for (let i = 0; i < 100 && logged.length === 0; i++) {
          if (i) await new Promise((r) => setTimeout(r, 100));
          const { requests } = await gw.admin('GET', '/requests?limit=50');
          logged = requests.filter((q) => q.endpoint === '/mcp');
        }
        assert.equal(logged.length, 1, `logged /mcp calls: ${JSON.stringify(logged)}`);
        assert.equal(logged[0].tool_steps[0].tool, 'weather__forecast');
        assert.equal(logged[0].tool_steps[0].status, 'ok');
        assert.ok(!gw.log().includes(HEADER_SECRET), 'the MCP server header is in the gateway log');
      } finally {
        await gw.stop();
        await mcp.stop();
      }
    },
    { timeout: TIMEOUT + 30_000 },
  );
}
