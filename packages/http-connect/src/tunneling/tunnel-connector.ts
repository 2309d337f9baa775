import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http2';
import type { TunnelingConfig } from '@il/config/runtime';
import {
  compileFormat,
  connectionAddresses,
  connectionTlsInfo,
  FormatError,
  type ConfigFinding,
  type ConnectFailure,
  type Formatter,
  type HeaderMap,
  type NetworkFilterFactoryContext,
  type StreamInfo,
  type UpstreamConnector,
  type UpstreamHandle,
  type UpstreamRequest,
} from '@il/core';
import { RouteConfigError } from '../route/errors.js';
import { HeaderMutations } from '../route/header-mutations.js';
import { sharedHttp2ConnectionPools } from '../upstream/shared-pools.js';
import type { Http2ConnectionPools } from '../upstream/http2-connection-pool.js';
import { Http1TunnelStream } from './http1-tunnel-stream.js';
import { Http2TunnelStream, type TunnelResponseObserver } from './http2-tunnel-stream.js';
import { TUNNEL_RESPONSE_HEADERS_KEY, TUNNEL_RESPONSE_TRAILERS_KEY } from './tunnel-response-headers.js';
import { RefusedTunnelStream, type TunnelStream } from './tunnel-stream.js';

/** The dynamic-metadata namespace TcpProxy writes the tunnel's request id into. */
export const TCP_PROXY_METADATA_NAMESPACE = 'envoy.filters.network.tcp_proxy';

/** Headers the codec owns: framing and connection management are not for headers_to_add. */
const CODEC_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'content-length', 'te']);
/** Characters no header value or authority may carry (they would split an HTTP/1.1 head). */
const INVALID_VALUE = /[\0\r\n]/;
const INVALID_AUTHORITY = /[\0-\x20\x7f]/;

/** A tunneling_config compiled once per filter chain. */
interface CompiledTunneling {
  readonly method: 'CONNECT' | 'POST';
  readonly postPath: string;
  readonly hostname: Formatter;
  /** headers_to_add: the same header parser routes use, as in Envoy. */
  readonly headersToAdd: HeaderMutations | undefined;
  readonly requestId: { readonly header: string; readonly metadataKey: string } | undefined;
  readonly propagateHeaders: boolean;
  readonly propagateTrailers: boolean;
}

export interface TunnelConnectorOptions {
  /** Where HTTP/2 tunnels get their streams (default: the runtime's shared pools). */
  pools?: Http2ConnectionPools | undefined;
}

/**
 * TcpProxy's HTTP tunneling upstreams (envoy-behavior.md §3): each downstream connection becomes
 * a CONNECT (or POST) over the cluster's HTTP version (§1.7): a stream of a pooled HTTP/2
 * connection, or an HTTP/1.1 connection of its own. `hostname` and `headers_to_add` are format
 * strings evaluated per tunnel against the downstream connection's StreamInfo.
 */
export function createTunnelConnector(config: TunnelingConfig, context: NetworkFilterFactoryContext, options: TunnelConnectorOptions = {}): UpstreamConnector {
  const tunneling = compile(config);
  const pools = options.pools ?? sharedHttp2ConnectionPools(context);
  return {
    connect(request: UpstreamRequest): UpstreamHandle | ConnectFailure {
      const { cluster, streamInfo, hops } = request;
      const host = cluster.chooseHost();
      if (host === undefined) {
        cluster.stats.counters.upstream_cx_none_healthy.inc();
        return 'no_healthy_upstream';
      }
      // Envoy checks the connection budget for every TcpProxy upstream, tunnels included.
      if (!cluster.resources.connections.canCreate()) {
        cluster.stats.counters.upstream_cx_overflow.inc();
        return 'overflow';
      }
      const { authority, headers } = requestHeaders(tunneling, streamInfo);
      const observer = responseObserver(tunneling, streamInfo);
      let stream: TunnelStream;
      if (INVALID_AUTHORITY.test(authority) || authority === '') {
        stream = new RefusedTunnelStream(new Error(`tunnel hostname ${JSON.stringify(authority)} is not a valid authority`));
      } else if (cluster.httpProtocol === 'http2') {
        const pool = pools.for(cluster, host, { hops, downstreamFilterState: streamInfo.filterState });
        stream = new Http2TunnelStream(pool, http2Headers(tunneling, authority, headers), observer);
      } else {
        // An auto_config cluster tunnels in HTTP/1.1, so the server must not pick h2 (ALPN http/1.1 only).
        const transportSocketOptions = cluster.httpProtocol === 'auto' ? { applicationProtocolListOverride: ['http/1.1'] } : undefined;
        const connection = cluster.newConnection(host, { hops, downstreamFilterState: streamInfo.filterState, transportSocketOptions });
        if (connection === 'overflow') return 'overflow';
        stream = new Http1TunnelStream(connection, http1Head(tunneling, authority, headers), tunneling.method === 'POST', observer);
      }
      return {
        stream,
        host,
        get connectionId() {
          return stream.connection?.id ?? 0;
        },
        drainable: false,
        addresses: () => {
          const connection = stream.connection;
          return connection === undefined ? undefined : connectionAddresses(connection.socket);
        },
        tls: () => {
          const connection = stream.connection;
          return connection === undefined ? undefined : connectionTlsInfo(connection.socket);
        },
      };
    },
  };
}

/**
 * What createTunnelConnector would refuse in a tunneling_config (format strings of `hostname` and
 * `headers_to_add`), with paths under the TcpProxy config, for validation.
 */
export function validateTunnelingConfig(config: TunnelingConfig): ConfigFinding[] {
  try {
    compile(config);
    return [];
  } catch (error) {
    if (error instanceof RouteConfigError) return [{ path: error.path, message: error.reason }];
    throw error;
  }
}

function compile(config: TunnelingConfig): CompiledTunneling {
  const headersToAdd = HeaderMutations.compile(config.headers_to_add, [], { add: 'tunneling_config.headers_to_add', remove: 'tunneling_config' });
  const extension = config.request_id_extension;
  let hostname: Formatter;
  try {
    hostname = compileFormat(config.hostname);
  } catch (error) {
    throw error instanceof FormatError ? new RouteConfigError('tunneling_config.hostname', error.message) : error;
  }
  return {
    method: config.use_post ? 'POST' : 'CONNECT',
    postPath: 'post_path' in config ? config.post_path : '/',
    hostname,
    headersToAdd,
    requestId: extension === undefined ? undefined : { header: config.request_id_header.toLowerCase(), metadataKey: config.request_id_metadata_key },
    propagateHeaders: config.propagate_response_headers,
    propagateTrailers: config.propagate_response_trailers,
  };
}

/** The tunnel's authority and extra headers, evaluated for this attempt. */
function requestHeaders(tunneling: CompiledTunneling, streamInfo: StreamInfo): { authority: string; headers: Array<[string, string]> } {
  const context = { streamInfo };
  const authority = tunneling.hostname.format(context);
  const map: HeaderMap = {};
  tunneling.headersToAdd?.apply(map, context);
  const requestId = tunneling.requestId;
  if (requestId !== undefined) {
    const id = randomUUID();
    map[requestId.header] = id;
    const metadata = (streamInfo.dynamicMetadata[TCP_PROXY_METADATA_NAMESPACE] ??= {});
    metadata[requestId.metadataKey] = id;
  }
  const headers: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(map)) {
    // Framing and connection management belong to the codec; a CR, LF or NUL would split an HTTP/1.1 head.
    if (value === undefined || CODEC_HEADERS.has(key)) continue;
    for (const text of Array.isArray(value) ? value : [value]) if (!INVALID_VALUE.test(text)) headers.push([key, text]);
  }
  return { authority, headers };
}

/** HTTP/2: classic CONNECT (no :path, :scheme or :protocol), or POST with :path and :scheme. */
function http2Headers(tunneling: CompiledTunneling, authority: string, extra: ReadonlyArray<[string, string]>): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':method': tunneling.method, ':authority': authority };
  if (tunneling.method === 'POST') {
    headers[':path'] = tunneling.postPath;
    // No downstream TLS here, so the scheme is http.
    headers[':scheme'] = 'http';
  }
  for (const [key, value] of extra) {
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else headers[key] = Array.isArray(existing) ? [...existing, value] : [String(existing), value];
  }
  return headers;
}

/** HTTP/1.1, as Envoy's codec writes it: request line, host, the extra headers, and chunked framing for POST. */
function http1Head(tunneling: CompiledTunneling, authority: string, extra: ReadonlyArray<[string, string]>): string {
  const target = tunneling.method === 'CONNECT' ? authority : tunneling.postPath;
  let head = `${tunneling.method} ${target} HTTP/1.1\r\nhost: ${authority}\r\n`;
  for (const [key, value] of extra) head += `${key}: ${value}\r\n`;
  if (tunneling.method === 'POST') head += 'transfer-encoding: chunked\r\n';
  return `${head}\r\n`;
}

/** propagate_response_headers / _trailers: the headers of every response (valid or not), the trailers once. */
function responseObserver(tunneling: CompiledTunneling, streamInfo: StreamInfo): TunnelResponseObserver {
  const filterState = streamInfo.filterState;
  return {
    onHeaders: (headers) => {
      // Mutable, so that a retried attempt's response replaces the previous one (as in Envoy);
      // a read-only object someone else put there stays.
      if (tunneling.propagateHeaders && filterState.getObject(TUNNEL_RESPONSE_HEADERS_KEY)?.readOnly !== true) {
        filterState.set(TUNNEL_RESPONSE_HEADERS_KEY, headers, { readOnly: false });
      }
    },
    onTrailers: (trailers) => {
      if (tunneling.propagateTrailers && !filterState.has(TUNNEL_RESPONSE_TRAILERS_KEY)) filterState.set(TUNNEL_RESPONSE_TRAILERS_KEY, trailers);
    },
  };
}
