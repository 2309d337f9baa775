import { TunnelResponseHeaderMap } from './tunnel-response-headers.js';

/** Envoy's default max_request_headers_kb is 60; a response head larger than this is refused. */
const MAX_HEAD_BYTES = 64 * 1024;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;

export type HeadResult =
  | { kind: 'incomplete' }
  | { kind: 'error'; message: string }
  | { kind: 'head'; status: number; headers: TunnelResponseHeaderMap; rest: Buffer };

/**
 * Reads HTTP/1.x response heads off a tunnel's connection. Only the head is parsed: after a
 * tunnel's 2xx the bytes are raw payload whatever Content-Length or Transfer-Encoding says, so
 * no body parser is needed (and undici, which owns its sockets, cannot be used).
 */
export class Http1ResponseHeadParser {
  #buffered: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns one complete head at a time, with the bytes after it. */
  push(chunk: Buffer): HeadResult {
    const searchFrom = Math.max(0, this.#buffered.length - 3);
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const end = headEnd(this.#buffered, searchFrom);
    if (end === undefined) {
      if (this.#buffered.length > MAX_HEAD_BYTES) return { kind: 'error', message: `response head larger than ${MAX_HEAD_BYTES} bytes` };
      return { kind: 'incomplete' };
    }
    const head = this.#buffered.subarray(0, end.headLength).toString('latin1').replace(/\r$/, '');
    const rest = this.#buffered.subarray(end.headLength + end.terminatorLength);
    this.#buffered = Buffer.alloc(0);
    return parseHead(head, rest);
  }
}

/** Where the blank line ending a head is (CRLF, or bare LF as lenient parsers accept). */
function headEnd(buffer: Buffer, from: number): { headLength: number; terminatorLength: number } | undefined {
  for (let i = from; i < buffer.length; i++) {
    if (buffer[i] !== 0x0a) continue;
    if (buffer[i + 1] === 0x0a) return { headLength: i, terminatorLength: 2 };
    if (buffer[i + 1] === 0x0d && buffer[i + 2] === 0x0a) return { headLength: i, terminatorLength: 3 };
  }
  return undefined;
}

function parseHead(head: string, rest: Buffer): HeadResult {
  const lines = head.split(/\r?\n/);
  const statusLine = lines[0] ?? '';
  const match = STATUS_LINE.exec(statusLine);
  if (match === null) return { kind: 'error', message: `malformed status line ${JSON.stringify(statusLine.slice(0, 100))}` };
  const status = Number(match[1]);
  const entries: Array<[string, string]> = [[':status', String(status)]];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'error', message: `malformed header line ${JSON.stringify(line.slice(0, 100))}` };
    entries.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { kind: 'head', status, headers: new TunnelResponseHeaderMap(entries), rest };
}
