import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import {
  compileFormat,
  compileJsonFormat,
  compileLogFormat,
  DEFAULT_HTTP_ACCESS_LOG_FORMAT,
  FormatError,
  StreamInfo,
  type FormatContext,
} from '../src/index.js';
import { OPERATOR_NAMES } from '../src/formatter/operators.js';

const START = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));

/** A StreamInfo with every field set, and each address kind used somewhere. */
function filledStreamInfo(): StreamInfo {
  const info = new StreamInfo({ startTime: START });
  info.endMonotonicMs = info.startMonotonicMs + 1234.9;
  info.firstUpstreamRxByteMonotonicMs = info.startMonotonicMs + 10.9;
  info.lastDownstreamTxByteMonotonicMs = info.startMonotonicMs + 20;
  info.connectionId = 42;
  info.downstreamRemoteAddress = { kind: 'ip', ip: '192.0.2.1', port: 54321 };
  info.downstreamDirectRemoteAddress = { kind: 'pipe', path: '/tmp/il.sock' };
  info.downstreamLocalAddress = { kind: 'internal', address: 'envoy://internal_listener/conn-1' };
  info.requestedServerName = 'example.com';
  info.downstreamDetectedCloseType = 'Normal';
  info.upstreamCluster = 'backend';
  info.upstreamHost = '10.0.0.2:8080';
  info.upstreamLocalAddress = { kind: 'ip', ip: '2001:db8::1', port: 40000 };
  info.upstreamRemoteAddress = { kind: 'ip', ip: '10.0.0.2', port: 8080 };
  info.upstreamConnectionId = 7;
  info.upstreamTransportFailureReason = 'delayed connect error: 111';
  info.upstreamDetectedCloseType = 'RemoteReset';
  info.upstreamHeaderBytesSent = 30;
  info.upstreamHeaderBytesReceived = 40;
  info.bytesReceived = 100;
  info.bytesSent = 200;
  info.downstreamWireBytesReceived = 150;
  info.downstreamWireBytesSent = 250;
  info.protocol = 'HTTP/1.1';
  info.responseCode = 503;
  info.responseCodeDetails = 'upstream reset: connection failure';
  info.routeName = 'default_route';
  info.virtualClusterName = 'vc';
  info.connectionTerminationDetails = 'idle timeout';
  info.requestHeaders = {
    ':method': 'GET',
    ':path': '/status',
    host: 'example.com',
    'user-agent': 'curl/8.5.0',
    'x-request-id': 'req-1',
  };
  info.responseHeaders = { 'set-cookie': ['a=1', 'b=2'], 'x-envoy-upstream-service-time': '5' };
  info.responseTrailers = { 'grpc-status': '0' };
  // Set out of Envoy's order on purpose.
  info.setResponseFlag('DR');
  info.setResponseFlag('UF');
  info.setResponseFlag('LH');
  info.dynamicMetadata['envoy.lb'] = { version: 'v1', canary: true, weight: 2.5, nested: { n: 1, list: [1, 'a'] }, nothing: null };
  info.filterState.set('str', 'plain value');
  info.filterState.set('obj', { a: 1, serializeAsString: () => 'from serializeAsString' });
  info.filterState.set('struct', { b: [true, null] });
  info.filterState.set('fields', { port: 443, name: 'svc', ratio: 0.5 });
  info.filterState.set('throws', {
    serializeAsString: () => {
      throw new Error('boom');
    },
  });
  info.filterState.set('bigint', 10n);
  return info;
}

const render = (format: string, context: Partial<FormatContext> = {}, omitEmptyValues = false): string =>
  compileFormat(format, { omitEmptyValues }).format({ streamInfo: context.streamInfo ?? filledStreamInfo(), ...context });

afterEach(() => {
  delete process.env.IL_FORMATTER_TEST;
});

// Every operator, against the filled StreamInfo: [format, expected text].
const EXPECTED: Array<[string, string | RegExp]> = [
  ['%START_TIME%', '2024-01-02T03:04:05.678Z'],
  ['%START_TIME_LOCAL%', /^2024-01-02T\d\d:\d\d:05\.678[+-]\d{4}$/],
  ['%EMIT_TIME%', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/],
  ['%EMIT_TIME_LOCAL(%Y)%', String(new Date().getFullYear())],
  ['%DURATION%', '1234'],
  ['%REQUEST_DURATION%', '-'],
  ['%RESPONSE_DURATION%', '10'],
  ['%RESPONSE_TX_DURATION%', '9'],
  ['%BYTES_RECEIVED%', '100'],
  ['%BYTES_SENT%', '200'],
  ['%UPSTREAM_HEADER_BYTES_SENT%', '30'],
  ['%UPSTREAM_HEADER_BYTES_RECEIVED%', '40'],
  ['%DOWNSTREAM_WIRE_BYTES_SENT%', '250'],
  ['%DOWNSTREAM_WIRE_BYTES_RECEIVED%', '150'],
  ['%PROTOCOL%', 'HTTP/1.1'],
  ['%RESPONSE_CODE%', '503'],
  ['%RESPONSE_CODE_DETAILS%', 'upstream_reset:_connection_failure'],
  ['%RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)%', 'upstream reset: connection failure'],
  ['%CONNECTION_TERMINATION_DETAILS%', 'idle timeout'],
  ['%RESPONSE_FLAGS%', 'LH,UF,DR'],
  ['%RESPONSE_FLAGS_LONG%', 'FailedLocalHealthCheck,UpstreamConnectionFailure,DownstreamRemoteReset'],
  ['%UPSTREAM_HOST%', '10.0.0.2:8080'],
  ['%UPSTREAM_CLUSTER%', 'backend'],
  // IPv6
  ['%UPSTREAM_LOCAL_ADDRESS%', '[2001:db8::1]:40000'],
  ['%UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%', '2001:db8::1'],
  ['%UPSTREAM_LOCAL_PORT%', '40000'],
  // IPv4
  ['%UPSTREAM_REMOTE_ADDRESS%', '10.0.0.2:8080'],
  ['%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', '10.0.0.2'],
  ['%UPSTREAM_REMOTE_PORT%', '8080'],
  ['%UPSTREAM_TRANSPORT_FAILURE_REASON%', 'delayed_connect_error:_111'],
  ['%UPSTREAM_CONNECTION_ID%', '7'],
  ['%UPSTREAM_DETECTED_CLOSE_TYPE%', 'RemoteReset'],
  ['%DOWNSTREAM_REMOTE_ADDRESS%', '192.0.2.1:54321'],
  ['%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', '192.0.2.1'],
  ['%DOWNSTREAM_REMOTE_PORT%', '54321'],
  // A pipe: the path, with or without port; no port.
  ['%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%', '/tmp/il.sock'],
  ['%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%', '/tmp/il.sock'],
  ['%DOWNSTREAM_DIRECT_REMOTE_PORT%', ''],
  // An internal address prints whole, even _WITHOUT_PORT, as Envoy does.
  ['%DOWNSTREAM_LOCAL_ADDRESS%', 'envoy://internal_listener/conn-1'],
  ['%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%', 'envoy://internal_listener/conn-1'],
  ['%DOWNSTREAM_LOCAL_PORT%', ''],
  ['%DOWNSTREAM_DETECTED_CLOSE_TYPE%', 'Normal'],
  ['%CONNECTION_ID%', '42'],
  ['%REQUESTED_SERVER_NAME%', 'example.com'],
  ['%ROUTE_NAME%', 'default_route'],
  ['%VIRTUAL_CLUSTER_NAME%', 'vc'],
  ['%HOSTNAME%', hostname()],
  ['%UNIQUE_ID%', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/],
  ['%ACCESS_LOG_TYPE%', 'NotSet'],
  ['%REQ(:METHOD)%', 'GET'],
  ['%REQ(X-MISSING?USER-AGENT)%', 'curl/8.5.0'],
  ['%REQ(USER-AGENT):4%', 'curl'],
  // HTTP/1 requests keep Host; Envoy calls it :authority.
  ['%REQ(:AUTHORITY)%', 'example.com'],
  ['%RESP(Set-Cookie)%', 'a=1,b=2'],
  ['%RESP(SET-COOKIE):5%', 'a=1,b'],
  ['%TRAILER(GRPC-STATUS)%', '0'],
  ['%DYNAMIC_METADATA(envoy.lb)%', '{"version":"v1","canary":true,"weight":2.5,"nested":{"n":1,"list":[1,"a"]},"nothing":null}'],
  ['%DYNAMIC_METADATA(envoy.lb:version)%', 'v1'],
  ['%DYNAMIC_METADATA(envoy.lb:canary)%', 'true'],
  ['%DYNAMIC_METADATA(envoy.lb:weight)%', '2.5'],
  ['%DYNAMIC_METADATA(envoy.lb:nested)%', '{"n":1,"list":[1,"a"]}'],
  ['%DYNAMIC_METADATA(envoy.lb:nested:n)%', '1'],
  ['%DYNAMIC_METADATA(envoy.lb:nested:list)%', '[1,"a"]'],
  ['%DYNAMIC_METADATA(envoy.lb:nested:missing)%', '-'],
  ['%DYNAMIC_METADATA(envoy.lb:nothing)%', '-'],
  ['%DYNAMIC_METADATA(envoy.lb:version:deeper)%', '-'],
  ['%DYNAMIC_METADATA(other)%', '-'],
  ['%DYNAMIC_METADATA(envoy.lb:nested):4%', '{"n"'],
  ['%FILTER_STATE(str)%', '"plain value"'],
  ['%FILTER_STATE(str:TYPED)%', '"plain value"'],
  ['%FILTER_STATE(str:PLAIN)%', 'plain value'],
  ['%FILTER_STATE(str:PLAIN):5%', 'plain'],
  ['%FILTER_STATE(obj:PLAIN)%', 'from serializeAsString'],
  ['%FILTER_STATE(obj:TYPED)%', '{"a":1}'],
  ['%FILTER_STATE(struct:PLAIN)%', '{"b":[true,null]}'],
  ['%FILTER_STATE(struct:TYPED)%', '{"b":[true,null]}'],
  ['%FILTER_STATE(fields:FIELD:port)%', '443'],
  ['%FILTER_STATE(fields:FIELD:name)%', 'svc'],
  ['%FILTER_STATE(fields:FIELD:ratio)%', '-'],
  ['%FILTER_STATE(throws:PLAIN)%', '-'],
  ['%FILTER_STATE(bigint:TYPED)%', '-'],
  ['%FILTER_STATE(absent)%', '-'],
  ['%ENVIRONMENT(IL_FORMATTER_UNSET_VARIABLE)%', '-'],
  ['%DOWNSTREAM_PEER_SUBJECT%', '-'],
  ['%UPSTREAM_PEER_CERT_V_START(%Y)%', '-'],
];

describe('operators against a filled StreamInfo', () => {
  it.each(EXPECTED)('%s', (format, expected) => {
    const text = render(format);
    if (typeof expected === 'string') expect(text).toBe(expected);
    else expect(text).toMatch(expected);
  });

  it('every operator the formatter knows is checked above, or is a TLS operator that prints -', () => {
    const checked = new Set(EXPECTED.map(([format]) => /^%([A-Z0-9_]+)/.exec(format)?.[1]));
    const unchecked = OPERATOR_NAMES.filter((name) => !checked.has(name));
    for (const name of unchecked) {
      expect(name).toMatch(/_(PEER|LOCAL|TLS)_/);
      expect(render(`%${name}%`)).toBe('-');
    }
  });

  it('reads ENVIRONMENT once, when the format is compiled, and truncates it', () => {
    process.env.IL_FORMATTER_TEST = 'value-at-compile';
    const formatter = compileFormat('%ENVIRONMENT(IL_FORMATTER_TEST)% %ENVIRONMENT(IL_FORMATTER_TEST):5%');
    process.env.IL_FORMATTER_TEST = 'changed';
    expect(formatter.format({ streamInfo: new StreamInfo() })).toBe('value-at-compile value');
  });

  it('prints the access log type it is given', () => {
    expect(render('%ACCESS_LOG_TYPE%', { accessLogType: 'TcpConnectionEnd' })).toBe('TcpConnectionEnd');
  });

  it('prints DropOverLoad under its Envoy long name', () => {
    const info = new StreamInfo();
    info.setResponseFlag('DO');
    expect(render('%RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG%', { streamInfo: info })).toBe('DO DropOverload');
  });

  it('prints the alternative header only when the main one is absent', () => {
    const info = filledStreamInfo();
    info.requestHeaders = { ':path': '/rewritten', 'x-envoy-original-path': '/original' };
    expect(render('%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%', { streamInfo: info })).toBe('/original');
    info.requestHeaders = { ':path': '/rewritten' };
    expect(render('%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%', { streamInfo: info })).toBe('/rewritten');
  });

  it('keeps an empty header value (present, not missing)', () => {
    const info = filledStreamInfo();
    info.requestHeaders = { 'x-empty': '' };
    expect(render('[%REQ(X-EMPTY)%]', { streamInfo: info })).toBe('[]');
  });
});

describe('missing values', () => {
  const empty = (): StreamInfo => new StreamInfo({ startTime: START });

  it('print - , except counters, which are 0 as in Envoy', () => {
    const format =
      '%PROTOCOL%|%RESPONSE_CODE%|%RESPONSE_CODE_DETAILS%|%RESPONSE_FLAGS%|%BYTES_RECEIVED%|%CONNECTION_ID%|%UPSTREAM_CONNECTION_ID%|' +
      '%UPSTREAM_HOST%|%UPSTREAM_CLUSTER%|%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_REMOTE_PORT%|%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|' +
      '%REQ(:METHOD)%|%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%|%TRAILER(GRPC-STATUS)%|%RESPONSE_DURATION%|%ROUTE_NAME%|%REQUESTED_SERVER_NAME%|' +
      '%DOWNSTREAM_DETECTED_CLOSE_TYPE%|%UPSTREAM_TRANSPORT_FAILURE_REASON%|%DYNAMIC_METADATA(a:b)%|%FILTER_STATE(k:PLAIN)%';
    expect(render(format, { streamInfo: empty() })).toBe('-|0|-|-|0|0|0|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-');
  });

  it('print nothing with omit_empty_values, but RESPONSE_FLAGS and an unset ENVIRONMENT keep Envoy’s own -', () => {
    expect(render('[%PROTOCOL%][%REQ(:METHOD)%][%RESPONSE_FLAGS%][%ENVIRONMENT(IL_FORMATTER_UNSET_VARIABLE)%][%RESPONSE_CODE%]', { streamInfo: empty() }, true)).toBe(
      '[][][-][-][0]',
    );
  });

  it('prints an unfinished stream’s duration so far', () => {
    const info = empty();
    expect(Number(render('%DURATION%', { streamInfo: info }))).toBeGreaterThanOrEqual(0);
    info.endMonotonicMs = info.startMonotonicMs + 3.99;
    expect(render('%DURATION%', { streamInfo: info })).toBe('3');
  });
});

describe('literal text and %%', () => {
  it('prints %% as % and keeps text around operators', () => {
    expect(render('100%% of %PROTOCOL% %%done%%')).toBe('100% of HTTP/1.1 %done%');
  });

  it('prints a format with no operator unchanged, and an empty format as nothing', () => {
    expect(render('plain text\n')).toBe('plain text\n');
    expect(render('')).toBe('');
  });
});

describe('START_TIME formats', () => {
  it.each([
    ['%START_TIME(%Y/%m/%dT%H:%M:%S%z)%', '2024/01/02T03:04:05+0000'],
    ['%START_TIME(%s)%', '1704164645'],
    ['%START_TIME(%s.%3f)%', '1704164645.678'],
    ['%START_TIME(%s.%6f)%', '1704164645.678000'],
    ['%START_TIME(%s.%9f)%', '1704164645.678000000'],
    ['%START_TIME(%f)%', '678000000'],
    ['%START_TIME(%1f|%2f)%', '6|67'],
    ['%START_TIME(%e|%d)%', ' 2|02'],
    ['%START_TIME(%E3S|%E*S|%Ez)%', '05.678|05.678|+00:00'],
    ['%START_TIME(%a %b %j %T %F %D %y %I%p %%)%', 'Tue Jan 002 03:04:05 2024-01-02 01/02/24 24 03AM %'],
    ['%START_TIME(%q stays)%', '%q stays'],
  ])('%s', (format, expected) => {
    expect(render(format)).toBe(expected);
  });

  it('prints START_TIME_LOCAL in the process time zone', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
    try {
      expect(render('%START_TIME_LOCAL%')).toBe('2024-01-02T08:34:05.678+0530');
      expect(render('%START_TIME_LOCAL(%H:%M %z %Ez)%')).toBe('08:34 +0530 +05:30');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('bad formats', () => {
  const error = (format: string): FormatError => {
    try {
      compileFormat(format);
    } catch (caught) {
      expect(caught).toBeInstanceOf(FormatError);
      return caught as FormatError;
    }
    throw new Error(`${format} compiled`);
  };

  it.each([
    ['%FOO%', 'Not supported field in StreamInfo: FOO (at position 0)'],
    ['[%START_TIME%] %BYTES% x', 'Not supported field in StreamInfo: BYTES (at position 15)'],
    ['abc %START_TIME', "Incorrect configuration: abc %START_TIME. Couldn't find valid command at position 4"],
    ['%start_time%', "Incorrect configuration: %start_time%. Couldn't find valid command at position 0"],
    ['50%', "Incorrect configuration: 50%. Couldn't find valid command at position 2"],
    ['%REQ%', 'REQ requires parameters (at position 0)'],
    ['x %REQ()%', 'REQ requires parameters (at position 2)'],
    ['%PROTOCOL(x)%', 'PROTOCOL does not take any parameters or length (at position 0)'],
    ['%BYTES_SENT:3%', 'BYTES_SENT does not take any parameters or length (at position 0)'],
    ['%START_TIME(%s):3%', 'START_TIME does not allow length to be specified (at position 0)'],
    ['%REQ(A?B?C)%', 'More than 1 alternative header specified in token: A?B?C (at position 0)'],
    ['%REQ(BAD HEADER)%', 'Invalid header configuration. Format string contains invalid characters. (at position 0)'],
    ['%FILTER_STATE%', 'Invalid filter state configuration, key cannot be empty. (at position 0)'],
    ['%FILTER_STATE(k:XML)%', 'Invalid filter state serialize type, only support PLAIN/TYPED/FIELD. (at position 0)'],
    ['%FILTER_STATE(k:FIELD)%', 'Invalid filter state serialize type, FIELD should be used with the field name. (at position 0)'],
    ['%START_TIME(%Y%n)%', 'Invalid header configuration. Format string contains newline. (at position 0)'],
  ])('%s', (format, message) => {
    expect(error(format).message).toBe(message);
  });

  it('names the operator and its position', () => {
    const caught = error('ok %NOPE(x)%');
    expect(caught.operator).toBe('NOPE');
    expect(caught.position).toBe(3);
  });

  it('names the JSON field of a bad value', () => {
    expect(() => compileJsonFormat({ a: { b: ['%NOPE%'] } })).toThrow('json_format.a.b[0]: Not supported field in StreamInfo: NOPE (at position 0)');
    expect(() => compileJsonFormat({ a: undefined })).toThrow(FormatError);
  });
});

describe('JSON formats', () => {
  const jsonFormat = {
    code: '%RESPONSE_CODE%',
    text: 'code=%RESPONSE_CODE%',
    protocol: '%PROTOCOL%',
    literal: 'plain',
    percent: '100%%',
    number: 7,
    flag: false,
    missing: '%RESP(X-MISSING)%',
    missingInText: 'a%RESP(X-MISSING)%b',
    nested: { bytes: '%BYTES_SENT%', metadata: '%DYNAMIC_METADATA(envoy.lb:nested)%', state: '%FILTER_STATE(struct)%' },
    list: ['%UPSTREAM_HOST%', '%UPSTREAM_REMOTE_PORT%', 1],
    port: '%DOWNSTREAM_LOCAL_PORT%',
    quote: '%REQ(X-QUOTE)%',
  };

  it('keeps a lone operator’s type, makes anything else a string, and sorts keys', () => {
    const info = filledStreamInfo();
    info.requestHeaders = { 'x-quote': 'say "hi"\n' };
    const line = compileJsonFormat(jsonFormat).format({ streamInfo: info });
    expect(line).toBe(
      '{"code":503,"flag":false,"list":["10.0.0.2:8080",8080,1],"literal":"plain","missing":null,"missingInText":"a-b",' +
        '"nested":{"bytes":200,"metadata":{"n":1,"list":[1,"a"]},"state":{"b":[true,null]}},"number":7,"percent":"100%",' +
        '"port":null,"protocol":"HTTP/1.1","quote":"say \\"hi\\"\\n","text":"code=503"}\n',
    );
    expect(JSON.parse(line)).toMatchObject({ code: 503, nested: { bytes: 200 } });
  });

  it('leaves out missing values with omit_empty_values, and prints them empty inside text', () => {
    const line = compileJsonFormat(
      { a: '%PROTOCOL%', b: 'x%PROTOCOL%y', c: { d: '%UPSTREAM_HOST%' }, e: '%RESPONSE_CODE%' },
      { omitEmptyValues: true },
    ).format({ streamInfo: new StreamInfo() });
    expect(line).toBe('{"b":"xy","c":{},"e":0}\n');
  });

  it('never fails a line for a value with no JSON form', () => {
    const line = compileJsonFormat({ big: '%FILTER_STATE(bigint)%' }).format({ streamInfo: filledStreamInfo() });
    expect(line).toBe('{"big":null}\n');
  });
});

describe('the default HTTP format', () => {
  it('prints Envoy’s line for a typical request', () => {
    const info = filledStreamInfo();
    info.responseCode = 200;
    info.responseFlags.clear();
    info.requestHeaders = {
      ':method': 'GET',
      ':path': '/status',
      ':authority': 'example.com',
      'user-agent': 'curl/8.5.0',
      'x-request-id': '3e1f6a52-5b8a-4e0b-9a53-4c5e8f3a9d10',
      'x-forwarded-for': '192.0.2.1',
    };
    info.responseHeaders = { 'x-envoy-upstream-service-time': '5' };
    expect(compileFormat(DEFAULT_HTTP_ACCESS_LOG_FORMAT).format({ streamInfo: info })).toBe(
      '[2024-01-02T03:04:05.678Z] "GET /status HTTP/1.1" 200 - 100 200 1234 5 "192.0.2.1" "curl/8.5.0" ' +
        '"3e1f6a52-5b8a-4e0b-9a53-4c5e8f3a9d10" "example.com" "10.0.0.2:8080"\n',
    );
  });
});

describe('compileLogFormat (SubstitutionFormatString)', () => {
  const base = { omit_empty_values: false, content_type: '' };
  const streamInfo = filledStreamInfo();

  it('uses the default format without a config', () => {
    expect(compileLogFormat(undefined, '%PROTOCOL% default\n').format({ streamInfo })).toBe('HTTP/1.1 default\n');
  });

  it('compiles text_format, text_format_source and json_format, with omit_empty_values', () => {
    expect(compileLogFormat({ ...base, text_format: '%RESPONSE_CODE%|%ROUTE_NAME%' }, '').format({ streamInfo })).toBe('503|default_route');
    expect(compileLogFormat({ ...base, text_format_source: { inline_string: 'inline %CONNECTION_ID%' } }, '').format({ streamInfo })).toBe(
      'inline 42',
    );
    expect(
      compileLogFormat({ ...base, text_format_source: { inline_bytes: Buffer.from('bytes %BYTES_SENT%').toString('base64') } }, '').format({
        streamInfo,
      }),
    ).toBe('bytes 200');
    expect(compileLogFormat({ ...base, json_format: { code: '%RESPONSE_CODE%' } }, '').format({ streamInfo })).toBe('{"code":503}\n');
    expect(
      compileLogFormat({ ...base, omit_empty_values: true, text_format: '[%REQ(X-NONE)%]' }, '').format({ streamInfo }),
    ).toBe('[]');
  });

  it('refuses a bad format when compiled', () => {
    expect(() => compileLogFormat({ ...base, text_format: '%NOPE%' }, '')).toThrow('Not supported field in StreamInfo: NOPE (at position 0)');
  });
});
