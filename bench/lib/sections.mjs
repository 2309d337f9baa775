// What `--only <section>` selects: the benches of each section, their subjects and ratio peers,
// and the targets the issues set, each checked against the figures of the same run.

/** @typedef {import('./runner.mjs').Bench} Bench */

/** @type {Record<string, Bench[]>} section -> benches (the socket section also runs the pair microbench) */
export const SECTIONS = {
  socket: [
    {
      id: 'socket-hop',
      title: 'An in-memory hop inside a Node pipe() TCP proxy (iperf3, 1 stream)',
      load: 'iperf3',
      subjects: ['node-pipe', 'node-pipe-naive-hop', 'node-pipe-il-hop'],
      peers: ['node-pipe'],
    },
  ],
  // In-process microbenchmark (bench/routes/route-match.mjs), run by run.mjs itself.
  routes: [],
  tcp: [
    {
      id: 'tcp',
      title: 'TCP proxying (iperf3, 1 stream)',
      load: 'iperf3',
      subjects: ['direct', 'haproxy-tcp', 'haproxy-tcp-128k', 'nginx-stream', 'socat', 'node-pipe', 'il-tcp'],
      peers: ['haproxy-tcp'],
    },
  ],
  internal: [
    {
      id: 'internal',
      title: 'Internal-listener chain (iperf3, 1 stream)',
      load: 'iperf3',
      subjects: ['node-pipe', 'il-tcp', 'il-internal'],
      peers: ['il-tcp'],
    },
  ],
  tunnel: [
    {
      id: 'tunnel',
      title: 'Raw TCP through an HTTP/2 CONNECT tunnel (iperf3, 1 stream)',
      load: 'iperf3',
      subjects: ['haproxy-tcp', 'haproxy-tcp-2proc', 'node-pipe', 'il-tcp', 'il-tcp-2proc', 'node-h2-tunnel', 'il-tunnel'],
      // il-tcp-2proc makes the same kernel copies as the tunnel (two proxies, two TCP hops) without
      // HTTP/2; node-pipe is the issue's yardstick for a bare Node tunnel (~0.8× a pipe() proxy).
      peers: ['il-tcp', 'il-tcp-2proc', 'node-pipe'],
    },
    {
      id: 'seed',
      title: "The seed's whole HTTP-in-CONNECT tunnel (wrk, 50 connections)",
      load: 'wrk',
      subjects: ['il-seed'],
      peers: [],
    },
    {
      id: 'idle',
      title: 'Idle tunnels held open (RSS growth of encap + decap)',
      load: 'idle',
      tcpBackend: 'echo',
      subjects: ['il-tunnel'],
      peers: [],
      quickRounds: 1,
    },
  ],
  http1: [
    {
      id: 'http1',
      title: 'HTTP/1.1 reverse proxying (wrk, 50 connections)',
      load: 'wrk',
      subjects: ['direct-http', 'direct-node', 'haproxy-http', 'nginx-http', 'undici-proxy', 'il-hcm'],
      peers: ['haproxy-http', 'undici-proxy'],
    },
  ],
  http2: [
    {
      id: 'http2',
      title: 'HTTP/2 (h2c) reverse proxying to an HTTP/1.1 backend (h2load, 10 connections x 10 streams)',
      load: 'h2load',
      subjects: ['direct-h2', 'nghttpx', 'haproxy-h2', 'nginx-h2', 'il-hcm'],
      peers: ['nghttpx'],
    },
  ],
  tls: [
    {
      id: 'tls-tcp',
      title: 'TLS TcpProxy, TLS 1.3 on both sides (one TLS connection, TLS_AES_128_GCM_SHA256)',
      load: 'tls-push',
      subjects: ['direct-tls', 'haproxy-tls-tcp', 'haproxy-tls-tcp-128k', 'node-tls-relay', 'il-tls-tcp'],
      peers: ['haproxy-tls-tcp', 'node-tls-relay'],
    },
    {
      id: 'tls-handshakes',
      title: 'New TLS 1.3 handshakes per second (openssl s_time -new, 4 clients, no resumption)',
      load: 'tls-handshakes',
      subjects: ['nginx-tls', 'haproxy-tls-http', 'node-tls-server', 'il-tls-hcm'],
      peers: ['nginx-tls', 'haproxy-tls-http', 'node-tls-server'],
    },
    {
      id: 'hbone',
      title: 'Raw TCP through the HBONE pair, mTLS HTTP/2 CONNECT, vs the plaintext tunnel (iperf3, 1 stream)',
      load: 'iperf3',
      subjects: ['node-h2-tunnel', 'node-h2-tunnel-mtls', 'il-tunnel', 'il-hbone-plaintext', 'il-hbone'],
      // The pair's layout without TLS, and what mTLS costs a bare Node tunnel, say where the
      // difference to the plaintext tunnel comes from.
      peers: ['il-tunnel', 'il-hbone-plaintext', 'node-h2-tunnel', 'node-h2-tunnel-mtls'],
    },
    {
      id: 'hbone-http',
      title: 'HTTP through the HBONE pair vs the plaintext tunnels (wrk, 50 connections, nginx backend behind the TCP tunnels)',
      load: 'wrk',
      tcpBackend: 'http',
      subjects: ['il-seed', 'il-tunnel', 'il-hbone'],
      // il-seed answers at its decap (direct_response); il-tunnel and il-hbone carry the bytes to nginx.
      peers: ['il-seed', 'il-tunnel'],
    },
  ],
};

export const SECTION_NAMES = ['socket', 'routes', 'tcp', 'internal', 'tunnel', 'http1', 'http2', 'tls'];

/**
 * A target from the issues. `ratio`: median over rounds of subject/peer (same round) >= min.
 * `metric`: median of a figure compared with min or max. `socket`: checked on the pair microbench.
 * @typedef {object} Target
 * @property {string} text
 * @property {string} issue
 * @property {string} [bench]
 * @property {string} [subject]
 * @property {string} [peer]
 * @property {'throughput' | 'p99Ms' | 'rssMiB' | 'kibPerTunnel'} [metric]
 * @property {number} [min]
 * @property {number} [max]
 * @property {'il-vs-naive' | 'il-vs-tcp' | 'hop-latency'} [socket]
 */

/** @type {Target[]} */
export const TARGETS = [
  { issue: '#2', text: '@il/core pair ≥ 1.3× naive Duplex pair, bulk (every write size)', socket: 'il-vs-naive', min: 1.3 },
  { issue: '#2', text: '@il/core pair ≥ 2× loopback TCP pair, bulk (every write size)', socket: 'il-vs-tcp', min: 2 },
  { issue: '#2', text: '< 20 µs median added latency per internal hop', socket: 'hop-latency', max: 20 },
  {
    issue: '#2',
    text: 'an internal hop costs ≤ 5% of a TCP proxy (measured in a Node pipe() proxy until TcpProxy serves)',
    bench: 'socket-hop',
    subject: 'node-pipe-il-hop',
    peer: 'node-pipe',
    min: 0.95,
  },
  { issue: '#4, #8', text: 'il-proxy TcpProxy ≥ 1.0× HAProxy mode tcp (defaults)', bench: 'tcp', subject: 'il-tcp', peer: 'haproxy-tcp', min: 1 },
  { issue: '#8', text: 'stretch: il-proxy TcpProxy ≥ 1.0× HAProxy tune.bufsize 131072', bench: 'tcp', subject: 'il-tcp', peer: 'haproxy-tcp-128k', min: 1 },
  { issue: '#4', text: 'il-proxy TcpProxy peak RSS under load ≤ 90 MiB', bench: 'tcp', subject: 'il-tcp', metric: 'rssMiB', max: 90 },
  { issue: '#4, #8', text: 'internal-listener chain ≥ 0.95× il-proxy TcpProxy', bench: 'internal', subject: 'il-internal', peer: 'il-tcp', min: 0.95 },
  { issue: '#6, #8', text: 'HTTP/2 CONNECT tunnel ≥ 0.8× il-proxy TcpProxy', bench: 'tunnel', subject: 'il-tunnel', peer: 'il-tcp', min: 0.8 },
  { issue: '#6', text: 'seed tunnel ≥ 10,000 req/s at 50 connections', bench: 'seed', subject: 'il-seed', metric: 'throughput', min: 10_000 },
  { issue: '#6', text: 'seed tunnel p99 < 20 ms at 50 connections', bench: 'seed', subject: 'il-seed', metric: 'p99Ms', max: 20 },
  { issue: '#8', text: '10,000 idle tunnels: RSS growth < 20 KiB per tunnel', bench: 'idle', subject: 'il-tunnel', metric: 'kibPerTunnel', max: 20 },
  { issue: '#5, #8', text: 'HTTP/1.1 routing ≥ 1.2× minimal undici proxy', bench: 'http1', subject: 'il-hcm', peer: 'undici-proxy', min: 1.2 },
  { issue: '#5, #8', text: 'HTTP/1.1 routing ≥ 0.6× HAProxy mode http', bench: 'http1', subject: 'il-hcm', peer: 'haproxy-http', min: 0.6 },
  { issue: '#5, #8', text: 'HTTP/2 ≥ 0.8× nghttpx', bench: 'http2', subject: 'il-hcm', peer: 'nghttpx', min: 0.8 },
  { issue: '#14', text: 'TLS TcpProxy (TLS both sides) ≥ 1.0× HAProxy TLS', bench: 'tls-tcp', subject: 'il-tls-tcp', peer: 'haproxy-tls-tcp', min: 1 },
  { issue: '#14', text: 'new TLS handshakes/s ≥ 0.8× nginx', bench: 'tls-handshakes', subject: 'il-tls-hcm', peer: 'nginx-tls', min: 0.8 },
  { issue: '#14', text: 'HBONE pair (mTLS HTTP/2 CONNECT) ≥ 0.8× the plaintext HTTP/2 CONNECT tunnel', bench: 'hbone', subject: 'il-hbone', peer: 'il-tunnel', min: 0.8 },
];
