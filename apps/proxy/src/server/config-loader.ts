import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, decodeBootstrap, type Bootstrap, type ConfigIssue, type ConfigWarning } from '@il/config/runtime';
import type { CliOptions } from '../cli/options.js';

export type ConfigLoadRequest = Pick<CliOptions, 'configPath' | 'configYaml' | 'allowUnknownStaticFields'>;

export type ConfigLoadReply =
  | { ok: true; bootstrap: string; warnings: ConfigWarning[] }
  | { ok: false; issues: ConfigIssue[] }
  | { ok: false; internal: string };

/**
 * Loads and validates the config the command line names, in a short-lived child process.
 * Validation needs every zod schema of @il/config (about 27 MiB once built); the serving process
 * only needs the result, so the schemas are built in a process that exits when it is done, and
 * never count toward the server's memory, peak included. Throws ConfigError, as loading
 * in-process would.
 */
export function loadConfigInWorker(request: ConfigLoadRequest): Promise<{ bootstrap: Bootstrap; warnings: ConfigWarning[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./config-worker.js', import.meta.url))], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      let reply: ConfigLoadReply;
      try {
        reply = JSON.parse(Buffer.concat(out).toString('utf8')) as ConfigLoadReply;
      } catch {
        reject(new Error(`the config loader stopped (exit code ${code ?? 'signal'}) without an answer`));
        return;
      }
      if (reply.ok) resolve({ bootstrap: decodeBootstrap(reply.bootstrap), warnings: reply.warnings });
      else if ('issues' in reply) reject(new ConfigError(reply.issues));
      else reject(new Error(`loading the config failed: ${reply.internal}`));
    });
    child.stdin.end(
      JSON.stringify({ configPath: request.configPath, configYaml: request.configYaml, allowUnknownStaticFields: request.allowUnknownStaticFields }),
    );
  });
}
