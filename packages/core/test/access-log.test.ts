import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type AccessLog } from '@il/config';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessLogFileManager, createAccessLoggers, FormatError, StreamInfo, Store } from '../src/index.js';
import { turns } from './helpers.js';

const FILE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const STDOUT = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
const STDERR = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog';

function fileLog(path: string, textFormat: string, name = ''): AccessLog {
  return { name, typed_config: { '@type': FILE, path, log_format: { text_format: textFormat, omit_empty_values: false, content_type: '' } } };
}

/** A request-like StreamInfo whose connection id identifies the line. */
function info(id: number): StreamInfo {
  const streamInfo = new StreamInfo();
  streamInfo.connectionId = id;
  streamInfo.protocol = 'HTTP/1.1';
  streamInfo.responseCode = 200;
  return streamInfo;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'il-access-log-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').slice(0, -1);

describe('file access logs', () => {
  it('writes exactly the formatted lines, in order, from loggers sharing one file', async () => {
    const path = join(dir, 'access.log');
    const manager = new AccessLogFileManager({ flushMinSizeBytes: 4096 });
    const [a, b] = createAccessLoggers([fileLog(path, 'a %CONNECTION_ID% %RESPONSE_CODE%\n'), fileLog(path, 'b %CONNECTION_ID% %PROTOCOL%\n')], {
      defaultFormat: '',
      fileManager: manager,
    });
    if (a === undefined || b === undefined) throw new Error('two loggers expected');
    expect(manager.paths()).toEqual([path]);

    const expected: string[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) {
        a.log({ streamInfo: info(i) });
        expected.push(`a ${i} 200`);
      } else {
        b.log({ streamInfo: info(i) });
        expected.push(`b ${i} HTTP/1.1`);
      }
      // Let batches reach the disk while lines keep coming.
      if (i % 97 === 0) await turns(1);
    }
    await a.close();
    // The file stays open for the other logger.
    b.log({ streamInfo: info(1000) });
    expected.push('b 1000 HTTP/1.1');
    await b.close();

    expect(lines(path)).toEqual(expected);
    expect(manager.paths()).toEqual([]);
  });

  it('returns from log() before anything is written, and writes it all on close', async () => {
    const path = join(dir, 'buffered.log');
    const [logger] = createAccessLoggers([fileLog(path, '%CONNECTION_ID%\n')], {
      defaultFormat: '',
      fileManager: new AccessLogFileManager({ flushIntervalMs: 60_000 }),
    });
    for (let i = 0; i < 10; i++) logger?.log({ streamInfo: info(i) });
    await turns(3);
    expect(existsSync(path)).toBe(false);
    await logger?.close();
    expect(lines(path)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('flushes on its interval without a close, and as soon as the buffer is full', async () => {
    const store = new Store();
    const timed = join(dir, 'timed.log');
    const full = join(dir, 'full.log');
    // The timer would take a minute here: only the size threshold can write this file in time.
    const bySize = new AccessLogFileManager({ flushIntervalMs: 60_000, flushMinSizeBytes: 10 });
    const byTimer = new AccessLogFileManager({ flushIntervalMs: 20, scope: store.root });

    bySize.open(full).write('0123456789\n');
    byTimer.open(timed).write('short\n');
    expect(store.value('access_log_file.write_total_buffered')).toBe(6);
    await vi.waitFor(() => expect(existsSync(full) && readFileSync(full, 'utf8')).toBe('0123456789\n'), { timeout: 5000 });
    await vi.waitFor(() => expect(existsSync(timed) && readFileSync(timed, 'utf8')).toBe('short\n'), { timeout: 5000 });
    expect(store.value('access_log_file.flushed_by_timer')).toBe(1);
    expect(store.value('access_log_file.write_buffered')).toBe(1);
    expect(store.value('access_log_file.write_completed')).toBe(1);
    expect(store.value('access_log_file.write_total_buffered')).toBe(0);
    await Promise.all([bySize.close(), byTimer.close()]);
  });

  it('starts a new file after the old one is renamed and the logs are reopened', async () => {
    const path = join(dir, 'rotate.log');
    const manager = new AccessLogFileManager();
    const [logger] = createAccessLoggers([fileLog(path, '%CONNECTION_ID%\n')], { defaultFormat: '', fileManager: manager });
    if (logger === undefined) throw new Error('one logger expected');

    logger.log({ streamInfo: info(1) });
    await manager.flush();
    logger.log({ streamInfo: info(2) }); // buffered when the file is renamed: belongs to the old file
    renameSync(path, `${path}.1`);
    await manager.reopen();
    logger.log({ streamInfo: info(3) });
    await logger.close();

    expect(lines(`${path}.1`)).toEqual(['1', '2']);
    expect(lines(path)).toEqual(['3']);
  });

  it('reports a write error once, counts every failed write, and never throws', async () => {
    const store = new Store();
    const onError = vi.fn();
    const path = join(dir, 'missing-directory', 'access.log');
    const manager = new AccessLogFileManager({ scope: store.root, onError });
    const [logger] = createAccessLoggers([fileLog(path, '%CONNECTION_ID%\n')], { defaultFormat: '', fileManager: manager });
    if (logger === undefined) throw new Error('one logger expected');

    for (let batch = 0; batch < 3; batch++) {
      logger.log({ streamInfo: info(batch) });
      await manager.flush();
    }
    await logger.close();

    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'ENOENT' });
    expect(onError.mock.calls[0]?.[1]).toBe(path);
    expect(store.value('access_log_file.write_failed')).toBe(3);
    expect(store.value('access_log_file.write_completed')).toBe(0);
  });

  it('warns once by default when a file cannot be written', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const manager = new AccessLogFileManager();
    const file = manager.open(join(dir, 'nope', 'x.log'));
    file.write('1\n');
    await file.flush();
    file.write('2\n');
    await file.release();
    expect(warning).toHaveBeenCalledTimes(1);
    expect(String(warning.mock.calls[0]?.[0])).toContain('nope');
  });

  it('reads the deprecated format and json_format fields, and falls back to the default format', async () => {
    const path = join(dir, 'deprecated.log');
    const loggers = createAccessLoggers(
      [
        { name: '', typed_config: { '@type': FILE, path, format: 'text %CONNECTION_ID%\n' } },
        { name: '', typed_config: { '@type': FILE, path, json_format: { id: '%CONNECTION_ID%' } } },
        { name: '', typed_config: { '@type': FILE, path, format: '' } },
        { name: '', typed_config: { '@type': FILE, path } },
      ],
      { defaultFormat: 'default %CONNECTION_ID%\n' },
    );
    for (const logger of loggers) logger.log({ streamInfo: info(5) });
    await Promise.all(loggers.map((logger) => logger.close()));
    expect(lines(path)).toEqual(['text 5', '{"id":5}', 'default 5', 'default 5']);
  });

  it('refuses a bad format when the loggers are built, naming the logger', () => {
    const build = (): unknown => createAccessLoggers([fileLog(join(dir, 'a'), 'ok\n'), fileLog(join(dir, 'b'), '%NOPE%', 'mine')], { defaultFormat: '' });
    expect(build).toThrow(FormatError);
    expect(build).toThrow('access_log[1] (mine): Not supported field in StreamInfo: NOPE (at position 0)');
  });

  it('builds loggers from a loaded Envoy config', async () => {
    const path = join(dir, 'admin.log');
    const { bootstrap } = loadConfig({
      name: 'test.yaml',
      text: `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
  access_log:
  - name: envoy.access_loggers.file
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
      path: ${path}
      log_format:
        json_format: { code: "%RESPONSE_CODE%", protocol: "%PROTOCOL%", missing: "%UPSTREAM_HOST%" }
        omit_empty_values: true
`,
    });
    const loggers = createAccessLoggers(bootstrap.admin?.access_log, { defaultFormat: '' });
    for (const logger of loggers) logger.log({ streamInfo: info(1) });
    await Promise.all(loggers.map((logger) => logger.close()));
    expect(readFileSync(path, 'utf8')).toBe('{"code":200,"protocol":"HTTP/1.1"}\n');
  });
});

describe('stdout and stderr access logs', () => {
  function capture(stream: NodeJS.WriteStream): string[] {
    const written: string[] = [];
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
      written.push(String(chunk));
      const callback = rest.find((arg) => typeof arg === 'function') as ((error?: Error | null) => void) | undefined;
      callback?.();
      return true;
    });
    return written;
  }

  it('writes formatted lines to stdout and stderr, and a file logger with path /dev/stdout shares stdout', async () => {
    const stdout = capture(process.stdout);
    const stderr = capture(process.stderr);
    const manager = new AccessLogFileManager();
    const loggers = createAccessLoggers(
      [
        { name: '', typed_config: { '@type': STDOUT, log_format: { text_format: 'out %CONNECTION_ID%\n', omit_empty_values: false, content_type: '' } } },
        { name: '', typed_config: { '@type': STDERR, log_format: { text_format: 'err %CONNECTION_ID%\n', omit_empty_values: false, content_type: '' } } },
        fileLog('/dev/stdout', 'file %CONNECTION_ID%\n'),
      ],
      { defaultFormat: '', fileManager: manager },
    );
    expect(manager.paths().sort()).toEqual(['/dev/stderr', '/dev/stdout']);
    for (const logger of loggers) logger.log({ streamInfo: info(9) });
    expect(stdout).toEqual([]);
    await Promise.all(loggers.map((logger) => logger.close()));
    expect(stdout.join('')).toBe('out 9\nfile 9\n');
    expect(stderr.join('')).toBe('err 9\n');
  });

  it('uses the default format when a stdout logger has none', async () => {
    const stdout = capture(process.stdout);
    const [logger] = createAccessLoggers([{ name: '', typed_config: { '@type': STDOUT } }], { defaultFormat: '[%RESPONSE_CODE%]\n' });
    logger?.log({ streamInfo: info(1) });
    await logger?.close();
    expect(stdout.join('')).toBe('[200]\n');
  });

  it('reports a failed stdout write instead of throwing', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation((_chunk: unknown, ...rest: unknown[]) => {
      const callback = rest.find((arg) => typeof arg === 'function') as ((error?: Error | null) => void) | undefined;
      callback?.(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      return false;
    });
    const onError = vi.fn();
    const manager = new AccessLogFileManager({ onError });
    const file = manager.open('/dev/stdout');
    file.write('lost\n');
    await file.release();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[1]).toBe('/dev/stdout');
  });
});
