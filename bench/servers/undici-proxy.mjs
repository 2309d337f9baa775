// The Node baseline reverse proxy: node:http in front, one undici Pool to the backend behind.
// Nothing else: no header rewriting beyond hop-by-hop removal, no routing.
// Usage: node bench/servers/undici-proxy.mjs <listenPort> <backendPort>
import http from 'node:http';
import { Pool } from 'undici';

const [listenPort, backendPort] = process.argv.slice(2, 4).map(Number);
const pool = new Pool(`http://127.0.0.1:${backendPort}`, { connections: 128, pipelining: 1 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  /** @type {Record<string, string | string[]>} */
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool
    .request({ method: /** @type {import('undici').Dispatcher.HttpMethod} */ (req.method), path: req.url ?? '/', headers, body: hasBody ? req : null })
    .then(({ statusCode, headers: upHeaders, body }) => {
      /** @type {http.OutgoingHttpHeaders} */
      const out = {};
      for (const [k, v] of Object.entries(upHeaders)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(statusCode, out);
      body.pipe(res);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.listen(listenPort, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
