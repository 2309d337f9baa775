import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { addressPort, formatAddress, formatAddressWithoutPort, type ConnectionAddress } from '../network/connection-address.js';
import { RESPONSE_FLAGS, type HeaderMap, type StreamInfo } from '../stream-info/stream-info.js';
import { FormatError } from './format-error.js';
import { compileTimeFormat } from './time.js';
import { TLS_FIELDS, TLS_TIME_FIELDS } from './tls-fields.js';

/** What a format string is rendered against. Headers and trailers are read from the StreamInfo. */
export interface FormatContext {
  readonly streamInfo: StreamInfo;
  /** Envoy's AccessLogType name (`TcpConnectionEnd`, `DownstreamEnd`...) for `%ACCESS_LOG_TYPE%`; `NotSet` if absent. */
  readonly accessLogType?: string | undefined;
}

/** One compiled `%OPERATOR%`. */
export interface Operator {
  /** The text, or undefined when the value is missing (printed `-`, or nothing with omit_empty_values). */
  readonly text: (context: FormatContext) => string | undefined;
  /** The value for JSON formats: numbers stay numbers, metadata stays structured; undefined when missing. */
  readonly value: (context: FormatContext) => unknown;
}

// Envoy's CommandSyntaxChecker flags.
const COMMAND_ONLY = 0;
const PARAMS_REQUIRED = 1;
const PARAMS_OPTIONAL = 2;
const LENGTH_ALLOWED = 4;

interface OperatorDefinition {
  readonly syntax: number;
  /** Builds the operator from its argument (`''` if none) and `:Z` length; throws FormatError for a bad argument. */
  readonly create: (argument: string, maxLength: number | undefined) => Operator;
}

/** Builds the operator `command(argument):maxLength`, or returns undefined if there is no such operator. */
export function createOperator(command: string, argument: string, maxLength: number | undefined): Operator | undefined {
  const definition = OPERATORS.get(command);
  if (definition === undefined) return undefined;
  const { syntax } = definition;
  if (syntax === COMMAND_ONLY && (argument !== '' || maxLength !== undefined)) {
    throw new FormatError(`${command} does not take any parameters or length`);
  }
  if ((syntax & PARAMS_REQUIRED) !== 0 && argument === '') {
    throw new FormatError(`${command} requires parameters`);
  }
  if ((syntax & LENGTH_ALLOWED) === 0 && maxLength !== undefined) {
    throw new FormatError(`${command} does not allow length to be specified`);
  }
  return definition.create(argument, maxLength);
}

// ---------------------------------------------------------------- building blocks

type Extract<T> = (context: FormatContext) => T | undefined;

function stringOperator(extract: Extract<string>): Operator {
  return { text: extract, value: extract };
}

function numberOperator(extract: Extract<number>): Operator {
  return {
    text: (context) => {
      const n = extract(context);
      return n === undefined ? undefined : String(n);
    },
    value: extract,
  };
}

/** A value fixed when the format is compiled (`%HOSTNAME%`, `%ENVIRONMENT(X)%`). */
function constantOperator(value: string | undefined): Operator {
  return stringOperator(() => value);
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

function truncator(maxLength: number | undefined): (value: string) => string {
  return maxLength === undefined ? (value) => value : (value) => (value.length > maxLength ? value.slice(0, maxLength) : value);
}

/** Milliseconds between two monotonic instants, truncated as Envoy's duration_cast; undefined if either is unknown. */
function elapsedMs(from: number | undefined, to: number | undefined): number | undefined {
  if (from === undefined || to === undefined || to < from) return undefined;
  return Math.floor(to - from);
}

/** Envoy's StringUtil::replaceAllEmptySpace. */
function underscoreWhitespace(value: string): string {
  let out = '';
  for (const char of value) out += char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f' || char === '\v' ? '_' : char;
  return out;
}

// ---------------------------------------------------------------- addresses

type AddressOf = (info: StreamInfo) => ConnectionAddress | undefined;

function addressOperators(name: string, portName: string | undefined, addressOf: AddressOf): Array<[string, OperatorDefinition]> {
  const definitions: Array<[string, OperatorDefinition]> = [
    [name, commandOnly(() => stringOperator(({ streamInfo }) => mapDefined(addressOf(streamInfo), formatAddress)))],
    [
      `${name}_WITHOUT_PORT`,
      commandOnly(() => stringOperator(({ streamInfo }) => mapDefined(addressOf(streamInfo), formatAddressWithoutPort))),
    ],
  ];
  if (portName !== undefined) {
    definitions.push([
      portName,
      commandOnly(() => ({
        // Envoy prints an empty port for pipes and internal addresses, and null in typed JSON.
        text: ({ streamInfo }) => {
          const address = addressOf(streamInfo);
          if (address === undefined) return undefined;
          const port = addressPort(address);
          return port === undefined ? '' : String(port);
        },
        value: ({ streamInfo }) => mapDefined(addressOf(streamInfo), addressPort),
      })),
    ]);
  }
  return definitions;
}

function mapDefined<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}

// ---------------------------------------------------------------- headers

/** Envoy's header map keeps Host as `:authority`; Node keeps `host` for HTTP/1. Either name finds it. */
const HEADER_ALIASES: Readonly<Record<string, string>> = { ':authority': 'host', host: ':authority' };

/** RFC 9110 token characters, with an optional leading `:` for pseudo-headers. */
const HEADER_NAME = /^:?[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function headerOperator(select: (info: StreamInfo) => HeaderMap | undefined): OperatorDefinition {
  return {
    syntax: PARAMS_REQUIRED | LENGTH_ALLOWED,
    create: (argument, maxLength) => {
      const names = argument.split('?');
      if (names.length > 2) throw new FormatError(`More than 1 alternative header specified in token: ${argument}`);
      const main = (names[0] ?? '').toLowerCase();
      const alternative = (names[1] ?? '').toLowerCase();
      if (!HEADER_NAME.test(main) || (alternative !== '' && !HEADER_NAME.test(alternative))) {
        throw new FormatError('Invalid header configuration. Format string contains invalid characters.');
      }
      const truncate = truncator(maxLength);
      const lookups = [main, HEADER_ALIASES[main], alternative, alternative === '' ? undefined : HEADER_ALIASES[alternative]].filter(
        (name): name is string => name !== undefined && name !== '',
      );
      return stringOperator(({ streamInfo }) => {
        const headers = select(streamInfo);
        if (headers === undefined) return undefined;
        for (const name of lookups) {
          const value = headers[name];
          if (value === undefined) continue;
          return truncate(typeof value === 'string' ? value : value.join(','));
        }
        return undefined;
      });
    },
  };
}

// ---------------------------------------------------------------- metadata and filter state

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON text of a value, or undefined if it has none (a function, a cycle, a BigInt). */
export function toJson(value: unknown): string | undefined {
  try {
    // JSON.stringify returns undefined for undefined, functions and symbols, whatever its declared type says.
    const text: string | undefined = JSON.stringify(value);
    return text;
  } catch {
    return undefined;
  }
}

function dynamicMetadataOperator(argument: string, maxLength: number | undefined): Operator {
  const [namespace = '', ...path] = argument.split(':');
  const truncate = truncator(maxLength);
  const lookup = ({ streamInfo }: FormatContext): unknown => {
    let current: unknown = Object.hasOwn(streamInfo.dynamicMetadata, namespace) ? streamInfo.dynamicMetadata[namespace] : undefined;
    for (const key of path) {
      if (!isPlainObject(current) || !Object.hasOwn(current, key)) return undefined;
      current = current[key];
    }
    // A protobuf null value is no value.
    return current ?? undefined;
  };
  return {
    text: (context) => {
      const value = lookup(context);
      if (value === undefined) return undefined;
      const text = typeof value === 'string' ? value : toJson(value);
      return text === undefined ? undefined : truncate(text);
    },
    value: (context) => {
      const value = lookup(context);
      return typeof value === 'string' ? truncate(value) : value;
    },
  };
}

interface StringSerializable {
  serializeAsString(): string | undefined | null;
}

function hasSerializeAsString(value: unknown): value is StringSerializable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<StringSerializable>).serializeAsString === 'function';
}

/** FILTER_STATE(KEY:PLAIN|TYPED|FIELD:NAME):Z. A throwing object renders as missing, never fails the log line. */
function filterStateOperator(argument: string, maxLength: number | undefined): Operator {
  const [key = '', serialization = 'TYPED', field = ''] = argument.split(':');
  const kind = serialization === '' ? 'TYPED' : serialization;
  if (key === '') throw new FormatError('Invalid filter state configuration, key cannot be empty.');
  if (kind !== 'PLAIN' && kind !== 'TYPED' && kind !== 'FIELD') {
    throw new FormatError('Invalid filter state serialize type, only support PLAIN/TYPED/FIELD.');
  }
  if ((kind === 'FIELD') !== (field !== '')) {
    throw new FormatError('Invalid filter state serialize type, FIELD should be used with the field name.');
  }
  const truncate = truncator(maxLength);
  const stored = ({ streamInfo }: FormatContext): { value: unknown } | undefined => {
    const object = streamInfo.filterState.getObject(key);
    return object === undefined ? undefined : { value: object.value };
  };

  if (kind === 'PLAIN') {
    const plain = (context: FormatContext): string | undefined => {
      const object = stored(context);
      if (object === undefined) return undefined;
      const { value } = object;
      try {
        const text = typeof value === 'string' ? value : hasSerializeAsString(value) ? value.serializeAsString() : toJson(value);
        return typeof text === 'string' ? truncate(text) : undefined;
      } catch {
        return undefined;
      }
    };
    return stringOperator(plain);
  }

  if (kind === 'FIELD') {
    const fieldText = (context: FormatContext): string | undefined => {
      const object = stored(context);
      if (object === undefined) return undefined;
      const { value } = object;
      try {
        const getField = isPlainObject(value) ? value.getField : undefined;
        const fieldValue: unknown =
          typeof getField === 'function' ? (getField as (name: string) => unknown).call(value, field) : isPlainObject(value) && Object.hasOwn(value, field) ? value[field] : undefined;
        if (typeof fieldValue === 'string') return truncate(fieldValue);
        if (typeof fieldValue === 'number' && Number.isInteger(fieldValue)) return truncate(String(fieldValue));
        return undefined;
      } catch {
        return undefined;
      }
    };
    return stringOperator(fieldText);
  }

  return {
    text: (context) => {
      const object = stored(context);
      if (object === undefined) return undefined;
      const text = toJson(object.value);
      return text === undefined ? undefined : truncate(text);
    },
    // Serialized here, not later, so a value with no JSON form is missing rather than `null`.
    value: (context) => {
      const object = stored(context);
      if (object === undefined) return undefined;
      const text = toJson(object.value);
      return text === undefined ? undefined : (JSON.parse(text) as unknown);
    },
  };
}

// ---------------------------------------------------------------- response flags

const FLAG_ORDER = Object.entries(RESPONSE_FLAGS) as Array<[keyof typeof RESPONSE_FLAGS, (typeof RESPONSE_FLAGS)[keyof typeof RESPONSE_FLAGS]]>;

/** Envoy's long names are the flag names, but for one spelling. */
const LONG_NAME_EXCEPTIONS: Partial<Record<keyof typeof RESPONSE_FLAGS, string>> = { DropOverLoad: 'DropOverload' };

function responseFlagsOperator(long: boolean): Operator {
  const names = FLAG_ORDER.map(([name, short]) => [short, long ? (LONG_NAME_EXCEPTIONS[name] ?? name) : short] as const);
  // Envoy prints `-` itself when no flag is set, so omit_empty_values does not hide it.
  return stringOperator(({ streamInfo }) => {
    const flags = streamInfo.responseFlags;
    if (flags.size === 0) return '-';
    let out = '';
    for (const [short, name] of names) {
      if (flags.has(short)) out = out === '' ? name : `${out},${name}`;
    }
    return out;
  });
}

// ---------------------------------------------------------------- the table

function commandOnly(create: () => Operator): OperatorDefinition {
  return { syntax: COMMAND_ONLY, create };
}

function timeOperator(local: boolean, time: (context: FormatContext) => Date | undefined): OperatorDefinition {
  return {
    syntax: PARAMS_OPTIONAL,
    create: (argument) => {
      const render = compileTimeFormat(argument, local);
      return stringOperator((context) => mapDefined(time(context), render));
    },
  };
}

/** `%DOWNSTREAM_<field>%` and `%UPSTREAM_<field>%` for every TLS field (a non-TLS connection prints `-`). */
function tlsOperators(): Array<[string, OperatorDefinition]> {
  const sides = [
    ['DOWNSTREAM', (info: StreamInfo) => info.downstreamTls],
    ['UPSTREAM', (info: StreamInfo) => info.upstreamTls],
  ] as const;
  const entries: Array<[string, OperatorDefinition]> = [];
  for (const [side, tls] of sides) {
    for (const [field, read] of TLS_FIELDS) {
      entries.push([`${side}_${field}`, commandOnly(() => stringOperator(({ streamInfo }) => mapDefined(tls(streamInfo), read)))]);
    }
    for (const [field, read] of TLS_TIME_FIELDS) {
      entries.push([`${side}_${field}`, timeOperator(false, ({ streamInfo }) => mapDefined(tls(streamInfo), read))]);
    }
  }
  return entries;
}

const missing = constantOperator(undefined);

const OPERATORS: ReadonlyMap<string, OperatorDefinition> = new Map<string, OperatorDefinition>([
  ['START_TIME', timeOperator(false, ({ streamInfo }) => streamInfo.startTime)],
  ['START_TIME_LOCAL', timeOperator(true, ({ streamInfo }) => streamInfo.startTime)],
  ['EMIT_TIME', timeOperator(false, () => new Date())],
  ['EMIT_TIME_LOCAL', timeOperator(true, () => new Date())],

  ['DURATION', commandOnly(() => numberOperator(({ streamInfo }) => Math.floor(streamInfo.durationMs())))],
  // StreamInfo does not record the last downstream request byte yet: `-`, as Envoy prints for TCP.
  ['REQUEST_DURATION', commandOnly(() => missing)],
  [
    'RESPONSE_DURATION',
    commandOnly(() => numberOperator(({ streamInfo }) => elapsedMs(streamInfo.startMonotonicMs, streamInfo.firstUpstreamRxByteMonotonicMs))),
  ],
  [
    'RESPONSE_TX_DURATION',
    commandOnly(() =>
      numberOperator(({ streamInfo }) => elapsedMs(streamInfo.firstUpstreamRxByteMonotonicMs, streamInfo.lastDownstreamTxByteMonotonicMs)),
    ),
  ],

  ['BYTES_RECEIVED', commandOnly(() => numberOperator(({ streamInfo }) => streamInfo.bytesReceived))],
  ['BYTES_SENT', commandOnly(() => numberOperator(({ streamInfo }) => streamInfo.bytesSent))],
  ['UPSTREAM_HEADER_BYTES_SENT', commandOnly(() => numberOperator(({ streamInfo }) => streamInfo.upstreamHeaderBytesSent))],
  ['UPSTREAM_HEADER_BYTES_RECEIVED', commandOnly(() => numberOperator(({ streamInfo }) => streamInfo.upstreamHeaderBytesReceived))],
  ['DOWNSTREAM_WIRE_BYTES_SENT', commandOnly(() => numberOperator(({ streamInfo }) => streamInfo.downstreamWireBytesSent))],
  ['DOWNSTREAM_WIRE_BYTES_RECEIVED', commandOnly(() => numberOperator(({ streamInfo }) => streamInfo.downstreamWireBytesReceived))],

  ['PROTOCOL', commandOnly(() => stringOperator(({ streamInfo }) => streamInfo.protocol))],
  ['RESPONSE_CODE', commandOnly(() => numberOperator(({ streamInfo }) => streamInfo.responseCode ?? 0))],
  [
    'RESPONSE_CODE_DETAILS',
    {
      syntax: PARAMS_OPTIONAL,
      create: (argument) => {
        const keepWhitespace = argument === 'ALLOW_WHITESPACES';
        return stringOperator(({ streamInfo }) =>
          mapDefined(streamInfo.responseCodeDetails, keepWhitespace ? (details) => details : underscoreWhitespace),
        );
      },
    },
  ],
  ['CONNECTION_TERMINATION_DETAILS', commandOnly(() => stringOperator(({ streamInfo }) => streamInfo.connectionTerminationDetails))],
  ['RESPONSE_FLAGS', commandOnly(() => responseFlagsOperator(false))],
  ['RESPONSE_FLAGS_LONG', commandOnly(() => responseFlagsOperator(true))],

  ['UPSTREAM_HOST', commandOnly(() => stringOperator(({ streamInfo }) => nonEmpty(streamInfo.upstreamHost)))],
  ['UPSTREAM_CLUSTER', commandOnly(() => stringOperator(({ streamInfo }) => nonEmpty(streamInfo.upstreamCluster)))],
  ...addressOperators('UPSTREAM_LOCAL_ADDRESS', 'UPSTREAM_LOCAL_PORT', (info) => info.upstreamLocalAddress),
  ...addressOperators('UPSTREAM_REMOTE_ADDRESS', 'UPSTREAM_REMOTE_PORT', (info) => info.upstreamRemoteAddress),
  [
    'UPSTREAM_TRANSPORT_FAILURE_REASON',
    commandOnly(() => stringOperator(({ streamInfo }) => mapDefined(nonEmpty(streamInfo.upstreamTransportFailureReason), (r) => r.replaceAll(' ', '_')))),
  ],
  ['UPSTREAM_CONNECTION_ID', commandOnly(() => numberOperator(({ streamInfo }) => streamInfo.upstreamConnectionId ?? 0))],
  ['UPSTREAM_DETECTED_CLOSE_TYPE', commandOnly(() => stringOperator(({ streamInfo }) => streamInfo.upstreamDetectedCloseType))],

  ...addressOperators('DOWNSTREAM_REMOTE_ADDRESS', 'DOWNSTREAM_REMOTE_PORT', (info) => info.downstreamRemoteAddress),
  ...addressOperators('DOWNSTREAM_DIRECT_REMOTE_ADDRESS', 'DOWNSTREAM_DIRECT_REMOTE_PORT', (info) => info.downstreamDirectRemoteAddress),
  ...addressOperators('DOWNSTREAM_LOCAL_ADDRESS', 'DOWNSTREAM_LOCAL_PORT', (info) => info.downstreamLocalAddress),
  ['DOWNSTREAM_DETECTED_CLOSE_TYPE', commandOnly(() => stringOperator(({ streamInfo }) => streamInfo.downstreamDetectedCloseType))],
  ['CONNECTION_ID', commandOnly(() => numberOperator(({ streamInfo }) => streamInfo.connectionId ?? 0))],
  ['REQUESTED_SERVER_NAME', commandOnly(() => stringOperator(({ streamInfo }) => nonEmpty(streamInfo.requestedServerName)))],
  ['ROUTE_NAME', commandOnly(() => stringOperator(({ streamInfo }) => nonEmpty(streamInfo.routeName)))],
  ['VIRTUAL_CLUSTER_NAME', commandOnly(() => stringOperator(({ streamInfo }) => streamInfo.virtualClusterName))],
  ['HOSTNAME', commandOnly(() => constantOperator(hostname()))],
  ['UNIQUE_ID', commandOnly(() => stringOperator(() => randomUUID()))],
  ['ACCESS_LOG_TYPE', commandOnly(() => stringOperator(({ accessLogType }) => accessLogType ?? 'NotSet'))],

  ['REQ', headerOperator((info) => info.requestHeaders)],
  ['RESP', headerOperator((info) => info.responseHeaders)],
  ['TRAILER', headerOperator((info) => info.responseTrailers)],
  // Envoy refuses `:Z` on DYNAMIC_METADATA although its docs show it; il accepts it as documented.
  ['DYNAMIC_METADATA', { syntax: PARAMS_REQUIRED | LENGTH_ALLOWED, create: dynamicMetadataOperator }],
  ['FILTER_STATE', { syntax: PARAMS_OPTIONAL | LENGTH_ALLOWED, create: filterStateOperator }],
  [
    'ENVIRONMENT',
    {
      syntax: PARAMS_REQUIRED | LENGTH_ALLOWED,
      // Read once, as Envoy does. An unset variable prints `-` even with omit_empty_values (Envoy's value, not a missing one).
      create: (name, maxLength) => {
        const value = process.env[name];
        return constantOperator(value === undefined ? '-' : truncator(maxLength)(value));
      },
    },
  ],

  ...tlsOperators(),
]);

/** Every operator name this formatter knows, for documentation and tests. */
export const OPERATOR_NAMES: readonly string[] = [...OPERATORS.keys()];
