// A Node HTTP/1.1 server answering every request with a fixed 13-byte body: the "direct (Node
// http server)" row, next to the nginx backend the proxies forward to.
// Usage: node bench/servers/http-backend.mjs <port>
import http from 'node:http';

const port = Number(process.argv[2]);
const body = Buffer.from('Hello, world!');
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };

http
  .createServer({ keepAliveTimeout: 60_000 }, (_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  })
  .listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
