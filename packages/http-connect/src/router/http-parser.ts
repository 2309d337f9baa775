import { createRequire } from 'node:module';

/**
 * Node's own HTTP/1 parser (llhttp in C++), the one node:http's client and server run on. It is
 * exported by the `_http_common` module, which node:http is built from but does not document;
 * il uses it for upstream HTTP/1.1 (see http1-connection.ts and docs/performance.md): parsing
 * a response costs a fraction of what a JavaScript or WebAssembly parser behind a general
 * purpose client does. Only the calls below are used, as node:http's client uses them.
 */
export interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes parsed, or the parse error (`code` HPE_*). */
  execute(data: Buffer): number | HttpParseError;
  /** End of input: completes a response delimited by the connection's close, or fails one cut short. */
  finish(): HttpParseError | undefined;
  close(): void;
  /** Callbacks, indexed by the constants of HttpParserBinding. */
  [callback: number]: unknown;
}

export interface HttpParseError extends Error {
  readonly code: string;
  readonly bytesParsed: number;
}

interface HttpParserBinding {
  new (): HttpParser;
  readonly RESPONSE: number;
  /** (headers: string[], url: string): header (or trailer) pairs past the first batch. */
  readonly kOnHeaders: number;
  /** (major, minor, headers | undefined, method, url, statusCode, statusMessage, upgrade, shouldKeepAlive) => 0 | 1 (no body) | 2 (upgrade). */
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}

const require = createRequire(import.meta.url);
export const HTTPParser = (require('_http_common') as { HTTPParser: HttpParserBinding }).HTTPParser;
