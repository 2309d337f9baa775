/**
 * Paces V8's minor GC to the memory a proxy's socket reads allocate.
 *
 * Every read from a kernel socket allocates a fresh buffer (64 KiB at full speed). The buffer dies
 * as soon as it has been written on, but V8 frees dead ArrayBuffers only when it scavenges, and it
 * scavenges for ArrayBuffer memory only once 32 MiB of it is young (twice V8's default maximum
 * semi-space; `--max-semi-space-size` does not move that threshold). The small JS objects of a read
 * fill the young generation far more slowly, so under a bulk transfer a Node proxy holds up to 32 MiB
 * of dead read buffers, plus what the allocator keeps around them: most of its RSS growth under load.
 *
 * The pacer samples V8's external memory (which counts ArrayBuffers) and runs a minor GC when it has
 * grown `limitBytes` above its recent low. A scavenge of a proxy's young generation costs a fraction
 * of a millisecond; memory that stays alive after one (caches, buffered data) raises the low, so
 * retained memory never causes a run of collections.
 *
 * Growth that is live data is not the pacer's business: a queue building up for a slow peer (an
 * HTTP/2 stream whose 256 MiB window lets the sender run far ahead, say) survives every scavenge,
 * and scavenging it every few MiB only promotes it to the old generation sooner, where freeing it
 * takes a full mark-compact. So each collection is judged by what it freed: one that freed less
 * than half of the growth that triggered it doubles the growth the next one waits for (up to
 * 32 MiB, where V8's own trigger takes over), and one that freed most of it restores `limitBytes`.
 *
 * It samples every `busyIntervalMs` while connections are open or memory moves, and every
 * `idleIntervalMs` otherwise, so a proxy without connections wakes a few times a second. A burst of
 * reads outruns any slower sampling: at 1 GB/s, 32 MiB accumulate in 30 ms. Accepted kernel
 * connections wake it at once (Node's `net.server.socket` diagnostics channel).
 * Figures are in docs/performance.md.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface YoungGcPacerOptions {
  /** Growth of external memory above its recent low that triggers a minor GC. */
  readonly limitBytes: number;
  /** Runs a minor (young generation) GC. */
  readonly minorGc: () => void;
  /** External memory in bytes; V8's `external_memory` by default. */
  readonly readExternalBytes?: () => number;
  /** Whether connections are open (sampled at the busy rate while they are). */
  readonly isActive?: () => boolean;
  /** Sampling period while connections are open or memory moves. Default 5 ms. */
  readonly busyIntervalMs?: number;
  /** Sampling period while it does not. Default 250 ms. */
  readonly idleIntervalMs?: number;
}

/** Memory moving by less than this between samples counts as idle. */
const MOVING_BYTES = 1024 * 1024;
/** Samples at the busy rate after memory last moved. */
const BUSY_SAMPLES = 20;
/** V8 scavenges by itself once this much ArrayBuffer memory is young: pacing past it is moot. */
const MAX_LIMIT_BYTES = 32 * 1024 * 1024;

export class YoungGcPacer {
  readonly #baseLimitBytes: number;
  readonly #maxLimitBytes: number;
  /** The growth the next collection waits for: the base limit, or more while collections free little. */
  #limitBytes: number;
  /** External memory when the last collection ran, and the growth that triggered it. */
  #collectedAt: number | undefined;
  #collectedGrowth = 0;
  readonly #minorGc: () => void;
  readonly #readExternalBytes: () => number;
  readonly #isActive: () => boolean;
  readonly #busyIntervalMs: number;
  readonly #idleIntervalMs: number;
  #low = Number.POSITIVE_INFINITY;
  #last = 0;
  #busySamples = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerIsBusy = false;
  #collections = 0;
  readonly #onAccept = (): void => {
    this.wake();
  };

  constructor(options: YoungGcPacerOptions) {
    if (!(options.limitBytes > 0)) throw new RangeError(`limitBytes must be positive, got ${String(options.limitBytes)}`);
    this.#baseLimitBytes = options.limitBytes;
    this.#maxLimitBytes = Math.max(options.limitBytes, MAX_LIMIT_BYTES);
    this.#limitBytes = options.limitBytes;
    this.#minorGc = options.minorGc;
    this.#readExternalBytes = options.readExternalBytes ?? (() => getHeapStatistics().external_memory);
    this.#isActive = options.isActive ?? (() => false);
    this.#busyIntervalMs = options.busyIntervalMs ?? 5;
    this.#idleIntervalMs = options.idleIntervalMs ?? 250;
  }

  /** Minor GCs the pacer has run. */
  get collections(): number {
    return this.#collections;
  }

  /** The growth above the recent low that the next collection waits for. */
  get limitBytes(): number {
    return this.#limitBytes;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#last = this.#readExternalBytes();
    this.#low = this.#last;
    subscribe('net.server.socket', this.#onAccept);
    this.#schedule();
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    unsubscribe('net.server.socket', this.#onAccept);
  }

  /** Samples at the busy rate from now on, until memory settles again. */
  wake(): void {
    this.#busySamples = BUSY_SAMPLES;
    if (this.#timer === undefined || this.#timerIsBusy) return;
    clearTimeout(this.#timer);
    this.#schedule();
  }

  #schedule(): void {
    this.#timerIsBusy = this.#busySamples > 0 || this.#isActive();
    this.#timer = setTimeout(() => {
      this.#sample();
    }, this.#timerIsBusy ? this.#busyIntervalMs : this.#idleIntervalMs);
    // The pacer never keeps the process alive on its own.
    this.#timer.unref();
  }

  #sample(): void {
    const bytes = this.#readExternalBytes();
    if (bytes < this.#low) this.#low = bytes;
    if (bytes - this.#low >= this.#limitBytes) {
      this.#judgeLastCollection();
      this.#collectedAt = bytes;
      this.#collectedGrowth = bytes - this.#low;
      this.#minorGc();
      this.#collections++;
      // What the collection frees shows up over the next samples (V8 sweeps ArrayBuffers
      // concurrently); the low is measured afresh from them.
      this.#low = Number.POSITIVE_INFINITY;
      this.#busySamples = BUSY_SAMPLES;
    } else if (Math.abs(bytes - this.#last) >= MOVING_BYTES) {
      this.#busySamples = BUSY_SAMPLES;
    } else if (this.#busySamples > 0) {
      this.#busySamples--;
    }
    this.#last = bytes;
    this.#schedule();
  }

  /**
   * Called as the next collection is due: the low since the last one shows what it freed. Little
   * freed means the growth was live data, and the limit backs off; most freed restores it.
   */
  #judgeLastCollection(): void {
    const at = this.#collectedAt;
    if (at === undefined) return;
    const freed = at - this.#low;
    this.#limitBytes = freed * 2 < this.#collectedGrowth ? Math.min(this.#limitBytes * 2, this.#maxLimitBytes) : this.#baseLimitBytes;
  }
}

/**
 * A function that runs a minor GC, obtained without `--expose-gc` on the command line and without
 * a `gc` global: the flag is on only while a fresh context is created to read `gc` from.
 * Undefined if this V8 does not provide it.
 */
export function exposeMinorGc(): (() => void) | undefined {
  setFlagsFromString('--expose-gc');
  try {
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof gc !== 'function') return undefined;
    return () => {
      (gc as (options: { type: 'minor' }) => void)({ type: 'minor' });
    };
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/** `IL_GC_PACING_MIB`: the pacer's limit in MiB; `0` turns pacing off. Default 4. */
export function gcPacingLimitBytes(env: NodeJS.ProcessEnv): number | Error {
  const text = env.IL_GC_PACING_MIB;
  if (text === undefined || text === '') return 4 * 1024 * 1024;
  const mib = Number(text);
  if (!Number.isFinite(mib) || mib < 0) return new Error(`IL_GC_PACING_MIB must be a number of MiB (0 turns pacing off), got '${text}'`);
  return mib * 1024 * 1024;
}
