import type { Http2Session } from 'node:http2';
import type { Http2ProtocolOptions } from '@il/config/runtime';

type Keepalive = NonNullable<Http2ProtocolOptions['connection_keepalive']>;

export interface KeepaliveOptions {
  /** When the connection last received bytes: any frame counts as a sign of life (Envoy extends the timeout on every frame). */
  readonly lastReceivedMs: () => number;
  /** Called once when the keepalive times out and the session is destroyed (for `http2.keepalive_timeout`). */
  readonly onTimeout: () => void;
}

/**
 * Envoy's HTTP/2 connection keepalive (`connection_keepalive`): a PING every `interval` (with
 * `interval_jitter`, 15% by default), and the connection is closed when neither the PING's ACK
 * nor any other frame arrives within `timeout`. Without `interval`, no PINGs are sent.
 */
export function startKeepalive(session: Http2Session, config: Keepalive | undefined, options: KeepaliveOptions): void {
  const intervalMs = config?.interval?.ms ?? 0;
  if (config === undefined || intervalMs <= 0) return;
  const timeoutMs = config.timeout.ms;
  const jitter = (config.interval_jitter?.value ?? 15) / 100;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const schedule = (): void => {
    const delay = intervalMs * (1 + jitter * Math.random());
    timer = setTimeout(ping, delay);
    timer.unref();
  };
  const ping = (): void => {
    if (session.destroyed || session.closed) return;
    const sentMs = performance.now();
    let answered = false;
    try {
      session.ping((error) => {
        if (error === null) answered = true;
      });
    } catch {
      return;
    }
    timer = setTimeout(() => {
      if (session.destroyed) return;
      if (answered || options.lastReceivedMs() > sentMs) {
        schedule();
        return;
      }
      options.onTimeout();
      session.destroy(Object.assign(new Error(`HTTP/2 keepalive: no PING ACK within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    timer.unref();
  };
  session.once('close', stop);
  schedule();
}
