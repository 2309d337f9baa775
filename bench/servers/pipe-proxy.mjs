// The Node baseline TCP proxy: accept, connect upstream, pipe() both ways. A third argument puts an
// in-memory hop between the two sockets, to price that hop inside a real proxy:
//   none   downstream <-> upstream                        (the plain pipe() proxy)
//   naive  downstream <-> cross-wired Duplex pair <-> upstream (push per chunk, backpressure via held callback)
//   il     downstream <-> @il/core internal connection <-> upstream
// Usage: node bench/servers/pipe-proxy.mjs <listenPort> <upstreamPort> [none|naive|il]
import net from 'node:net';
import { naivePair } from '../lib/naive-pair.mjs';
import { splice } from './splice.mjs';

const [listenPort, upstreamPort] = process.argv.slice(2, 4).map(Number);
const hop = process.argv[4] ?? 'none';
if (!listenPort || !upstreamPort || !['none', 'naive', 'il'].includes(hop)) {
  process.stderr.write('usage: pipe-proxy.mjs <listenPort> <upstreamPort> [none|naive|il]\n');
  process.exit(2);
}

function dialUpstream() {
  const up = net.connect(upstreamPort, '127.0.0.1');
  up.setNoDelay(true);
  return up;
}

/** @type {(downstream: net.Socket) => void} */
let handle = (down) => splice(down, dialUpstream());

if (hop === 'naive') {
  handle = (down) => {
    const [a, b] = naivePair();
    splice(down, a);
    splice(b, dialUpstream());
  };
} else if (hop === 'il') {
  const { InternalListenerRegistry } = await import('../../packages/core/dist/index.js');
  const registry = new InternalListenerRegistry();
  registry.listen('hop', (serverSide) => splice(serverSide, dialUpstream()));
  handle = (down) => splice(down, registry.connect({ serverListenerName: 'hop' }));
}

const server = net.createServer({ noDelay: true }, (down) => handle(down));
server.listen(listenPort, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
