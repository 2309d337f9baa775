import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Counter, Gauge } from '../stats/stat.js';
import type { Scope } from '../stats/store.js';

export interface AccessLogFileManagerOptions {
  /** Buffered lines are written at least this often (Envoy's `file_flush_interval`, default 1000 ms). */
  flushIntervalMs?: number;
  /** A file's buffer is written as soon as it holds this much (Envoy's `file_flush_min_size_kb`, default 64 KiB). */
  flushMinSizeBytes?: number;
  /** Counts `access_log_file.write_buffered`, `write_completed`, `write_failed`, `flushed_by_timer`, `reopen_failed` and the `write_total_buffered` gauge. */
  scope?: Scope;
  /**
   * Told once when a file cannot be opened or written, and again only after a write has
   * succeeded since. Lines that could not be written are dropped and counted. Defaults to a
   * process warning.
   */
  onError?: (error: Error, path: string) => void;
}

interface FileStats {
  readonly writeBuffered: Counter | undefined;
  readonly writeCompleted: Counter | undefined;
  readonly writeFailed: Counter | undefined;
  readonly flushedByTimer: Counter | undefined;
  readonly reopenFailed: Counter | undefined;
  readonly totalBuffered: Gauge | undefined;
}

/** Where a file's bytes go: a file opened for appending, or the process's stdout / stderr. */
interface Sink {
  write(data: string): Promise<void>;
  /** Closes the current file; the next write opens the path again (log rotation). */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

class FileSink implements Sink {
  #handle: FileHandle | undefined;

  constructor(private readonly path: string) {}

  async write(data: string): Promise<void> {
    // O_APPEND, created 0644 as Envoy does; writeFile loops until every byte is written.
    this.#handle ??= await open(this.path, 'a', 0o644);
    await this.#handle.writeFile(data);
  }

  async reopen(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }
}

/**
 * stdout / stderr through Node's own stream (opening `/dev/stdout` fails when it is a socket,
 * and a raw fd write can hit EAGAIN on a non-blocking pipe). The sink listens for the stream's
 * errors while it is open so that a closed pipe (EPIPE) is reported, not thrown.
 */
class StdioSink implements Sink {
  #onError: ((error: Error) => void) | undefined;

  constructor(
    private readonly stream: Writable,
    report: (error: Error) => void,
  ) {
    this.#onError = report;
    stream.on('error', report);
  }

  write(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.write(data, (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  reopen(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.#onError !== undefined) this.stream.off('error', this.#onError);
    this.#onError = undefined;
    return Promise.resolve();
  }
}

/**
 * One access log destination shared by every logger that writes to its path. Lines are buffered
 * in memory and written in batches, so a log call never waits for the disk; batches are written
 * in order, one at a time.
 */
export class AccessLogFile {
  #pending: string[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The chain of writes, reopens and closes, in call order. Never rejects. */
  #io: Promise<void> = Promise.resolve();
  #closed = false;
  #errorReported = false;
  #reopened = false;
  #references = 0;

  private readonly sink: Sink;

  /** @internal Created by AccessLogFileManager.open. */
  constructor(
    readonly path: string,
    createSink: (report: (error: Error) => void) => Sink,
    private readonly settings: { readonly flushIntervalMs: number; readonly flushMinSizeBytes: number },
    private readonly stats: FileStats,
    private readonly onError: (error: Error, path: string) => void,
    private readonly onClosed: (file: AccessLogFile) => void,
  ) {
    this.sink = createSink((error) => this.#report(error));
  }

  /** Appends a line (which carries its own newline). Never blocks and never throws; ignored once closed. */
  write(line: string): void {
    if (this.#closed) return;
    const bytes = Buffer.byteLength(line);
    this.#pending.push(line);
    this.#pendingBytes += bytes;
    this.stats.writeBuffered?.inc();
    this.stats.totalBuffered?.inc(bytes);
    if (this.#pendingBytes >= this.settings.flushMinSizeBytes) {
      void this.flush();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.stats.flushedByTimer?.inc();
        void this.flush();
      }, this.settings.flushIntervalMs);
    }
  }

  /** Writes everything buffered so far; resolves when it is written (or has failed and been reported). */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.length === 0) return this.#io;
    const data = this.#pending.join('');
    const bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.stats.totalBuffered?.dec(bytes);
    return this.#enqueue(() => this.#writeBatch(data));
  }

  /** Writes what is buffered to the current file, then closes it; the next line opens the path anew (admin `/reopen_logs`). */
  reopen(): Promise<void> {
    void this.flush();
    return this.#enqueue(async () => {
      await this.sink.reopen();
      this.#reopened = true;
      this.#errorReported = false;
    });
  }

  /** @internal One more logger uses this file. */
  acquire(): this {
    this.#references += 1;
    return this;
  }

  /** One logger is done with the file; the last one flushes and closes it. */
  release(): Promise<void> {
    if (this.#closed) return this.#io;
    this.#references -= 1;
    return this.#references <= 0 ? this.close() : this.flush();
  }

  /** Flushes and closes the file now, whoever still uses it. */
  close(): Promise<void> {
    if (this.#closed) return this.#io;
    void this.flush();
    this.#closed = true;
    this.onClosed(this);
    return this.#enqueue(() => this.sink.close());
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    this.#io = this.#io.then(task).catch((error: unknown) => this.#report(error));
    return this.#io;
  }

  async #writeBatch(data: string): Promise<void> {
    try {
      await this.sink.write(data);
      this.stats.writeCompleted?.inc();
      this.#errorReported = false;
      this.#reopened = false;
    } catch (error) {
      this.stats.writeFailed?.inc();
      if (this.#reopened) this.stats.reopenFailed?.inc();
      this.#reopened = false;
      this.#report(error);
    }
  }

  #report(error: unknown): void {
    if (this.#errorReported) return;
    this.#errorReported = true;
    try {
      this.onError(error instanceof Error ? error : new Error(String(error)), this.path);
    } catch {
      // A failing error handler must not turn a logging problem into a crash.
    }
  }
}

function warn(error: Error, path: string): void {
  process.emitWarning(`access log ${path}: ${error.message}`, { code: 'IL_ACCESS_LOG_WRITE_FAILED' });
}

/**
 * Envoy's AccessLogManager: one buffered file per path, shared by every logger that names it,
 * opened on its first write. `/dev/stdout` and `/dev/stderr` write to the process's streams.
 */
export class AccessLogFileManager {
  readonly #files = new Map<string, AccessLogFile>();
  readonly #settings: { readonly flushIntervalMs: number; readonly flushMinSizeBytes: number };
  readonly #stats: FileStats;
  readonly #onError: (error: Error, path: string) => void;

  constructor(options: AccessLogFileManagerOptions = {}) {
    this.#settings = {
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      flushMinSizeBytes: options.flushMinSizeBytes ?? 64 * 1024,
    };
    const scope = options.scope?.scope('access_log_file');
    this.#stats = {
      writeBuffered: scope?.counter('write_buffered'),
      writeCompleted: scope?.counter('write_completed'),
      writeFailed: scope?.counter('write_failed'),
      flushedByTimer: scope?.counter('flushed_by_timer'),
      reopenFailed: scope?.counter('reopen_failed'),
      totalBuffered: scope?.gauge('write_total_buffered'),
    };
    this.#onError = options.onError ?? warn;
  }

  /** The shared file for `path`; each caller releases it when done (AccessLogFile.release). */
  open(path: string): AccessLogFile {
    let file = this.#files.get(path);
    if (file === undefined) {
      const createSink = (report: (error: Error) => void): Sink =>
        path === '/dev/stdout' ? new StdioSink(process.stdout, report) : path === '/dev/stderr' ? new StdioSink(process.stderr, report) : new FileSink(path);
      file = new AccessLogFile(path, createSink, this.#settings, this.#stats, this.#onError, (closed) => {
        if (this.#files.get(closed.path) === closed) this.#files.delete(closed.path);
      });
      this.#files.set(path, file);
    }
    return file.acquire();
  }

  /** Every open path. */
  paths(): string[] {
    return [...this.#files.keys()];
  }

  /** Writes every file's buffer. */
  async flush(): Promise<void> {
    await Promise.all([...this.#files.values()].map((file) => file.flush()));
  }

  /** Closes every file after writing its buffer; lines logged later reopen them (log rotation). */
  async reopen(): Promise<void> {
    await Promise.all([...this.#files.values()].map((file) => file.reopen()));
  }

  /** Flushes and closes every file. */
  async close(): Promise<void> {
    await Promise.all([...this.#files.values()].map((file) => file.close()));
  }
}
