/**
 * Loads and validates the config in a child process (see config-loader.ts): the request comes
 * as JSON on stdin, the reply goes as JSON to stdout. The schemas live and die with this
 * process; the server receives plain data.
 */
import { ConfigError, encodeBootstrap } from '@il/config';
import { loadFromOptions } from '../cli/validate.js';
import type { ConfigLoadReply, ConfigLoadRequest } from './config-loader.js';

function load(request: ConfigLoadRequest): ConfigLoadReply {
  try {
    const { bootstrap, warnings } = loadFromOptions(request);
    return { ok: true, bootstrap: encodeBootstrap(bootstrap), warnings };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, issues: [...error.issues] };
    return { ok: false, internal: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

const chunks: Buffer[] = [];
process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
process.stdin.on('end', () => {
  const reply = load(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ConfigLoadRequest);
  process.stdout.write(JSON.stringify(reply));
});
