/** direct_response bodies, read once when the table is compiled (Envoy's ConfigUtility::parseDirectResponseBody). */
import { readFileSync, statSync } from 'node:fs';
import type { DataSource } from '@il/config/runtime';
import { RouteConfigError } from './errors.js';

/** Envoy's default max_direct_response_body_size_bytes (the field is not part of il's config). */
export const MAX_DIRECT_RESPONSE_BODY_BYTES = 4096;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The body bytes: inline_string (UTF-8), inline_bytes (base64, as proto JSON spells bytes), filename, or environment_variable. */
export function readDirectResponseBody(source: DataSource, path: string): Buffer {
  const max = MAX_DIRECT_RESPONSE_BODY_BYTES;
  if (source.filename !== undefined) {
    const filename = source.filename;
    let size: number;
    try {
      const stats = statSync(filename);
      if (!stats.isFile()) throw new Error('not a regular file');
      size = stats.size;
    } catch (error) {
      throw new RouteConfigError(`${path}.filename`, `response body file ${filename} does not exist (${reason(error)})`);
    }
    if (size > max) throw new RouteConfigError(`${path}.filename`, `response body file ${filename} size is ${size} bytes; maximum is ${max}`);
    try {
      return readFileSync(filename);
    } catch (error) {
      throw new RouteConfigError(`${path}.filename`, `cannot read response body file ${filename}: ${reason(error)}`);
    }
  }
  let body: Buffer;
  if (source.inline_bytes !== undefined) {
    body = Buffer.from(source.inline_bytes, 'base64');
  } else if (source.inline_string !== undefined) {
    body = Buffer.from(source.inline_string, 'utf8');
  } else if (source.environment_variable !== undefined) {
    const value = process.env[source.environment_variable];
    if (value === undefined) throw new RouteConfigError(`${path}.environment_variable`, `Environment variable doesn't exist: ${source.environment_variable}`);
    body = Buffer.from(value, 'utf8');
  } else {
    body = Buffer.alloc(0);
  }
  if (body.length > max) throw new RouteConfigError(path, `response body size is ${body.length} bytes; maximum is ${max}`);
  return body;
}
