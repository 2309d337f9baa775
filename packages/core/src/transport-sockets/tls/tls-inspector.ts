import type { Counter } from '../../stats/stat.js';
import type { Scope } from '../../stats/store.js';
import type { ConnectionSocket } from '../../network/dial.js';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from './client-hello.js';

/** What the inspector saw, for filter chain matching (Envoy's `transport_protocol`, SNI, ALPN). */
export interface InspectedConnection {
  readonly transportProtocol: 'tls' | 'raw_buffer';
  readonly serverName: string | undefined;
  readonly applicationProtocols: readonly string[];
}

export type InspectOutcome = InspectedConnection | 'closed' | 'timeout';

const INSPECTOR_COUNTERS = ['tls_found', 'tls_not_found', 'sni_found', 'sni_not_found', 'alpn_found', 'alpn_not_found', 'client_hello_too_large'] as const;

/** Envoy's tls_inspector stats, rooted at `tls_inspector.`. */
export type TlsInspectorStats = Readonly<Record<(typeof INSPECTOR_COUNTERS)[number], Counter>>;

export function tlsInspectorStats(root: Scope): TlsInspectorStats {
  return root.scope('tls_inspector').counters(INSPECTOR_COUNTERS);
}

/**
 * Envoy's tls_inspector listener filter: reads (without consuming) the start of a new connection
 * until it knows whether it is a TLS ClientHello, then puts every byte back for the filter chain.
 * Gives up after `timeoutMs` (listener_filters_timeout; 0 waits for ever) or when the peer closes.
 */
export function inspectTls(socket: ConnectionSocket, timeoutMs: number, stats: TlsInspectorStats): Promise<InspectOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: InspectOutcome): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      if (timer !== undefined) clearTimeout(timer);
      socket.pause();
      if (chunks.length > 0 && !socket.destroyed) socket.unshift(Buffer.concat(chunks));
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      const seen = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      const result = parseClientHello(seen);
      if (result.kind === 'incomplete') {
        if (seen.length < MAX_CLIENT_HELLO_BYTES) return;
        stats.client_hello_too_large.inc();
        finish({ transportProtocol: 'raw_buffer', serverName: undefined, applicationProtocols: [] });
        return;
      }
      if (result.kind === 'not-tls') {
        stats.tls_not_found.inc();
        finish({ transportProtocol: 'raw_buffer', serverName: undefined, applicationProtocols: [] });
        return;
      }
      stats.tls_found.inc();
      (result.serverName === undefined ? stats.sni_not_found : stats.sni_found).inc();
      (result.alpn.length === 0 ? stats.alpn_not_found : stats.alpn_found).inc();
      finish({ transportProtocol: 'tls', serverName: result.serverName, applicationProtocols: result.alpn });
    };
    const onEnd = (): void => finish('closed');
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    if (timeoutMs > 0) timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.resume();
  });
}
