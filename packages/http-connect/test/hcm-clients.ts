// Plain HTTP clients for the router tests: one request over HTTP/1.1 (node:http) or HTTP/2
// (node:http2, prior knowledge), with the response collected.
import http from 'node:http';
import http2 from 'node:http2';
import type { Readable } from 'node:stream';
import { within } from './hcm-harness.js';

export type Protocol = 'HTTP1' | 'HTTP2';

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** HTTP/2: the stream's RST_STREAM code (0 when it ended normally). */
  rstCode?: number;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string | Readable;
  /** HTTP/2: reuse a session. */
  session?: http2.ClientHttp2Session;
  timeoutMs?: number;
}

export async function request(protocol: Protocol, port: number, options: RequestOptions = {}): Promise<Response> {
  return protocol === 'HTTP1' ? h1Request(port, options) : h2Request(port, options);
}

export function h1Request(port: number, options: RequestOptions = {}): Promise<Response> {
  return within(
    new Promise<Response>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers ?? {},
        agent: false,
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      const body = options.body;
      if (body === undefined) req.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
      else body.pipe(req);
    }),
    options.timeoutMs ?? 10_000,
    'an HTTP/1.1 response',
  );
}

export async function h2Request(port: number, options: RequestOptions = {}): Promise<Response> {
  const session = options.session ?? http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  try {
    return await within(
      new Promise<Response>((resolve, reject) => {
        const body = options.body;
        const stream = session.request(
          { ':method': options.method ?? 'GET', ':path': options.path ?? '/', ...(options.headers ?? {}) },
          { endStream: body === undefined },
        );
        let status = 0;
        let headers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on('response', (h) => {
          headers = h;
          status = Number(h[':status']);
        });
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', () => undefined);
        stream.on('close', () => {
          if (status === 0) reject(new Error(`stream closed without a response (rstCode ${stream.rstCode})`));
          else resolve({ status, headers, body: Buffer.concat(chunks), rstCode: stream.rstCode });
        });
        if (body !== undefined) {
          if (typeof body === 'string' || Buffer.isBuffer(body)) stream.end(body);
          else body.pipe(stream);
        }
      }),
      options.timeoutMs ?? 10_000,
      'an HTTP/2 response',
    );
  } finally {
    if (options.session === undefined) session.close();
  }
}
