// The subjects: every proxy (and the no-proxy "direct" ceiling) the benches compare. A subject
// knows which backend it needs, how to start itself on free ports, and why it cannot run on this
// machine (a missing program), nothing more: the section runner measures and stops it.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCerts } from './certs.mjs';
import * as configs from './configs.mjs';
import { freePort, startProcess, waitForPort } from './proc.mjs';

export const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const IL_PROXY = join(ROOT, 'apps/proxy/dist/main.js');
/** The il-proxy command users run: sets glibc's malloc trim threshold, then execs node on IL_PROXY. */
export const IL_PROXY_LAUNCHER = join(ROOT, 'apps/proxy/bin/il-proxy');
const SERVERS = join(ROOT, 'bench/servers');

/** @typedef {import('./proc.mjs').Proc} Proc */
/** @typedef {'iperf3' | 'echo' | 'http' | 'tls' | 'none'} BackendKind */
/**
 * @typedef {'tcp' | 'http' | 'tls' | 'none'} BackendNeed  'tcp': iperf3, echo or the HTTP backend, as
 *   the bench says; 'tls': the TLS sink (bench/servers/tls-sink.mjs)
 */

/**
 * What a subject gets to start itself with, and where it leaves what it started.
 * @typedef {object} StartContext
 * @property {string} dir                 scratch directory of this measurement
 * @property {number} backendPort         iperf3 / echo / HTTP/1.1 backend (0 if none)
 * @property {number} backendH2Port       h2c port of the HTTP backend (0 if none)
 * @property {Proc[]} procs               every process started for this measurement (subject's)
 * @property {string[]} commands          their command lines, for BENCHMARKS.md
 * @property {{name: string, text: string}[]} files  generated config files, for BENCHMARKS.md
 */

/**
 * @typedef {object} Subject
 * @property {string} id
 * @property {string} label
 * @property {BackendNeed} backend
 * @property {boolean} [il]                     an il-proxy subject ("unavailable" until it serves)
 * @property {() => string | undefined} [missing]  why it cannot run here, if it cannot
 * @property {(ctx: StartContext) => Promise<number>} start  starts it; resolves its listening port
 */

/** Writes a config file into the measurement's directory and remembers it for the report. */
function writeConfig(/** @type {StartContext} */ ctx, /** @type {string} */ name, /** @type {string} */ text) {
  const file = join(ctx.dir, name);
  writeFileSync(file, text);
  ctx.files.push({ name, text });
  return file;
}

/**
 * Starts one process of a subject and waits until it listens on `port`.
 * @param {StartContext} ctx @param {string} name @param {string} cmd @param {string[]} args
 * @param {number} port @param {number} [timeoutMs]
 */
async function launch(ctx, name, cmd, args, port, timeoutMs = 5000) {
  const proc = startProcess(name, cmd, args, { cwd: ROOT });
  ctx.procs.push(proc);
  ctx.commands.push([cmd, ...args].map((a) => (/[\s;'"]/.test(a) ? `'${a}'` : a)).join(' '));
  await waitForPort(port, { proc, timeoutMs });
}

/** @param {string} bin */
function findProgram(bin) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin'])) {
    if (dir && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return undefined;
}

/** @param {string} bin @param {string} pkg */
const needs = (bin, pkg) => () => (findProgram(bin) ? undefined : `${bin} not installed (apt-get install ${pkg})`);
const ilBuilt = () => (existsSync(IL_PROXY) ? undefined : `${IL_PROXY} not built (pnpm build)`);

/** il-proxy on one generated config. */
async function launchIl(/** @type {StartContext} */ ctx, /** @type {string} */ name, /** @type {string} */ yaml, /** @type {number} */ port) {
  const file = writeConfig(ctx, `${name}.yaml`, yaml);
  await launch(ctx, name, IL_PROXY_LAUNCHER, ['-c', file], port, 8000);
}

async function launchHaproxy(/** @type {StartContext} */ ctx, /** @type {Parameters<typeof configs.haproxyConfig>[0]} */ o, name = 'haproxy') {
  const file = writeConfig(ctx, `${name}.cfg`, configs.haproxyConfig(o));
  // -db: stay in the foreground, so the PID we hold is HAProxy's own.
  await launch(ctx, name, /** @type {string} */ (findProgram('haproxy')), ['-db', '-f', file], o.port);
}

async function launchHaproxyTls(/** @type {StartContext} */ ctx, /** @type {Omit<Parameters<typeof configs.haproxyTlsConfig>[0], 'certs'>} */ o) {
  const file = writeConfig(ctx, 'haproxy.cfg', configs.haproxyTlsConfig({ ...o, certs: benchCerts() }));
  await launch(ctx, 'haproxy', /** @type {string} */ (findProgram('haproxy')), ['-db', '-f', file], o.port);
}

/**
 * examples/hbone's server-side and client-side il-proxy on free ports (the app's backend is the
 * run's), each config passed through `transform` first; resolves the client's port.
 */
async function launchHbonePair(/** @type {StartContext} */ ctx, /** @type {string} */ name, /** @type {(text: string) => string} */ transform) {
  const port = await freePort();
  const connect = await freePort();
  const ports = new Map([
    [15001, port],
    [15008, connect],
    [15000, await freePort()],
    [15020, await freePort()],
    [8080, ctx.backendPort],
  ]);
  const { client, server } = configs.hboneConfigs({ certDir: benchCerts().dir, ports });
  await launchIl(ctx, `${name}-server`, transform(server), connect);
  await launchIl(ctx, `${name}-client`, transform(client), port);
  return port;
}

/** What the TLS subjects need on top of their program: openssl, to make the bench certificates. */
const tlsNeeds = (/** @type {() => string | undefined} */ other) => () => needs('openssl', 'openssl')() ?? other();

async function launchNginx(/** @type {StartContext} */ ctx, /** @type {string} */ text, /** @type {number} */ port) {
  const file = writeConfig(ctx, 'nginx.conf', text);
  // -e: the early error log, before the config is read, also goes to the scratch directory.
  await launch(ctx, 'nginx', /** @type {string} */ (findProgram('nginx')), ['-p', ctx.dir, '-e', join(ctx.dir, 'error.log'), '-c', file], port);
}

/** @type {Subject[]} */
export const SUBJECTS = [
  // ------------------------------------------------------------------ raw TCP (iperf3 or echo backend)
  { id: 'direct', label: 'direct (no proxy)', backend: 'tcp', start: async (ctx) => ctx.backendPort },
  {
    id: 'haproxy-tcp',
    label: 'HAProxy mode tcp (defaults)',
    backend: 'tcp',
    missing: needs('haproxy', 'haproxy'),
    start: async (ctx) => {
      const port = await freePort();
      await launchHaproxy(ctx, { port, backendPort: ctx.backendPort, mode: 'tcp' });
      return port;
    },
  },
  {
    id: 'haproxy-tcp-128k',
    label: 'HAProxy mode tcp, tune.bufsize 131072',
    backend: 'tcp',
    missing: needs('haproxy', 'haproxy'),
    start: async (ctx) => {
      const port = await freePort();
      await launchHaproxy(ctx, { port, backendPort: ctx.backendPort, mode: 'tcp', bufsize: 131072 });
      return port;
    },
  },
  {
    id: 'nginx-stream',
    label: 'nginx stream',
    backend: 'tcp',
    missing: () =>
      needs('nginx', 'nginx-light')() ??
      (existsSync(configs.NGINX_STREAM_MODULE) ? undefined : 'nginx stream module not installed (apt-get install libnginx-mod-stream)'),
    start: async (ctx) => {
      const port = await freePort();
      await launchNginx(ctx, configs.nginxStreamConfig({ dir: ctx.dir, port, backendPort: ctx.backendPort }), port);
      return port;
    },
  },
  {
    id: 'socat',
    label: 'socat (fork per connection)',
    backend: 'tcp',
    missing: needs('socat', 'socat'),
    start: async (ctx) => {
      const port = await freePort();
      await launch(ctx, 'socat', 'socat', [`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `TCP:127.0.0.1:${ctx.backendPort}`], port);
      return port;
    },
  },
  ...['none', 'naive', 'il'].map(
    (hop) =>
      /** @type {Subject} */ ({
        id: hop === 'none' ? 'node-pipe' : `node-pipe-${hop}-hop`,
        label: { none: 'Node pipe() proxy', naive: 'Node pipe() + naive in-memory hop', il: 'Node pipe() + @il/core internal hop' }[hop],
        backend: 'tcp',
        start: async (ctx) => {
          const port = await freePort();
          await launch(ctx, 'node-pipe', process.execPath, [join(SERVERS, 'pipe-proxy.mjs'), String(port), String(ctx.backendPort), hop], port);
          return port;
        },
      }),
  ),
  {
    id: 'il-tcp',
    label: 'il-proxy TcpProxy',
    backend: 'tcp',
    il: true,
    missing: ilBuilt,
    start: async (ctx) => {
      const port = await freePort();
      await launchIl(ctx, 'il-tcp', configs.ilTcpProxyConfig({ port, backendPort: ctx.backendPort }), port);
      return port;
    },
  },
  {
    id: 'il-internal',
    label: 'il-proxy TcpProxy → internal listener → TcpProxy',
    backend: 'tcp',
    il: true,
    missing: ilBuilt,
    start: async (ctx) => {
      const port = await freePort();
      await launchIl(ctx, 'il-internal', configs.ilInternalChainConfig({ port, backendPort: ctx.backendPort }), port);
      return port;
    },
  },
  {
    id: 'il-tunnel',
    label: 'il-proxy encap → HTTP/2 CONNECT → decap (2 processes)',
    backend: 'tcp',
    il: true,
    missing: ilBuilt,
    start: async (ctx) => {
      const port = await freePort();
      const decapPort = await freePort();
      await launchIl(ctx, 'il-tunnel-decap', configs.ilTunnelDecapConfig({ decapPort, backendPort: ctx.backendPort }), decapPort);
      await launchIl(ctx, 'il-tunnel-encap', configs.ilTunnelEncapConfig({ port, decapPort }), port);
      return port;
    },
  },

  // The tunnel's yardsticks: what a second process costs without HTTP/2, and a bare Node tunnel.
  {
    id: 'haproxy-tcp-2proc',
    label: 'HAProxy → HAProxy mode tcp (2 processes, no HTTP/2)',
    backend: 'tcp',
    missing: needs('haproxy', 'haproxy'),
    start: async (ctx) => {
      const port = await freePort();
      const innerPort = await freePort();
      await launchHaproxy(ctx, { port: innerPort, backendPort: ctx.backendPort, mode: 'tcp' }, 'haproxy-inner');
      await launchHaproxy(ctx, { port, backendPort: innerPort, mode: 'tcp' }, 'haproxy-outer');
      return port;
    },
  },
  {
    id: 'il-tcp-2proc',
    label: 'il-proxy TcpProxy → TcpProxy (2 processes, no HTTP/2)',
    backend: 'tcp',
    il: true,
    missing: ilBuilt,
    start: async (ctx) => {
      const port = await freePort();
      const innerPort = await freePort();
      await launchIl(ctx, 'il-tcp-inner', configs.ilTcpProxyConfig({ port: innerPort, backendPort: ctx.backendPort }), innerPort);
      await launchIl(ctx, 'il-tcp-outer', configs.ilTcpProxyConfig({ port, backendPort: innerPort }), port);
      return port;
    },
  },
  {
    id: 'node-h2-tunnel',
    label: 'bare Node HTTP/2 CONNECT tunnel (2 processes)',
    backend: 'tcp',
    start: async (ctx) => {
      const port = await freePort();
      const decapPort = await freePort();
      const script = join(SERVERS, 'h2-tunnel.mjs');
      await launch(ctx, 'node-h2-decap', process.execPath, [script, 'decap', String(decapPort), String(ctx.backendPort)], decapPort);
      await launch(ctx, 'node-h2-encap', process.execPath, [script, 'encap', String(port), String(decapPort)], port);
      return port;
    },
  },

  {
    id: 'node-h2-tunnel-mtls',
    label: 'bare Node HTTP/2 CONNECT tunnel over mTLS 1.3 (2 processes)',
    backend: 'tcp',
    missing: needs('openssl', 'openssl'),
    start: async (ctx) => {
      const port = await freePort();
      const decapPort = await freePort();
      const script = join(SERVERS, 'h2-tunnel.mjs');
      const certs = benchCerts().dir;
      await launch(ctx, 'node-h2-decap-mtls', process.execPath, [script, 'decap', String(decapPort), String(ctx.backendPort), certs], decapPort);
      await launch(ctx, 'node-h2-encap-mtls', process.execPath, [script, 'encap', String(port), String(decapPort), certs], port);
      return port;
    },
  },

  // ------------------------------------------------------------------ HTTP (nginx backend)
  { id: 'direct-http', label: 'direct (nginx backend, 1 worker)', backend: 'http', start: async (ctx) => ctx.backendPort },
  {
    id: 'direct-node',
    label: 'direct (Node http server)',
    backend: 'none',
    start: async (ctx) => {
      const port = await freePort();
      await launch(ctx, 'node-http', process.execPath, [join(SERVERS, 'http-backend.mjs'), String(port)], port);
      return port;
    },
  },
  {
    id: 'haproxy-http',
    label: 'HAProxy mode http (defaults)',
    backend: 'http',
    missing: needs('haproxy', 'haproxy'),
    start: async (ctx) => {
      const port = await freePort();
      await launchHaproxy(ctx, { port, backendPort: ctx.backendPort, mode: 'http' });
      return port;
    },
  },
  {
    id: 'nginx-http',
    label: 'nginx http (upstream keepalive)',
    backend: 'http',
    missing: needs('nginx', 'nginx-light'),
    start: async (ctx) => {
      const port = await freePort();
      await launchNginx(ctx, configs.nginxHttpConfig({ dir: ctx.dir, port, backendPort: ctx.backendPort }), port);
      return port;
    },
  },
  {
    id: 'undici-proxy',
    label: 'minimal undici reverse proxy',
    backend: 'http',
    start: async (ctx) => {
      const port = await freePort();
      await launch(ctx, 'undici-proxy', process.execPath, [join(SERVERS, 'undici-proxy.mjs'), String(port), String(ctx.backendPort)], port);
      return port;
    },
  },
  {
    id: 'il-hcm',
    label: 'il-proxy HCM routing',
    backend: 'http',
    il: true,
    missing: ilBuilt,
    start: async (ctx) => {
      const port = await freePort();
      await launchIl(ctx, 'il-hcm', configs.ilHcmConfig({ port, backendPort: ctx.backendPort }), port);
      return port;
    },
  },

  // h2c with prior knowledge: the same backend's HTTP/2 port, and proxies with an h2c frontend
  { id: 'direct-h2', label: 'direct (nginx backend, h2c)', backend: 'http', start: async (ctx) => ctx.backendH2Port },
  {
    id: 'nghttpx',
    label: 'nghttpx (defaults, 1 worker)',
    backend: 'http',
    missing: needs('nghttpx', 'nghttp2-proxy'),
    start: async (ctx) => {
      const port = await freePort();
      // An empty --conf keeps /etc/nghttpx/nghttpx.conf (if any) out of the measurement.
      const conf = writeConfig(ctx, 'nghttpx.conf', '');
      await launch(
        ctx,
        'nghttpx',
        /** @type {string} */ (findProgram('nghttpx')),
        [`--conf=${conf}`, `--frontend=127.0.0.1,${port};no-tls`, `--backend=127.0.0.1,${ctx.backendPort}`, `--errorlog-file=${join(ctx.dir, 'nghttpx.log')}`],
        port,
      );
      return port;
    },
  },
  {
    id: 'haproxy-h2',
    label: 'HAProxy mode http, bind proto h2',
    backend: 'http',
    missing: needs('haproxy', 'haproxy'),
    start: async (ctx) => {
      const port = await freePort();
      await launchHaproxy(ctx, { port, backendPort: ctx.backendPort, mode: 'http', h2: true });
      return port;
    },
  },
  {
    id: 'nginx-h2',
    label: 'nginx http2 (upstream keepalive)',
    backend: 'http',
    missing: needs('nginx', 'nginx-light'),
    start: async (ctx) => {
      const port = await freePort();
      await launchNginx(ctx, configs.nginxHttpConfig({ dir: ctx.dir, port, backendPort: ctx.backendPort, h2: true }), port);
      return port;
    },
  },

  // ------------------------------------------------------------------ TLS (issue #14; TLS sink backend)
  // TLS on both sides of a TCP proxy: the client's leg and the leg to the sink are TLS 1.3,
  // TLS_AES_128_GCM_SHA256 (the only cipher the load and the sink offer), the same certificate.
  { id: 'direct-tls', label: 'direct TLS (no proxy)', backend: 'tls', missing: needs('openssl', 'openssl'), start: async (ctx) => ctx.backendPort },
  {
    id: 'haproxy-tls-tcp',
    label: 'HAProxy mode tcp, ssl both sides (defaults)',
    backend: 'tls',
    missing: tlsNeeds(needs('haproxy', 'haproxy')),
    start: async (ctx) => {
      const port = await freePort();
      await launchHaproxyTls(ctx, { port, backendPort: ctx.backendPort, mode: 'tcp' });
      return port;
    },
  },
  {
    id: 'haproxy-tls-tcp-128k',
    label: 'HAProxy mode tcp, ssl both sides, tune.bufsize 131072',
    backend: 'tls',
    missing: tlsNeeds(needs('haproxy', 'haproxy')),
    start: async (ctx) => {
      const port = await freePort();
      await launchHaproxyTls(ctx, { port, backendPort: ctx.backendPort, mode: 'tcp', bufsize: 131072 });
      return port;
    },
  },
  {
    id: 'node-tls-relay',
    label: 'bare Node TLS-to-TLS pipe() relay',
    backend: 'tls',
    missing: needs('openssl', 'openssl'),
    start: async (ctx) => {
      const port = await freePort();
      await launch(ctx, 'node-tls-relay', process.execPath, [join(SERVERS, 'tls-relay.mjs'), String(port), String(ctx.backendPort), benchCerts().dir], port);
      return port;
    },
  },
  {
    id: 'il-tls-tcp',
    label: 'il-proxy TcpProxy, TLS both sides',
    backend: 'tls',
    il: true,
    missing: tlsNeeds(ilBuilt),
    start: async (ctx) => {
      const port = await freePort();
      await launchIl(ctx, 'il-tls-tcp', configs.ilTlsTcpProxyConfig({ port, backendPort: ctx.backendPort, certs: benchCerts() }), port);
      return port;
    },
  },

  // TLS terminators answering 200 themselves: the handshake bench (no backend).
  {
    id: 'nginx-tls',
    label: 'nginx https (return 200)',
    backend: 'none',
    missing: tlsNeeds(needs('nginx', 'nginx-light')),
    start: async (ctx) => {
      const port = await freePort();
      await launchNginx(ctx, configs.nginxTlsConfig({ dir: ctx.dir, port, certs: benchCerts() }), port);
      return port;
    },
  },
  {
    id: 'haproxy-tls-http',
    label: 'HAProxy mode http, bind ssl (http-request return)',
    backend: 'none',
    missing: tlsNeeds(needs('haproxy', 'haproxy')),
    start: async (ctx) => {
      const port = await freePort();
      await launchHaproxyTls(ctx, { port, mode: 'http' });
      return port;
    },
  },
  {
    id: 'node-tls-server',
    label: 'bare Node tls.Server',
    backend: 'none',
    missing: needs('openssl', 'openssl'),
    start: async (ctx) => {
      const port = await freePort();
      await launch(ctx, 'node-tls-server', process.execPath, [join(SERVERS, 'tls-sink.mjs'), String(port), benchCerts().dir], port);
      return port;
    },
  },
  {
    id: 'il-tls-hcm',
    label: 'il-proxy HCM direct_response, TLS listener',
    backend: 'none',
    il: true,
    missing: tlsNeeds(ilBuilt),
    start: async (ctx) => {
      const port = await freePort();
      await launchIl(ctx, 'il-tls-hcm', configs.ilTlsHcmConfig({ port, certs: benchCerts() }), port);
      return port;
    },
  },

  // examples/hbone: client-side and server-side il-proxy, HTTP/2 CONNECT over mTLS (TLS 1.3, ALPN
  // h2, SPIFFE SANs checked both ways), the example's configs with their ports remapped.
  {
    id: 'il-hbone',
    label: 'il-proxy HBONE pair (examples/hbone: mTLS HTTP/2 CONNECT, 2 processes)',
    backend: 'tcp',
    il: true,
    missing: tlsNeeds(ilBuilt),
    start: (ctx) => launchHbonePair(ctx, 'il-hbone', (text) => text),
  },

  // The same pair with its transport sockets taken out: what the layout (two internal hops) costs
  // apart from TLS.
  {
    id: 'il-hbone-plaintext',
    label: 'il-proxy HBONE pair without TLS (same layout, plaintext HTTP/2 CONNECT)',
    backend: 'tcp',
    il: true,
    missing: tlsNeeds(ilBuilt),
    start: (ctx) => launchHbonePair(ctx, 'il-hbone-plain', configs.withoutTransportSockets),
  },

  // ------------------------------------------------------------------ the seed's whole tunnel
  {
    id: 'il-seed',
    label: 'il-proxy HCM → internal → HTTP/2 CONNECT → HCM → internal → direct_response',
    backend: 'none',
    il: true,
    missing: ilBuilt,
    start: async (ctx) => {
      const port = await freePort();
      const decapPort = await freePort();
      await launchIl(ctx, 'il-seed-decap', configs.ilSeedDecapConfig({ decapPort }), decapPort);
      await launchIl(ctx, 'il-seed-encap', configs.ilSeedEncapConfig({ port, decapPort }), port);
      return port;
    },
  },
];

/** @param {string} id */
export function subject(id) {
  const s = SUBJECTS.find((x) => x.id === id);
  if (!s) throw new Error(`unknown subject ${id}`);
  return s;
}

/**
 * Starts the backend a subject needs, into its own context (its CPU is not the subject's); fills
 * in `ctx.backendPort` (and `backendH2Port`). Whatever it started is in `ctx.procs`, also when it fails.
 * @param {BackendKind} kind
 * @param {StartContext} ctx
 */
export async function startBackend(kind, ctx) {
  if (kind === 'iperf3') {
    ctx.backendPort = await freePort();
    await launch(ctx, 'iperf3-server', 'iperf3', ['-s', '-B', '127.0.0.1', '-p', String(ctx.backendPort)], ctx.backendPort);
  } else if (kind === 'echo') {
    ctx.backendPort = await freePort();
    await launch(ctx, 'echo', process.execPath, [join(SERVERS, 'echo.mjs'), String(ctx.backendPort)], ctx.backendPort);
  } else if (kind === 'tls') {
    ctx.backendPort = await freePort();
    await launch(ctx, 'tls-sink', process.execPath, [join(SERVERS, 'tls-sink.mjs'), String(ctx.backendPort), benchCerts().dir], ctx.backendPort);
  } else if (kind === 'http') {
    ctx.backendPort = await freePort();
    ctx.backendH2Port = await freePort();
    const text = configs.nginxBackendConfig({ dir: ctx.dir, port: ctx.backendPort, h2Port: ctx.backendH2Port });
    const file = writeConfig(ctx, 'nginx.conf', text);
    await launch(ctx, 'nginx-backend', /** @type {string} */ (findProgram('nginx')), ['-p', ctx.dir, '-e', join(ctx.dir, 'error.log'), '-c', file], ctx.backendH2Port);
    await waitForPort(ctx.backendPort, { timeoutMs: 2000 });
  }
}
