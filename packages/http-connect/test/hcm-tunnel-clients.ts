// Tunnel clients for the CONNECT tests: an HTTP/1.1 CONNECT over a raw socket and an HTTP/2
// CONNECT stream, behind one interface so a case can run over both, as Envoy's tests do.
import http2 from 'node:http2';
import net from 'node:net';
import { resetStream } from '../src/codec/http2-reset.js';
import { waitFor, within } from './hcm-harness.js';

export type Downstream = 'HTTP1' | 'HTTP2';

/** How the proxy ended the client's side of a tunnel. */
export type TunnelEnd = 'end' | 'reset' | 'disconnect';

export interface TunnelClient {
  /** Response status and headers of the CONNECT. */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The raw response head (HTTP/1.1 only). */
  head: string;
  write(data: string | Buffer): void;
  /** END_STREAM (HTTP/2) or FIN (HTTP/1.1). */
  end(): void;
  /** RST_STREAM (HTTP/2; CANCEL, with no END_STREAM before it) or a TCP RST (HTTP/1.1). */
  reset(): void;
  /** Closes the client's connection. */
  close(): void;
  /** Payload received after the response headers. */
  received(): Buffer;
  waitForData(text: string, ms?: number): Promise<void>;
  /** How the proxy ended the client's side. */
  ended: Promise<TunnelEnd>;
}

/** An HTTP/1.1 CONNECT (or a raw request text) on a new connection; resolves with the response head. */
export async function h1Tunnel(port: number, request = 'CONNECT foo.lyft.com:80 HTTP/1.1\r\nHost: foo.lyft.com:80\r\n\r\n'): Promise<TunnelClient> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  let buffer = Buffer.alloc(0);
  let headEnd = -1;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (headEnd < 0) {
      const i = buffer.indexOf('\r\n\r\n');
      if (i >= 0) headEnd = i + 4;
    }
  });
  // The proxy's FIN or close ends an HTTP/1.1 tunnel (this side is half-open, so FIN is enough).
  const ended = new Promise<TunnelEnd>((resolve) => {
    socket.once('end', () => resolve('disconnect'));
    socket.once('close', (hadError) => resolve(hadError ? 'reset' : 'disconnect'));
  });
  socket.write(request);
  await within(
    new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (headEnd >= 0) resolve();
      };
      socket.on('data', check);
      socket.once('close', () => (headEnd >= 0 ? resolve() : reject(new Error(`connection closed before a response: ${buffer.toString('latin1')}`))));
    }),
    5000,
    'the CONNECT response head',
  );
  const head = buffer.subarray(0, headEnd).toString('latin1');
  const [statusLine = '', ...lines] = head.trimEnd().split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const received = (): Buffer => buffer.subarray(headEnd);
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    head,
    write: (data) => void socket.write(data),
    end: () => void socket.end(),
    reset: () => void socket.resetAndDestroy(),
    close: () => void socket.destroy(),
    received,
    waitForData: (text, ms = 5000) => waitFor(() => received().toString('latin1').includes(text), ms, `'${text}' through the tunnel`),
    ended,
  };
}

/** An HTTP/2 CONNECT stream (classic, or extended with :protocol) on a new session. */
export async function h2Tunnel(
  port: number,
  headers: http2.OutgoingHttpHeaders = { ':method': 'CONNECT', ':authority': 'foo.lyft.com:80' },
  options: { endStream?: boolean; session?: http2.ClientHttp2Session } = {},
): Promise<TunnelClient & { session: http2.ClientHttp2Session; stream: http2.ClientHttp2Stream }> {
  const session = options.session ?? http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  if (options.session === undefined) await within(new Promise((resolve) => session.once('remoteSettings', resolve)), 5000, 'the proxy SETTINGS');
  const stream = session.request(headers, { endStream: options.endStream ?? false });
  return h2TunnelOn(session, stream);
}

export async function h2TunnelOn(
  session: http2.ClientHttp2Session,
  stream: http2.ClientHttp2Stream,
): Promise<TunnelClient & { session: http2.ClientHttp2Session; stream: http2.ClientHttp2Stream }> {
  stream.on('error', () => undefined);
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  let sawEnd = false;
  let wroteEnd = false;
  stream.once('end', () => (sawEnd = true));
  const ended = new Promise<TunnelEnd>((resolve) =>
    stream.once('close', () => {
      // A RST_STREAM (any code, NO_ERROR included) while this side was still open is a reset.
      if (session.destroyed && !sawEnd) resolve('disconnect');
      else if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR || stream.aborted || !sawEnd || !wroteEnd) resolve('reset');
      else resolve('end');
    }),
  );
  const responseHeaders = await within(
    new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('close', () => reject(new Error(`stream closed before a response (rstCode ${stream.rstCode})`)));
    }),
    5000,
    'the CONNECT response',
  );
  const received = (): Buffer => Buffer.concat(chunks);
  return {
    session,
    stream,
    status: Number(responseHeaders[':status']),
    headers: responseHeaders,
    head: '',
    write: (data) => void stream.write(data),
    end: () => {
      wroteEnd = true;
      stream.end();
    },
    reset: () => resetStream(stream, http2.constants.NGHTTP2_CANCEL),
    close: () => session.destroy(),
    received,
    waitForData: (text, ms = 5000) => waitFor(() => received().toString('latin1').includes(text), ms, `'${text}' through the tunnel`),
    ended,
  };
}

export function tunnel(downstream: Downstream, port: number, options: { authority?: string } = {}): Promise<TunnelClient> {
  const authority = options.authority ?? 'foo.lyft.com:80';
  return downstream === 'HTTP1'
    ? h1Tunnel(port, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`)
    : h2Tunnel(port, { ':method': 'CONNECT', ':authority': authority });
}

/** Data the upstream socket received so far. */
export function collector(socket: net.Socket): {
  text: () => string;
  ended: Promise<void>;
  closed: Promise<void>;
  /** How the proxy ended the connection: a FIN, or an RST (ECONNRESET). */
  closedBy: Promise<'fin' | 'reset'>;
  waitFor: (text: string, ms?: number) => Promise<void>;
} {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const text = (): string => Buffer.concat(chunks).toString('latin1');
  return {
    text,
    ended: new Promise((resolve) => socket.once('end', () => resolve())),
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
    closedBy: new Promise((resolve) => {
      socket.once('end', () => resolve('fin'));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNRESET') resolve('reset');
      });
    }),
    waitFor: (needle, ms = 5000) => waitFor(() => text().includes(needle), ms, `'${needle}' upstream`),
  };
}
