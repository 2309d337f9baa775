// Envoy's test/integration/tcp_tunneling_integration_test.cc, ConnectTerminationIntegrationTest
// and ProxyingConnectIntegrationTest (envoy-behavior.md §7.7), each case named after Envoy's test
// and run over the downstream protocols Envoy runs it with. The upstream is a raw TCP server
// (termination) or an HTTP/1.1 / HTTP/2 server (proxying).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, http2Backend, startProxy, tcpUpstream, waitFor, within, type RunningProxy } from './hcm-harness.js';
import { collector, h1Tunnel, h2Tunnel, h2TunnelOn, tunnel, type Downstream } from './hcm-tunnel-clients.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const LOG_FORMAT = '%BYTES_RECEIVED% %BYTES_SENT% %UPSTREAM_HEADER_BYTES_SENT% %UPSTREAM_HEADER_BYTES_RECEIVED% %RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(:AUTHORITY)% %PROTOCOL%\\n';

interface ConnectConfig {
  upstreamPort: number;
  codec?: 'AUTO' | 'HTTP1' | 'HTTP2';
  domains?: string;
  match?: string;
  /** The route's CONNECT upgrade: `connect_config: {}` for termination, '' for proxying. */
  connectConfig?: string;
  hcmExtra?: string;
  clusterExtra?: string;
  logPath?: string;
}

/** ConfigHelper::setConnectConfig: CONNECT enabled on the HCM and on a connect_matcher route to cluster_0. */
function connectConfig(options: ConnectConfig): string {
  const log =
    options.logPath === undefined
      ? ''
      : `
          access_log:
          - name: log
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ${options.logPath}
              log_format: { text_format_source: { inline_string: "${LOG_FORMAT}" } }`;
  return `
static_resources:
  listeners:
  - name: http
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: config_test
          codec_type: ${options.codec ?? 'AUTO'}
          http2_protocol_options: { allow_connect: true }
          upgrade_configs: [ { upgrade_type: CONNECT } ]${options.hcmExtra ?? ''}${log}
          route_config:
            name: route
            virtual_hosts:
            - name: vh
              domains: [${options.domains ?? '"*"'}]
              routes:
              - match: ${options.match ?? '{ connect_matcher: {} }'}
                route:
                  cluster: cluster_0
                  upgrade_configs:
                  - upgrade_type: CONNECT${options.connectConfig === '' ? '' : `\n                    connect_config: ${options.connectConfig ?? '{}'}`}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: cluster_0${options.clusterExtra ?? ''}
    load_assignment:
      cluster_name: cluster_0
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${options.upstreamPort} } } } } ] } ]
`;
}

async function setUp(options: Omit<ConnectConfig, 'upstreamPort'> = {}): Promise<{ proxy: RunningProxy; port: number; upstream: Awaited<ReturnType<typeof tcpUpstream>> }> {
  const upstream = await tcpUpstream();
  cleanups.push(upstream.close);
  const proxy = await startProxy(connectConfig({ ...options, upstreamPort: upstream.port }), { remap: false });
  cleanups.push(() => proxy.close());
  return { proxy, port: proxy.listenerPort('http'), upstream };
}

function logDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'il-connect-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Envoy's sendBidirectionalData: downstream → upstream, then upstream → downstream. */
async function bidirectional(client: { write(d: string): void; waitForData(t: string): Promise<void> }, upstream: net.Socket, up: ReturnType<typeof collector>, send: string, expectUp: string, reply: string, expectDown: string): Promise<void> {
  client.write(send);
  await up.waitFor(expectUp);
  expect(up.text()).toBe(expectUp);
  upstream.write(reply);
  await client.waitForData(expectDown);
}

/** A chunked HTTP/1.1 POST whose bodies carry the tunnel (what Envoy's HTTP/1 codec client sends). */
async function h1PostTunnel(port: number): Promise<{ status: number; write(d: string): void; waitForData(t: string): Promise<void> }> {
  const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { host: 'foo.lyft.com:80', 'transfer-encoding': 'chunked' }, agent: false });
  request.on('error', () => undefined);
  request.flushHeaders();
  cleanups.push(() => void request.destroy());
  const response = await within(new Promise<http.IncomingMessage>((resolve) => request.once('response', resolve)), 5000, 'the POST response');
  let received = '';
  response.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  return {
    status: response.statusCode ?? 0,
    write: (data) => void request.write(data),
    waitForData: (text) => waitFor(() => received.includes(text), 5000, `'${text}' through the POST tunnel`),
  };
}

describe.each<Downstream>(['HTTP1', 'HTTP2'])('ConnectTerminationIntegrationTest (%s downstream)', (downstream) => {
  it('Basic', async () => {
    const dir = logDir();
    const { proxy, port, upstream } = await setUp({ logPath: join(dir, 'access.log') });
    const client = await tunnel(downstream, port);
    expect(client.status).toBe(200);
    if (downstream === 'HTTP1') {
      expect(client.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(client.head.toLowerCase()).not.toMatch(/content-length|transfer-encoding/);
    }
    const socket = await upstream.next();
    const up = collector(socket);
    await bidirectional(client, socket, up, 'hello', 'hello', 'there!', 'there!');
    // A second round: the request headers were sent (to nobody) once, payload flows on.
    await bidirectional(client, socket, up, ',bye', 'hello,bye', 'ack', 'there!ack');
    // END_STREAM downstream → FIN upstream.
    client.end();
    await within(up.ended, 5000, 'the upstream half-close');
    // FIN upstream → a clean end downstream (HTTP/1.1: the connection closes).
    socket.end();
    expect(await within(client.ended, 5000, 'the downstream end')).toBe(downstream === 'HTTP1' ? 'disconnect' : 'end');
    expect(client.received().toString()).toBe('there!ack');
    await proxy.close();
    // An HTTP/1.1 client's FIN is its connection closing (DC); HTTP/2 ended the stream cleanly.
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toBe(downstream === 'HTTP1' ? '9 9 0 0 200 DC foo.lyft.com:80 HTTP/1.1\n' : '9 9 0 0 200 - foo.lyft.com:80 HTTP/2\n');
    expect(proxy.stat('http.config_test.downstream_cx_upgrades_total')).toBe(1);
    expect(proxy.stat('http.config_test.downstream_cx_upgrades_active')).toBe(0);
    expect(proxy.stat('cluster.cluster_0.upstream_rq_total')).toBe(1);
    expect(proxy.stat('cluster.cluster_0.upstream_rq_active')).toBe(0);
  });

  it('UsingHostMatch', async () => {
    const { port, upstream } = await setUp({ domains: '"foo.lyft.com:80"' });
    const client = await tunnel(downstream, port);
    expect(client.status).toBe(200);
    const socket = await upstream.next();
    const up = collector(socket);
    await bidirectional(client, socket, up, 'hello', 'hello', 'there!', 'there!');
    // Another authority has no virtual host: 404.
    const other = downstream === 'HTTP1' ? await h1Tunnel(port, 'CONNECT bar.lyft.com:80 HTTP/1.1\r\nHost: foo.lyft.com:80\r\n\r\n') : await h2Tunnel(port, { ':method': 'CONNECT', ':authority': 'bar.lyft.com:80' });
    expect(other.status).toBe(404);
  });

  it('a CONNECT whose target is not host:port is a 400 (http.invalid_authority), and no upstream is dialled', async () => {
    const { proxy, port, upstream } = await setUp();
    for (const target of ['foo.lyft.com', 'foo.lyft.com:0', 'foo.lyft.com:99999', '[::1]']) {
      const client = await tunnel(downstream, port, { authority: target });
      expect(client.status, target).toBe(400);
    }
    expect(upstream.sockets.length).toBe(0);
    expect(proxy.stat('http.config_test.downstream_rq_4xx')).toBe(4);
    // IPv6 in brackets with a port is fine.
    const ok = await tunnel(downstream, port, { authority: '[::1]:80' });
    expect(ok.status).toBe(200);
  });

  it('DownstreamClose', async () => {
    const dir = logDir();
    const { proxy, port, upstream } = await setUp({ logPath: join(dir, 'access.log') });
    const client = await tunnel(downstream, port);
    const socket = await upstream.next();
    const up = collector(socket);
    await bidirectional(client, socket, up, 'hello', 'hello', 'there!', 'there!');
    // Tear down by closing the client connection: the upstream sees the connection close.
    client.close();
    await within(up.ended, 5000, 'the upstream half-close');
    await proxy.close();
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toMatch(/^5 6 0 0 200 DC foo\.lyft\.com:80 /);
  });

  it('UpstreamClose', async () => {
    const { proxy, port, upstream } = await setUp();
    const client = await tunnel(downstream, port);
    const socket = await upstream.next();
    const up = collector(socket);
    await bidirectional(client, socket, up, 'hello', 'hello', 'there!', 'there!');
    // The upstream closes first: HTTP/2 → the stream is reset; HTTP/1.1 → the connection closes.
    socket.end();
    expect(await within(client.ended, 5000, 'the downstream teardown')).toBe(downstream === 'HTTP1' ? 'disconnect' : 'reset');
    await waitFor(() => proxy.stat('http.config_test.downstream_rq_active') === 0);
  });

  it('TestTimeout', async () => {
    const { proxy, port, upstream } = await setUp({ hcmExtra: '\n          stream_idle_timeout: 0.2s' });
    const client = await tunnel(downstream, port);
    const socket = await upstream.next();
    const up = collector(socket);
    // Nothing flows: after 200 ms the stream is reset downstream and closed upstream.
    expect(await within(client.ended, 5000, 'the idle timeout')).toBe(downstream === 'HTTP1' ? 'disconnect' : 'reset');
    await within(up.ended, 5000, 'the upstream half-close');
    expect(proxy.stat('http.config_test.downstream_rq_idle_timeout')).toBe(1);
  });

  it('BasicAllowPost', async () => {
    const { port, upstream } = await setUp({
      match: '{ prefix: "/", headers: [ { name: ":method", string_match: { exact: POST } } ] }',
      connectConfig: '{ allow_post: true }',
    });
    // Over HTTP/1.1 the POST body and the response are chunked: the tunnel is the message bodies.
    const client =
      downstream === 'HTTP1'
        ? await h1PostTunnel(port)
        : await h2Tunnel(port, { ':method': 'POST', ':path': '/', ':scheme': 'https', ':authority': 'foo.lyft.com:80' });
    expect(client.status).toBe(200);
    const socket = await upstream.next();
    const up = collector(socket);
    await bidirectional(client, socket, up, 'hello', 'hello', 'there!', 'there!');
    await bidirectional(client, socket, up, ',bye', 'hello,bye', 'ack', 'there!ack');
  });
});

describe.each<Downstream>(['HTTP1', 'HTTP2'])('CONNECT termination failures (%s downstream)', (downstream) => {
  it('an upstream that refuses the connection: 503 before any 200, with the connect failure text (UF)', async () => {
    const proxy = await startProxy(connectConfig({ upstreamPort: await closedPort() }), { remap: false });
    cleanups.push(() => proxy.close());
    const client = await tunnel(downstream, proxy.listenerPort('http'));
    expect(client.status).toBe(503);
    await client.waitForData('reset reason: connection failure');
    expect(client.received().toString()).toBe(
      'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111',
    );
    // HTTP/1.1: a refused CONNECT closes the connection.
    if (downstream === 'HTTP1') expect(await within(client.ended, 5000, 'the close')).toBe('disconnect');
    expect(proxy.stat('cluster.cluster_0.upstream_cx_connect_fail')).toBe(1);
    expect(proxy.stat('http.config_test.downstream_cx_upgrades_total')).toBe(0);
  });
});

describe('ConnectTerminationIntegrationTest (HTTP/2 only)', () => {
  it('ManyStreams', async () => {
    const { proxy, port, upstream } = await setUp();
    // Every upstream connection answers an HTTP/1 request sent through its tunnel.
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    cleanups.push(() => {
      session.destroy();
    });
    await within(new Promise((resolve) => session.once('remoteSettings', resolve)), 5000, 'SETTINGS');
    const clients = await Promise.all(
      Array.from({ length: 100 }, () => h2TunnelOn(session, session.request({ ':method': 'CONNECT', ':authority': 'foo.lyft.com:80' }))),
    );
    await waitFor(() => upstream.sockets.length === 100, 5000, '100 upstream connections');
    for (const socket of upstream.sockets) {
      const up = collector(socket);
      void up.waitFor('\r\n\r\n', 10_000).then(
        () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
        () => undefined,
      );
    }
    let closed = 0;
    for (const s of upstream.sockets) s.once('close', () => closed++);
    // Half of the streams are reset, the other half each carry one HTTP/1 exchange.
    clients.forEach((client, i) => {
      if (i % 2 === 0) client.reset();
      else client.write('GET / HTTP/1.1\r\nHost: foo.lyft.com\r\n\r\n');
    });
    for (const [i, client] of clients.entries()) {
      if (i % 2 === 0) continue;
      await client.waitForData('\r\n\r\nok', 10_000);
      expect(client.received().toString()).toBe('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    }
    // Fifty upstream connections were reset by the resets.
    await waitFor(() => closed >= 50, 5000, 'the reset streams to close their upstream connections');
    expect(proxy.stat('http.config_test.downstream_rq_rx_reset')).toBe(50);
    expect(proxy.stat('http.config_test.downstream_cx_total')).toBe(1);
  });

  it('DownstreamReset', async () => {
    const { port, upstream } = await setUp();
    const client = await tunnel('HTTP2', port);
    const socket = await upstream.next();
    const up = collector(socket);
    await bidirectional(client, socket, up, 'hello', 'hello', 'there!', 'there!');
    // RST_STREAM from the client resets the upstream connection: a TCP RST, not a FIN.
    client.reset();
    expect(await within(up.closedBy, 5000, 'the upstream connection to end')).toBe('reset');
  });

  // il's case, from RFC 9113 §8.5 and Envoy 1.38+: a reset crosses the terminated tunnel as a reset.
  it('UpstreamReset: a TCP RST from the upstream is RST_STREAM CONNECT_ERROR alone, with no END_STREAM before it', async () => {
    const { proxy, port, upstream } = await setUp();
    const client = await h2Tunnel(port);
    const socket = await upstream.next();
    const up = collector(socket);
    await bidirectional(client, socket, up, 'hello', 'hello', 'there!', 'there!');
    // node:http2 reports the RST_STREAM as 'aborted'; an END_STREAM ahead of it would be an 'end' first.
    let aborted = false;
    let endFirst = false;
    client.stream.once('aborted', () => (aborted = true));
    client.stream.once('end', () => (endFirst = !aborted));
    socket.resetAndDestroy();
    expect(await within(client.ended, 5000, 'the downstream stream reset')).toBe('reset');
    expect(client.stream.rstCode).toBe(http2.constants.NGHTTP2_CONNECT_ERROR);
    expect(aborted).toBe(true);
    expect(endFirst).toBe(false);
    await waitFor(() => proxy.stat('http.config_test.downstream_rq_active') === 0);
  });

  it('BuggyHeaders', async () => {
    const { port, upstream } = await setUp();
    // A header-only extended CONNECT: a half close at once, then the upstream FIN ends the stream cleanly.
    const client = h2Tunnel(port, { ':method': 'CONNECT', ':protocol': 'bytestream', ':scheme': 'https', ':path': '/', ':authority': 'foo.lyft.com:80' }, { endStream: true });
    const socket = await upstream.next();
    const up = collector(socket);
    await within(up.ended, 5000, 'the upstream half-close');
    socket.end();
    const tunnelled = await client;
    expect(tunnelled.status).toBe(200);
    await within(
      new Promise<void>((resolve) => tunnelled.stream.once('close', () => resolve())),
      5000,
      'the stream end',
    );
    expect(tunnelled.stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(tunnelled.stream.aborted).toBe(false);
  });

  it('ExtendedConnectWithBytestreamProtocol', async () => {
    const { port, upstream } = await setUp();
    const client = await h2Tunnel(port, { ':method': 'CONNECT', ':protocol': 'bytestream', ':scheme': 'https', ':path': '/', ':authority': 'foo.lyft.com:80' });
    expect(client.status).toBe(200);
    const socket = await upstream.next();
    const up = collector(socket);
    await bidirectional(client, socket, up, 'hello', 'hello', 'there!', 'there!');
    client.end();
    await within(up.ended, 5000, 'the upstream half-close');
    socket.end();
    expect(await within(client.ended, 5000, 'the clean end')).toBe('end');
  });
});

describe('ConnectTerminationIntegrationTest (HTTP/1.1 only)', () => {
  it('DownstreamReset (HTTP/1.1): a TCP RST from the client resets the upstream connection', async () => {
    const { port, upstream } = await setUp();
    const client = await h1Tunnel(port);
    const socket = await upstream.next();
    const up = collector(socket);
    await bidirectional(client, socket, up, 'hello', 'hello', 'there!', 'there!');
    client.reset();
    expect(await within(up.closedBy, 5000, 'the upstream connection to end')).toBe('reset');
  });

  it('IgnoreH11HostField', async () => {
    const dir = logDir();
    const { proxy, port, upstream } = await setUp({ logPath: join(dir, 'access.log') });
    const client = await h1Tunnel(port, 'CONNECT www.foo.com:443 HTTP/1.1\r\nHost: www.bar.com:443\r\n\r\n');
    expect(client.status).toBe(200);
    const socket = await upstream.next();
    client.close();
    await within(new Promise((resolve) => socket.once('end', resolve)), 5000, 'the upstream half-close');
    await proxy.close();
    // The request-target is the authority; the Host header is ignored.
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toContain(' www.foo.com:443 HTTP/1.1');
  });
});

describe.each<Downstream>(['HTTP1', 'HTTP2'])('ProxyingConnectIntegrationTest (%s downstream)', (downstream) => {
  /** An HTTP/1.1 upstream that answers CONNECT with `status` and then echoes payload in upper case. */
  async function http1ConnectUpstream(status: string): Promise<{ port: number; requests: string[] }> {
    const requests: string[] = [];
    const upstream = await tcpUpstream();
    cleanups.push(upstream.close);
    void (async () => {
      for (;;) {
        const socket = await upstream.next(60_000).catch(() => undefined);
        if (socket === undefined) return;
        let head = '';
        const onData = (chunk: Buffer): void => {
          head += chunk.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          socket.off('data', onData);
          requests.push(head.slice(0, end + 4));
          socket.write(`HTTP/1.1 ${status}\r\n\r\n`);
          const rest = head.slice(end + 4);
          if (rest !== '') socket.write(rest.toUpperCase());
          socket.on('data', (more: Buffer) => socket.write(more.toString('latin1').toUpperCase()));
        };
        socket.on('data', onData);
      }
    })();
    return { port: upstream.port, requests };
  }

  it('ProxyConnect (HTTP/1.1 upstream)', async () => {
    const upstream = await http1ConnectUpstream('200 OK');
    const proxy = await startProxy(connectConfig({ upstreamPort: upstream.port, connectConfig: '' }), { remap: false });
    cleanups.push(() => proxy.close());
    const client = await tunnel(downstream, proxy.listenerPort('http'), { authority: 'host.com:80' });
    expect(client.status).toBe(200);
    await waitFor(() => upstream.requests.length === 1);
    // The CONNECT goes upstream as an HTTP/1.1 CONNECT for the same authority (no :protocol).
    expect(upstream.requests[0]).toMatch(/^CONNECT host\.com:80 HTTP\/1\.1\r\n/);
    expect(upstream.requests[0]?.toLowerCase()).toContain('host: host.com:80\r\n');
    client.write('hello');
    await client.waitForData('HELLO');
  });

  it('ProxyConnect (HTTP/2 upstream)', async () => {
    const seen: http2.IncomingHttpHeaders[] = [];
    const upstream = await http2Backend((stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200 });
      stream.on('data', (chunk: Buffer) => stream.write(chunk.toString().toUpperCase()));
    });
    cleanups.push(upstream.close);
    const proxy = await startProxy(
      connectConfig({
        upstreamPort: upstream.port,
        connectConfig: '',
        clusterExtra: `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }`,
      }),
      { remap: false },
    );
    cleanups.push(() => proxy.close());
    const client = await tunnel(downstream, proxy.listenerPort('http'), { authority: 'host.com:80' });
    expect(client.status).toBe(200);
    // Classic CONNECT upstream: no :scheme, :path or :protocol.
    expect(seen[0]?.[':method']).toBe('CONNECT');
    expect(seen[0]?.[':authority']).toBe('host.com:80');
    expect(seen[0]?.[':scheme']).toBeUndefined();
    expect(seen[0]?.[':path']).toBeUndefined();
    expect(seen[0]?.[':protocol']).toBeUndefined();
    client.write('hello');
    await client.waitForData('HELLO');
  });

  it('2xxStatusCode', async () => {
    const upstream = await http1ConnectUpstream('202 Accepted');
    const proxy = await startProxy(connectConfig({ upstreamPort: upstream.port, connectConfig: '' }), { remap: false });
    cleanups.push(() => proxy.close());
    const client = await tunnel(downstream, proxy.listenerPort('http'), { authority: 'host.com:80' });
    // Any 2xx from an HTTP/1.1 upstream establishes the tunnel and is passed through.
    expect(client.status).toBe(202);
    client.write('hello');
    await client.waitForData('HELLO');
  });
});

describe.each<Downstream>(['HTTP1', 'HTTP2'])('ProxyProtocolConnectTerminationIntegrationTest (%s downstream)', (downstream) => {
  it.each([
    ['SendsProxyProtoHeadersv1', 'V1', 44],
    ['SendsProxyProtoHeadersv2', 'V2', 28],
  ] as const)('%s', async (_name, version, headerBytes) => {
    const dir = logDir();
    const { proxy, port, upstream } = await setUp({ connectConfig: `{ proxy_protocol_config: { version: ${version} } }`, logPath: join(dir, 'access.log') });
    const client = await tunnel(downstream, port);
    const socket = await upstream.next();
    const up = collector(socket);
    client.write('hello');
    await waitFor(() => up.text().endsWith('hello'), 5000, 'the payload after the PROXY header');
    const received = Buffer.from(up.text(), 'latin1');
    // The PROXY header comes first and names the client's address and the listener's.
    expect(received.length).toBe(headerBytes + 5);
    if (version === 'V1') {
      expect(received.subarray(0, headerBytes).toString()).toMatch(new RegExp(`^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 \\d+ ${port}\\r\\n$`));
    } else {
      expect(received.subarray(0, 12)).toEqual(Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]));
      expect(received[12]).toBe(0x21);
      expect(received[13]).toBe(0x11);
      expect(received.readUInt16BE(26)).toBe(port);
    }
    client.close();
    await within(up.ended, 5000, 'the upstream close');
    await proxy.close();
    // %UPSTREAM_HEADER_BYTES_SENT% counts the PROXY header (Envoy: 44 for v1, 28 for v2 over IPv4).
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toMatch(new RegExp(`^5 0 ${headerBytes} 0 200 `));
  });
});
