import { readFileSync } from 'node:fs';
import type { DataSource, SubstitutionFormatString } from '@il/config/runtime';
import { FormatError } from './format-error.js';
import { createOperator, toJson, type FormatContext, type Operator } from './operators.js';

/** A compiled format string: all parsing is done; `format` only reads values and joins strings. */
export interface Formatter {
  format(context: FormatContext): string;
}

export interface FormatOptions {
  /** Print nothing for a missing value instead of `-`; in JSON, leave the key out (Envoy's omit_empty_values). */
  omitEmptyValues?: boolean | undefined;
}

/** Envoy's default access log format (SubstitutionFormatUtils::DEFAULT_FORMAT), newline included. */
export const DEFAULT_HTTP_ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ' +
  '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% ' +
  '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" ' +
  '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/** `%COMMAND(ARGUMENT):LENGTH%` at one position (sticky); the argument ends at the first `)` that lets the rest match, as in Envoy's RE2 pattern. */
const COMMAND = /%([A-Z0-9_]+)(?:\(([^\n]*?)\))?(?::([0-9]+))?%/y;

type Part = string | Operator;

/** Splits a format string into literal text and operators, exactly where Envoy's parser does. */
function parse(format: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let pos = 0;
  while (pos < format.length) {
    const percent = format.indexOf('%', pos);
    if (percent === -1) {
      literal += format.slice(pos);
      break;
    }
    literal += format.slice(pos, percent);
    pos = percent;
    if (format[pos + 1] === '%') {
      literal += '%';
      pos += 2;
      continue;
    }
    if (literal !== '') parts.push(literal);
    literal = '';

    COMMAND.lastIndex = pos;
    const match = COMMAND.exec(format);
    const maxLength = match?.[3] === undefined ? undefined : Number(match[3]);
    if (match === null || (maxLength !== undefined && !Number.isSafeInteger(maxLength))) {
      throw new FormatError(`Incorrect configuration: ${format}. Couldn't find valid command at position ${pos}`, { position: pos });
    }
    const command = match[1] as string;
    let operator: Operator | undefined;
    try {
      operator = createOperator(command, match[2] ?? '', maxLength);
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      throw new FormatError(`${error.message} (at position ${pos})`, { operator: command, position: pos });
    }
    if (operator === undefined) {
      throw new FormatError(`Not supported field in StreamInfo: ${command} (at position ${pos})`, { operator: command, position: pos });
    }
    parts.push(operator);
    pos += match[0].length;
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

type Render = (context: FormatContext) => string;

/** Joins literal text and operator text; a missing value is `empty`. */
function textRenderer(parts: readonly Part[], empty: string): Render {
  const renders: Render[] = parts.map((part) =>
    typeof part === 'string' ? () => part : (context: FormatContext) => part.text(context) ?? empty,
  );
  if (renders.length === 0) return () => '';
  if (renders.length === 1) return renders[0] as Render;
  return (context) => {
    let out = '';
    for (const render of renders) out += render(context);
    return out;
  };
}

/** Compiles a text format string (`text_format`). Throws FormatError for an unknown operator or bad syntax. */
export function compileFormat(format: string, options: FormatOptions = {}): Formatter {
  return { format: textRenderer(parse(format), options.omitEmptyValues === true ? '' : '-') };
}

// ---------------------------------------------------------------- JSON

/** A JSON value's text, or undefined when omit_empty_values leaves it out. */
type JsonRender = (context: FormatContext) => string | undefined;

function jsonText(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  return toJson(value) ?? 'null';
}

function compileJsonValue(value: unknown, where: string, omitEmpty: boolean): JsonRender {
  if (typeof value === 'string') {
    // Envoy only parses strings that contain a `%`.
    if (!value.includes('%')) {
      const text = JSON.stringify(value);
      return () => text;
    }
    let parts: Part[];
    try {
      parts = parse(value);
    } catch (error) {
      throw error instanceof FormatError ? error.within(where) : error;
    }
    const [only] = parts;
    if (parts.length === 1 && typeof only === 'object') {
      // A lone operator keeps its type: numbers stay numbers, metadata stays structured, missing is null.
      return (context) => {
        const typed = only.value(context);
        if (typed === undefined) return omitEmpty ? undefined : 'null';
        return jsonText(typed);
      };
    }
    const render = textRenderer(parts, omitEmpty ? '' : '-');
    return (context) => JSON.stringify(render(context));
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    const text = jsonText(value);
    return () => text;
  }
  if (Array.isArray(value)) {
    const items = value.map((item: unknown, index) => compileJsonValue(item, `${where}[${index}]`, omitEmpty));
    return (context) => {
      let out = '[';
      for (let i = 0; i < items.length; i++) out += (i === 0 ? '' : ',') + ((items[i] as JsonRender)(context) ?? 'null');
      return `${out}]`;
    };
  }
  if (typeof value === 'object') {
    // Keys in sorted order, as Envoy prints them.
    const entries = Object.keys(value)
      .sort()
      .map((key) => [`${JSON.stringify(key)}:`, compileJsonValue((value as Record<string, unknown>)[key], `${where}.${key}`, omitEmpty)] as const);
    return (context) => {
      let out = '{';
      let first = true;
      for (const [key, render] of entries) {
        const text = render(context);
        if (text === undefined) continue;
        out += first ? key + text : `,${key}${text}`;
        first = false;
      }
      return `${out}}`;
    };
  }
  throw new FormatError(
    `${where}: Only string values, nested structs, list values, number values and booleans are supported in structured access log format.`,
  );
}

/**
 * Compiles Envoy's `json_format`: an object whose string values are format strings, nested
 * objects and lists allowed. Prints one line of JSON with sorted keys, ending in a newline.
 */
export function compileJsonFormat(json: Readonly<Record<string, unknown>>, options: FormatOptions = {}): Formatter {
  const render = compileJsonValue(json, 'json_format', options.omitEmptyValues === true);
  return { format: (context) => `${render(context) ?? '{}'}\n` };
}

// ---------------------------------------------------------------- SubstitutionFormatString

function readDataSource(source: DataSource): string {
  if (source.inline_string !== undefined) return source.inline_string;
  if (source.inline_bytes !== undefined) return Buffer.from(source.inline_bytes, 'base64').toString('utf8');
  if (source.filename !== undefined) {
    try {
      return readFileSync(source.filename, 'utf8');
    } catch (error) {
      throw new FormatError(`text_format_source: cannot read ${source.filename}: ${(error as Error).message}`);
    }
  }
  if (source.environment_variable !== undefined) {
    const value = process.env[source.environment_variable];
    if (value === undefined) throw new FormatError(`Environment variable doesn't exist: ${source.environment_variable}`);
    return value;
  }
  return '';
}

/**
 * Compiles an Envoy `SubstitutionFormatString` (an access logger's `log_format`): `text_format`,
 * `text_format_source` (inline, file, or environment variable), or `json_format`, with
 * `omit_empty_values`. No config means `defaultFormat`.
 */
export function compileLogFormat(config: SubstitutionFormatString | undefined, defaultFormat: string): Formatter {
  if (config === undefined) return compileFormat(defaultFormat);
  const options: FormatOptions = { omitEmptyValues: config.omit_empty_values };
  if (config.json_format !== undefined) return compileJsonFormat(config.json_format, options);
  if (config.text_format !== undefined) return compileFormat(config.text_format, options);
  if (config.text_format_source !== undefined) return compileFormat(readDataSource(config.text_format_source), options);
  return compileFormat(defaultFormat, options);
}
