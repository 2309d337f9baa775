/**
 * The admin listener: node:http serving the endpoints of endpoints.ts at Envoy's paths. Its own
 * errors (a handler that throws, a bad request line, a socket error) are answered or logged,
 * never thrown into the process.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminContext } from './context.js';
import { endpoints, TEXT, type AdminResponse, type Endpoint } from './endpoints.js';
import type { Log } from '../logging/logging.js';

export type AdminAddress = { readonly host: string; readonly port: number } | { readonly path: string };

export interface AdminOptions {
  /** Envoy's --admin-address-path: the bound address is written there once listening. */
  readonly addressPath?: string;
}

export interface AdminServer {
  /** What it bound: `127.0.0.1:9901`, `[::1]:9901`, or the pipe's path. */
  readonly address: string;
  /** The bound TCP port (useful with port 0); undefined for a pipe. */
  readonly port: number | undefined;
  /** Stops listening and closes every admin connection. */
  close(): Promise<void>;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const byPath = (a: Endpoint, b: Endpoint) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Envoy's `admin commands are:` list (AdminImpl::getHelp). */
function helpText(list: readonly Endpoint[]): string {
  let out = 'admin commands are:\n';
  for (const endpoint of [...list].sort(byPath)) {
    out += `  ${endpoint.path}${endpoint.mutates === true ? ' (POST)' : ''}: ${endpoint.help}\n`;
    for (const param of endpoint.params ?? []) {
      out += `      ${param.name}: ${param.help}`;
      if (param.choices !== undefined) out += `; One of (${param.choices.join(', ')})`;
      out += '\n';
    }
  }
  return out;
}

function indexHtml(list: readonly Endpoint[]): string {
  const rows = [...list]
    .sort(byPath)
    .filter((endpoint) => endpoint.path !== '/')
    .map((endpoint) => {
      const path = escapeHtml(endpoint.path);
      const link =
        endpoint.mutates === true
          ? `<form method="post" action="${path}"><button type="submit">${path}</button></form>`
          : `<a href="${path}">${path}</a>`;
      const params = (endpoint.params ?? [])
        .map((param) => `<br><small><code>${escapeHtml(param.name)}</code>: ${escapeHtml(param.help)}</small>`)
        .join('');
      return `<tr><td>${link}</td><td>${endpoint.mutates === true ? 'POST' : 'GET'}</td><td>${escapeHtml(endpoint.help)}${params}</td></tr>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>il-proxy admin</title>
<style>body{font-family:sans-serif}td{padding:4px 12px;vertical-align:top}form{margin:0}</style></head>
<body>
<h1>il-proxy admin</h1>
<table>
<thead><tr><th>Command</th><th>Method</th><th>Description</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}

function boundAddress(server: Server): { address: string; port: number | undefined } {
  const bound = server.address();
  if (typeof bound === 'string') return { address: bound, port: undefined };
  const info = bound as AddressInfo;
  return { address: info.family === 'IPv6' ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`, port: info.port };
}

function describe(address: AdminAddress): string {
  return 'path' in address ? address.path : address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * Starts the admin interface and resolves once it listens (the server binds it before it goes
 * LIVE). Rejects, with the address and the reason, when it cannot bind.
 */
export async function startAdmin(context: AdminContext, address: AdminAddress, log: Log, options: AdminOptions = {}): Promise<AdminServer> {
  // The index and the help are built from the same table they describe.
  const list: Endpoint[] = endpoints(
    context,
    log,
    () => indexHtml(list),
    () => helpText(list),
  );
  const byExactPath = new Map(list.map((endpoint) => [endpoint.path, endpoint]));

  const respond = async (req: IncomingMessage): Promise<AdminResponse> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin');
    } catch {
      return { status: 400, body: 'invalid request URL\n' };
    }
    const endpoint = byExactPath.get(url.pathname);
    if (endpoint === undefined) return { status: 404, body: `invalid path. ${helpText(list)}` };
    const method = req.method ?? 'GET';
    const mutates = endpoint.mutates === true || (endpoint.mutates === 'with-params' && [...url.searchParams.keys()].length > 0);
    if (mutates && method !== 'POST') {
      log.warn(`admin path "${endpoint.path}" mutates state, method=${method} rather than POST`);
      return { status: 405, body: `Method ${method} not allowed, POST required.\n` };
    }
    return endpoint.handle(url.searchParams);
  };

  const send = (req: IncomingMessage, res: ServerResponse, response: AdminResponse, started: number) => {
    const body = Buffer.from(response.body, 'utf8');
    res.once('close', () => {
      log.debug(`${req.method ?? '?'} ${req.url ?? ''} ${response.status} ${body.length} ${Date.now() - started}ms`);
      if (response.after === undefined) return;
      try {
        response.after();
      } catch (error) {
        log.error({ err: error }, `admin ${req.url ?? ''}: after the response`);
      }
    });
    res.writeHead(response.status, {
      'content-type': response.contentType ?? TEXT,
      'content-length': body.length,
      'cache-control': 'no-cache, max-age=0',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer((req, res) => {
    const started = Date.now();
    req.resume();
    respond(req)
      .catch((error: unknown): AdminResponse => {
        log.error({ err: error }, `admin ${req.method ?? '?'} ${req.url ?? ''} failed`);
        return { status: 500, body: `error: ${error instanceof Error ? error.message : String(error)}\n` };
      })
      .then((response) => send(req, res, response, started))
      .catch((error: unknown) => {
        log.error({ err: error }, 'admin: cannot send a response');
        res.destroy();
      });
  });
  server.on('clientError', (error, socket) => {
    log.debug({ err: error }, 'admin: bad request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'address already in use' : error.message;
      reject(new Error(`admin: cannot listen on ${describe(address)}: ${reason}`, { cause: error }));
    };
    server.once('error', onError);
    const listening = () => {
      server.off('error', onError);
      resolve();
    };
    if ('path' in address) server.listen(address.path, listening);
    else server.listen(address.port, address.host, listening);
  });
  server.on('error', (error) => log.error({ err: error }, 'admin listener error'));

  const bound = boundAddress(server);
  log.info(`admin address: ${bound.address}`);
  if (options.addressPath !== undefined) {
    await writeFile(options.addressPath, bound.address).catch((error: unknown) => {
      log.fatal({ err: error }, `cannot open admin address output file ${options.addressPath ?? ''} for writing.`);
    });
  }

  let closing: Promise<void> | undefined;
  return {
    address: bound.address,
    port: bound.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}


