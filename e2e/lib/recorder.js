// A recording pass-through in front of the gateway: a client pointed at it reaches the gateway
// unchanged (streams included), and the recorder keeps the method and path of every request, so
// a test can tell which front door a tool used (opencode's two OpenAI providers differ only
// there).

import http from 'node:http';

export class Recorder {
  constructor(target) {
    this.target = new URL(target);
    this.requests = [];
    this.server = http.createServer((req, res) => this.#forward(req, res));
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this.url;
  }

  async stop() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
  }

  // paths are the "METHOD /path" of the requests seen, without query strings.
  paths() {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  #forward(req, res) {
    this.requests.push({ method: req.method, path: new URL(req.url, 'http://recorder').pathname });
    const up = http.request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`recorder: ${err.message}`);
    });
    res.on('close', () => up.destroy());
    req.pipe(up);
  }
}
