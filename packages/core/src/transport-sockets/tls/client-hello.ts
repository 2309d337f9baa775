/**
 * What Envoy's tls_inspector learns from the first bytes of a connection: whether they are a TLS
 * ClientHello, and if so its server name (SNI) and ALPN protocols. Only the record and handshake
 * headers and the two extensions are read; anything malformed is "not TLS".
 */

export type ClientHelloResult =
  | { readonly kind: 'tls'; readonly serverName: string | undefined; readonly alpn: readonly string[] }
  | { readonly kind: 'not-tls' }
  /** The bytes so far are a ClientHello's start: wait for `needBytes` in all. */
  | { readonly kind: 'incomplete'; readonly needBytes: number };

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
/** Envoy reads at most 64 KiB of ClientHello (the record layer allows 16 KiB per record, ClientHellos span records rarely). */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

export function parseClientHello(data: Buffer): ClientHelloResult {
  if (data.length === 0) return { kind: 'incomplete', needBytes: 5 };
  if (data[0] !== HANDSHAKE) return { kind: 'not-tls' };
  if (data.length >= 2 && data[1] !== 3) return { kind: 'not-tls' };
  if (data.length < 5) return { kind: 'incomplete', needBytes: 5 };
  const recordLength = data.readUInt16BE(3);
  if (recordLength < 4 || recordLength > 16384 + 2048) return { kind: 'not-tls' };
  // The handshake message may span records; gather the handshake bytes of consecutive records.
  const handshake: Buffer[] = [];
  let offset = 0;
  let have = 0;
  let needed = -1;
  while (offset + 5 <= data.length) {
    if (data[offset] !== HANDSHAKE) return { kind: 'not-tls' };
    const length = data.readUInt16BE(offset + 3);
    if (offset + 5 + length > data.length) return { kind: 'incomplete', needBytes: Math.min(MAX_CLIENT_HELLO_BYTES, offset + 5 + length) };
    const fragment = data.subarray(offset + 5, offset + 5 + length);
    handshake.push(fragment);
    have += fragment.length;
    offset += 5 + length;
    if (needed < 0 && have >= 4) {
      const head = Buffer.concat(handshake);
      if (head[0] !== CLIENT_HELLO) return { kind: 'not-tls' };
      needed = 4 + head.readUIntBE(1, 3);
      if (needed > MAX_CLIENT_HELLO_BYTES) return { kind: 'not-tls' };
    }
    if (needed >= 0 && have >= needed) return parseHello(Buffer.concat(handshake).subarray(4, needed));
  }
  return { kind: 'incomplete', needBytes: Math.min(MAX_CLIENT_HELLO_BYTES, offset + 5 + (needed < 0 ? 4 : needed - have)) };
}

/** The ClientHello body (after its 4-byte handshake header). */
function parseHello(body: Buffer): ClientHelloResult {
  let pos = 2 + 32; // client_version, random
  if (pos + 1 > body.length) return { kind: 'not-tls' };
  pos += 1 + (body[pos] as number); // session_id
  if (pos + 2 > body.length) return { kind: 'not-tls' };
  pos += 2 + body.readUInt16BE(pos); // cipher_suites
  if (pos + 1 > body.length) return { kind: 'not-tls' };
  pos += 1 + (body[pos] as number); // compression_methods
  if (pos > body.length) return { kind: 'not-tls' };
  let serverName: string | undefined;
  const alpn: string[] = [];
  if (pos + 2 > body.length) return { kind: 'tls', serverName, alpn };
  const extensionsEnd = pos + 2 + body.readUInt16BE(pos);
  if (extensionsEnd > body.length) return { kind: 'not-tls' };
  pos += 2;
  while (pos + 4 <= extensionsEnd) {
    const type = body.readUInt16BE(pos);
    const length = body.readUInt16BE(pos + 2);
    const start = pos + 4;
    const end = start + length;
    if (end > extensionsEnd) return { kind: 'not-tls' };
    if (type === EXT_SERVER_NAME && end - start >= 2) {
      let p = start + 2;
      while (p + 3 <= end) {
        const nameType = body[p] as number;
        const nameLength = body.readUInt16BE(p + 1);
        if (p + 3 + nameLength > end) break;
        if (nameType === 0) {
          serverName = body.toString('latin1', p + 3, p + 3 + nameLength).toLowerCase();
          break;
        }
        p += 3 + nameLength;
      }
    } else if (type === EXT_ALPN && end - start >= 2) {
      let p = start + 2;
      while (p + 1 <= end) {
        const protocolLength = body[p] as number;
        if (p + 1 + protocolLength > end) break;
        alpn.push(body.toString('latin1', p + 1, p + 1 + protocolLength));
        p += 1 + protocolLength;
      }
    }
    pos = end;
  }
  return { kind: 'tls', serverName, alpn };
}
