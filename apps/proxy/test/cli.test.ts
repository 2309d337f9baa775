import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatVersion, loadFromOptions, parseArgs, runValidate, toCommandLineOptions, usage, type CliOptions } from '../src/cli/index.js';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
const exampleFiles = readdirSync(examples)
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => join(examples, name));

function parsed(argv: string[]): { options: CliOptions; warnings: readonly string[] } {
  const result = parseArgs(argv);
  if (!result.ok) throw new Error(`expected a parse, got exit ${result.exitCode}: ${result.message}`);
  return result;
}

function failed(argv: string[]): { message: string; exitCode: number } {
  const result = parseArgs(argv);
  if (result.ok) throw new Error('expected a failure');
  return result;
}

const tmp = mkdtempSync(join(tmpdir(), 'il-cli-'));
function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('parseArgs', () => {
  it("has Envoy's defaults", () => {
    const { options, warnings } = parsed(['-c', 'x.yaml']);
    expect(options).toEqual({
      configPath: 'x.yaml',
      allowUnknownStaticFields: false,
      mode: 'serve',
      logLevel: 'info',
      componentLogLevels: {},
      logFormat: '[%Y-%m-%d %T.%e][%l][%n] %v',
      logFormatSet: false,
      drainTimeSeconds: 600,
      parentShutdownTimeSeconds: 900,
      drainStrategy: 'gradual',
      baseId: 0,
      concurrency: 1,
    });
    expect(warnings).toEqual([]);
  });

  it('parses every flag, long and short spellings', () => {
    const { options } = parsed([
      '--config-path',
      'a.yaml',
      '--config-yaml',
      'admin: {}',
      '--mode',
      'validate',
      '--log-level',
      'debug',
      '--component-log-level',
      'upstream:debug,config:trace,admin:warn',
      '--log-format',
      'json',
      '--log-path',
      '/tmp/il.log',
      '--admin-address-path',
      '/tmp/admin.addr',
      '--drain-time-s',
      '5',
      '--parent-shutdown-time-s',
      '7',
      '--drain-strategy',
      'immediate',
      '--base-id',
      '3',
      '--concurrency',
      '1',
      '--allow-unknown-static-fields',
      '--service-cluster',
      'front',
      '--service-node',
      'node-1',
      '--service-zone',
      'z1',
    ]);
    expect(options).toEqual({
      configPath: 'a.yaml',
      configYaml: 'admin: {}',
      allowUnknownStaticFields: true,
      mode: 'validate',
      logLevel: 'debug',
      componentLogLevels: { upstream: 'debug', config: 'trace', admin: 'warning' },
      logFormat: 'json',
      logFormatSet: true,
      logPath: '/tmp/il.log',
      adminAddressPath: '/tmp/admin.addr',
      drainTimeSeconds: 5,
      parentShutdownTimeSeconds: 7,
      drainStrategy: 'immediate',
      baseId: 3,
      concurrency: 1,
      serviceCluster: 'front',
      serviceNode: 'node-1',
      serviceZone: 'z1',
    });
    expect(parsed(['-c', 'a.yaml', '-l', 'warn']).options.logLevel).toBe('warning');
    expect(parsed(['--config-path=a.yaml', '--log-level=critical']).options).toMatchObject({ configPath: 'a.yaml', logLevel: 'critical' });
    for (const level of ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off']) {
      expect(parsed(['-c', 'a', '-l', level]).options.logLevel).toBe(level);
    }
  });

  it('accepts --concurrency above 1 with a warning (one event loop), and the deprecated --allow-unknown-fields', () => {
    const { options, warnings } = parsed(['-c', 'a.yaml', '--concurrency', '8', '--allow-unknown-fields']);
    expect(options.concurrency).toBe(8);
    expect(options.allowUnknownStaticFields).toBe(true);
    expect(warnings.join('\n')).toMatch(/--concurrency 8: il-proxy runs one event loop/);
    expect(warnings.join('\n')).toMatch(/--allow-unknown-fields is deprecated/);
  });

  it('a config is required, from -c or --config-yaml', () => {
    expect(parsed(['--config-yaml', 'admin: {}']).options.configYaml).toBe('admin: {}');
    const missing = failed([]);
    expect(missing.exitCode).toBe(1);
    expect(missing.message).toMatch(/a config is required/);
    expect(failed(['--mode', 'validate']).exitCode).toBe(1);
  });

  it('unknown flags, stray arguments and missing values print usage and exit 1', () => {
    for (const argv of [['--bogus'], ['-c', 'a.yaml', '--bogus'], ['-x'], ['-c', 'a.yaml', 'extra'], ['-c'], ['--version=3']]) {
      const result = failed(argv);
      expect(result.exitCode, argv.join(' ')).toBe(1);
      expect(result.message, argv.join(' ')).toMatch(/^error: /);
      expect(result.message, argv.join(' ')).toContain('USAGE');
      expect(result.message, argv.join(' ')).toContain('il-proxy --help');
    }
    expect(failed(['--bogus']).message).toContain("'--bogus'");
  });

  it("bad values get Envoy's error texts", () => {
    expect(failed(['-c', 'a', '--mode', 'init_only']).message).toMatch(/^error: unknown mode 'init_only'/);
    expect(failed(['-c', 'a', '--drain-strategy', 'slow']).message).toMatch(/^error: unknown drain-strategy 'slow'/);
    expect(failed(['-c', 'a', '-l', 'loud']).message).toMatch(/^error: invalid log level specified 'loud'/);
    expect(failed(['-c', 'a', '--component-log-level', 'upstream']).message).toMatch(/^error: component log level not correctly specified 'upstream'/);
    expect(failed(['-c', 'a', '--component-log-level', 'upstream:loud']).message).toMatch(/^error: invalid log level specified 'loud'/);
    expect(failed(['-c', 'a', '--component-log-level', 'nope:debug']).message).toMatch(/^error: invalid component specified 'nope'/);
    for (const flag of ['--drain-time-s', '--parent-shutdown-time-s', '--base-id', '--concurrency']) {
      for (const value of ['-1', 'ten', '1.5', '4294967296']) {
        const result = failed(['-c', 'a', `${flag}=${value}`]);
        expect(result.exitCode).toBe(1);
        expect(result.message).toMatch(/must be an unsigned 32-bit integer/);
      }
    }
  });

  it('--help prints the usage of every flag and exits 0; --version exits 0, without a config', () => {
    const help = failed(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.message).toBe(usage());
    for (const flag of [
      '--config-path',
      '--config-yaml',
      '--mode',
      '--log-level',
      '--component-log-level',
      '--log-format',
      '--log-path',
      '--drain-time-s',
      '--parent-shutdown-time-s',
      '--drain-strategy',
      '--base-id',
      '--concurrency',
      '--version',
      '--help',
    ]) {
      expect(help.message).toContain(flag);
    }
    expect(help.message).toContain('-c <path>');
    expect(help.message).toContain('Default is 600');
    expect(failed(['-h']).exitCode).toBe(0);
    const version = failed(['--version']);
    expect(version).toEqual({ ok: false, message: formatVersion(), exitCode: 0 });
  });
});

describe('formatVersion', () => {
  it('names il-proxy, Node.js and the Envoy API it follows', () => {
    expect(formatVersion()).toMatch(/^il-proxy version: il-proxy\/\d+\.\d+\.\d+[^/]*\/Node\.js v\d+\.\d+\.\d+\/envoy-api-v3\n$/);
    expect(formatVersion()).toContain(process.version);
  });
});

describe('toCommandLineOptions', () => {
  it("is Envoy's CommandLineOptions JSON", () => {
    const { options } = parsed(['-c', 'a.yaml', '--component-log-level', 'upstream:debug', '--drain-time-s', '30']);
    expect(toCommandLineOptions(options)).toMatchObject({
      config_path: 'a.yaml',
      mode: 'Serve',
      log_level: 'info',
      component_log_level: 'upstream:debug',
      drain_time: '30s',
      parent_shutdown_time: '900s',
      drain_strategy: 'Gradual',
    });
  });
});

describe('runValidate', () => {
  it.each(exampleFiles)('accepts the example %s', (path) => {
    const result = runValidate(parsed(['--mode', 'validate', '-c', path]).options);
    expect(result.output).toMatch(new RegExp(`configuration '${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' OK\\n$`));
    expect(result.exitCode).toBe(0);
  });

  it('there are examples to validate', () => {
    expect(exampleFiles.length).toBeGreaterThanOrEqual(3);
  });

  it('prints every issue of a broken config with file:line:col, and exits 1', () => {
    const path = file(
      'broken.yaml',
      [
        'static_resources:',
        '  listeners:',
        '  - name: listener_0',
        '    address:',
        '      socket_address: { address: 127.0.0.1, port_value: 99999 }',
        '    bogus_field: 1',
        '    filter_chains: []',
        '  clusters:',
        '  - name: cluster_0',
        '    connect_timeout: soon',
        '',
      ].join('\n'),
    );
    const result = runValidate({ configPath: path, allowUnknownStaticFields: false });
    expect(result.exitCode).toBe(1);
    const lines = result.output.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^error initializing configuration '.*broken\\.yaml': \\d+ issues$`));
    const issues = lines.slice(1);
    expect(issues.length).toBeGreaterThanOrEqual(3);
    for (const issue of issues) expect(issue).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
    expect(result.output).toMatch(/broken\.yaml:5:\d+: .*port_value/);
    expect(result.output).toMatch(/broken\.yaml:6:5: .*bogus_field: unknown field/);
    expect(result.output).toMatch(/broken\.yaml:10:\d+: .*connect_timeout/);
  });

  it('an unreadable file is one issue naming the file', () => {
    const result = runValidate({ configPath: join(tmp, 'missing.yaml'), allowUnknownStaticFields: false });
    expect(result.exitCode).toBe(1);
    expect(result.output).toMatch(/missing\.yaml: cannot read the config file/);
  });

  it('--allow-unknown-static-fields turns unknown fields into warnings', () => {
    const path = file('unknown.yaml', 'admin:\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 9901 }\nsurprise: 1\n');
    expect(runValidate({ configPath: path, allowUnknownStaticFields: false }).exitCode).toBe(1);
    const result = runValidate({ configPath: path, allowUnknownStaticFields: true });
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/^warning: .*unknown\.yaml:4:1: surprise: unknown field\b/m);
    expect(result.output).toMatch(/OK\n$/);
  });

  it('merges --config-yaml over the file, as Envoy does', () => {
    const base = exampleFiles.find((path) => path.endsWith('tunnel.yaml')) as string;
    const overlay = 'admin:\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 19901 }\n';
    const { options } = parsed(['-c', base, '--config-yaml', overlay]);
    const loaded = loadFromOptions(options);
    expect(loaded.bootstrap.admin?.address).toMatchObject({ socket_address: { address: '127.0.0.1', port_value: 19901 } });
    // Lists merge by appending, as protobuf's MergeFrom does: the file's listeners stay.
    expect(loaded.bootstrap.static_resources.listeners.length).toBeGreaterThan(0);
    expect(runValidate(options)).toMatchObject({ exitCode: 0 });

    const broken = runValidate({ configPath: base, configYaml: 'admin:\n  nonsense: true\n', allowUnknownStaticFields: false });
    expect(broken.exitCode).toBe(1);
    expect(broken.output).toMatch(/^--config-yaml:2:3: admin\.nonsense: unknown field\b/m);
  });

  it('catches what start-up would refuse: unknown %OPERATOR%s in an access log, a tunneling hostname and request_headers_to_add, each with file:line:col and path', () => {
    const filters = (typed: string): string => `    - filters:\n      - name: f\n        typed_config:\n${typed.replace(/^/gm, '          ')}\n`;
    const path = file(
      'start-time.yaml',
      [
        'static_resources:',
        '  listeners:',
        '  - name: tcp',
        '    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }',
        '    filter_chains:',
        filters(
          [
            '"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
            'stat_prefix: t',
            'cluster: c',
            'tunneling_config: { hostname: "%NOT_AN_OPERATOR%:443" }',
            'access_log:',
            '- name: log',
            '  typed_config:',
            '    "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
            '    log_format: { text_format_source: { inline_string: "%ALSO_NOT%" } }',
          ].join('\n'),
        ).trimEnd(),
        '  - name: http',
        '    address: { socket_address: { address: 127.0.0.1, port_value: 10001 } }',
        '    filter_chains:',
        filters(
          [
            '"@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            'stat_prefix: h',
            'http_filters: [{ name: r, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]',
            'route_config:',
            '  request_headers_to_add: [{ header: { key: x-a, value: "%NOR_THIS%" } }]',
            '  virtual_hosts: [{ name: v, domains: ["*"], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }]',
          ].join('\n'),
        ).trimEnd(),
        '  clusters:',
        '  - { name: c, load_assignment: { cluster_name: c, endpoints: [] } }',
      ].join('\n'),
    );
    const result = runValidate(parsed(['--mode', 'validate', '-c', path]).options);
    expect(result.exitCode).toBe(1);
    const lines = result.output.trimEnd().split('\n');
    expect(lines[0]).toBe(`error initializing configuration '${path}': 3 issues`);
    const tcp = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
    const http = 'static_resources.listeners[1].filter_chains[0].filters[0].typed_config';
    expect(lines.slice(1)).toEqual([
      `${path}:12:41: ${tcp}.tunneling_config.hostname: Not supported field in StreamInfo: NOT_AN_OPERATOR (at position 0)`,
      `${path}:16:15: ${tcp}.access_log[0].typed_config: Not supported field in StreamInfo: ALSO_NOT (at position 0)`,
      `${path}:28:67: ${http}.route_config.request_headers_to_add[0].header.value: Not supported field in StreamInfo: NOR_THIS (at position 0)`,
    ]);
  });

  it('validates --config-yaml alone', () => {
    const result = runValidate(parsed(['--mode', 'validate', '--config-yaml', 'admin:\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 9901 }\n']).options);
    expect(result).toEqual({ exitCode: 0, output: "configuration '--config-yaml' OK\n" });
  });
});
