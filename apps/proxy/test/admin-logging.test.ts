import { existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLogFormat, createLogging, DEFAULT_LOG_FORMAT, type LogRecord } from '../src/logging/index.js';
import { waitFor } from '../../../test-support/wait.js';
import { startFake, type Running } from './admin-helpers.js';

const LINE = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[(\w+)\]\[(\w+)\] (.*)\n$/;

function capture(options: Parameters<typeof createLogging>[0] = {}) {
  const lines: string[] = [];
  const logging = createLogging({ ...options, destination: { write: (line: string) => void lines.push(line) } });
  return { logging, lines };
}

describe('logging', () => {
  it("writes Envoy's text line by default, with Envoy's level names", () => {
    const { logging, lines } = capture({ level: 'trace' });
    const main = logging.logger('main');
    main.info('starting main dispatch loop');
    main.warn('careful');
    main.fatal('it is over');
    logging.logger('upstream').debug({ host: '127.0.0.1:1' }, 'connecting');
    expect(lines.map((line) => LINE.exec(line)?.slice(1))).toEqual([
      ['info', 'main', 'starting main dispatch loop'],
      ['warning', 'main', 'careful'],
      ['critical', 'main', 'it is over'],
      ['debug', 'upstream', 'connecting {"host":"127.0.0.1:1"}'],
    ]);
    logging.close();
  });

  it('writes JSON lines with --log-format json', () => {
    const { logging, lines } = capture({ format: 'json' });
    logging.logger('config').warn({ path: 'a.yaml' }, 'deprecated field');
    const record = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'warning', component: 'config', msg: 'deprecated field', path: 'a.yaml', pid: process.pid });
    expect(typeof record.time).toBe('string');
    expect(Number.isNaN(Date.parse(record.time as string))).toBe(false);
    logging.close();
  });

  it('starts every component at -l, with --component-log-level overrides', () => {
    const { logging, lines } = capture({ level: 'warning', componentLevels: { upstream: 'debug', conn_handler: 'off' } });
    expect(logging.levels()).toMatchObject({ main: 'warning', admin: 'warning', upstream: 'debug', conn_handler: 'off' });
    logging.logger('main').info('hidden');
    logging.logger('upstream').debug('shown');
    logging.logger('conn_handler').fatal('hidden too');
    expect(lines.map((line) => LINE.exec(line)?.[3])).toEqual(['shown']);
    logging.close();
  });

  it('changes levels at run time, one component or all', () => {
    const { logging, lines } = capture();
    const http = logging.logger('http');
    http.debug('before');
    expect(logging.setLevel('http', 'debug')).toBe(true);
    http.debug('after');
    expect(logging.setLevel('all', 'off')).toBe(true);
    http.fatal('silenced');
    logging.logger('main').error('silenced');
    expect(Object.values(logging.levels()).every((level) => level === 'off')).toBe(true);
    expect(logging.setLevel('all', 'warn')).toBe(true);
    expect(logging.levels().http).toBe('warning');
    expect(logging.setLevel('nope', 'info')).toBe(false);
    expect(logging.setLevel('http', 'loud')).toBe(false);
    expect(lines.map((line) => LINE.exec(line)?.[3])).toEqual(['after']);
    logging.close();
  });

  it('compiles spdlog patterns', () => {
    const record: LogRecord = { time: new Date(2024, 0, 2, 3, 4, 5, 6).getTime(), level: 'warning', component: 'http', msg: 'a "b"\nc', extra: undefined };
    expect(compileLogFormat(DEFAULT_LOG_FORMAT)(record)).toBe('[2024-01-02 03:04:05.006][warning][http] a "b"\nc');
    expect(compileLogFormat('%L|%-8l|%8n|%=7n|%v|%%|%q|%D %R|%g%#')(record)).toBe('W|warning |    http| http  |a "b"\nc|%|%q|01/02/24 03:04|');
    expect(compileLogFormat('{"msg":"%j"}')(record)).toBe('{"msg":"a \\"b\\"\\nc"}');
    expect(compileLogFormat('%P %t')(record)).toBe(`${process.pid} ${process.pid}`);
  });

  it('writes a --log-path file asynchronously, flushes it synchronously, and reopens it after rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'il-log-'));
    const path = join(dir, 'il.log');
    const logging = createLogging({ path });
    const contents = (): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');
    logging.logger('main').info('first');
    // sonic-boom opens the file asynchronously: until it is open, lines wait in its buffer and
    // flushSync() has nothing to write. Each poll flushes and looks again.
    await waitFor(() => (logging.flushSync(), /\[info\]\[main\] first\n$/.test(contents())), 10_000, 'the first line in the log file');
    renameSync(path, join(dir, 'il.log.1'));
    logging.reopen();
    // The reopen waits for a write in flight, then creates the file again; lines logged meanwhile
    // still go to the old one, as with any rotation.
    await waitFor(() => existsSync(path), 10_000, 'the log file to be reopened');
    logging.logger('main').info('second');
    await waitFor(() => (logging.flushSync(), contents().includes('second')), 10_000, 'the second line in the reopened file');
    logging.close();
    expect(contents()).toMatch(/^\[[^\n]*\]\[info\]\[main\] second\n$/);
    expect(readFileSync(join(dir, 'il.log.1'), 'utf8')).toMatch(/\[info\]\[main\] first\n$/);
  });
});

describe('/logging', () => {
  let admin: Running;
  beforeAll(async () => {
    admin = await startFake();
  });
  afterAll(async () => {
    await admin.admin.close();
  });

  it('GET lists every logger and its level', async () => {
    const res = await admin.get('/logging');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith('active loggers:\n')).toBe(true);
    expect(text).toContain('  admin: info\n');
    expect(text).toContain('  upstream: info\n');
    expect(text.endsWith('\n\n')).toBe(true);
  });

  it('changing levels needs POST', async () => {
    const res = await admin.get('/logging?level=debug');
    expect(res.status).toBe(405);
    expect(admin.fake.logging.levels().main).toBe('info');
  });

  it('POST ?<component>=<level> changes one logger, and the logger obeys', async () => {
    const upstream = admin.fake.logging.logger('upstream');
    upstream.debug('not yet');
    const res = await admin.post('/logging?upstream=debug');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('  upstream: debug\n');
    expect(admin.fake.logging.levels()).toMatchObject({ upstream: 'debug', main: 'info' });
    upstream.debug('now');
    expect(admin.fake.lines.filter((line) => line.includes('[debug][upstream]')).map((line) => LINE.exec(line)?.[3])).toEqual(['now']);
    expect(admin.fake.lines.some((line) => line.includes("[info][admin] change log level: name='upstream' level='debug'"))).toBe(true);
  });

  it('POST ?level= changes all, ?paths= several', async () => {
    expect((await admin.post('/logging?level=warning')).status).toBe(200);
    expect(new Set(Object.values(admin.fake.logging.levels()))).toEqual(new Set(['warning']));
    expect((await admin.post('/logging?paths=http:trace,config:error')).status).toBe(200);
    expect(admin.fake.logging.levels()).toMatchObject({ http: 'trace', config: 'error', main: 'warning' });
    expect(admin.fake.logging.logger('http').isLevelEnabled('trace')).toBe(true);
    expect(admin.fake.logging.logger('main').isLevelEnabled('info')).toBe(false);
    expect((await admin.post('/logging?level=info')).status).toBe(200);
  });

  it('refuses unknown loggers and levels, with usage, changing nothing', async () => {
    for (const query of ['?nope=debug', '?level=loud', '?paths=http:debug,nope:debug', '?paths=http', '?a=debug&b=debug']) {
      const res = await admin.post(`/logging${query}`);
      expect(res.status, query).toBe(400);
      const text = await res.text();
      expect(text, query).toMatch(/^error: /);
      expect(text, query).toContain('usage: /logging?<name>=<level> (change single level)');
      expect(text, query).toContain('active loggers:');
    }
    expect(new Set(Object.values(admin.fake.logging.levels()))).toEqual(new Set(['info']));
  });
});
