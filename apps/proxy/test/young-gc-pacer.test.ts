import { createServer, connect, type Server } from 'node:net';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../../../test-support/wait.js';
import { exposeMinorGc, gcPacingLimitBytes, YoungGcPacer } from '../src/server/young-gc-pacer.js';

const MiB = 1024 * 1024;

/** External memory the test controls; `gc()` frees what `garbage` holds. */
function fakeMemory(base = 10 * MiB) {
  const memory = { live: base, garbage: 0, reads: 0, collections: 0 };
  return {
    memory,
    readExternalBytes: () => {
      memory.reads++;
      return memory.live + memory.garbage;
    },
    minorGc: () => {
      memory.collections++;
      memory.garbage = 0;
    },
  };
}

/** A started pacer on fake timers and fake memory: limit 4 MiB, samples every 5 ms busy, 250 ms idle. */
function startFakePacer(isActive?: () => boolean) {
  vi.useFakeTimers();
  const fake = fakeMemory();
  const pacer = new YoungGcPacer({ limitBytes: 4 * MiB, busyIntervalMs: 5, idleIntervalMs: 250, ...(isActive ? { isActive } : {}), ...fake });
  pacer.start();
  return { fake, pacer };
}

/** `samples` busy samples (5 ms each), `kind` memory growing by 1 MiB before each. */
function grow(fake: ReturnType<typeof fakeMemory>, kind: 'live' | 'garbage', samples: number): void {
  for (let i = 0; i < samples; i++) {
    fake.memory[kind] += MiB;
    vi.advanceTimersByTime(5);
  }
}

describe('YoungGcPacer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a minor GC each time buffer memory grows the limit above its low, and none while it is flat', () => {
    const { fake, pacer } = startFakePacer();
    pacer.wake(); // as an accepted connection does
    // A transfer: 1 MiB of dead read buffers per 5 ms sample, for 100 samples.
    grow(fake, 'garbage', 100);
    // Every 4 MiB (plus the sample that re-measures the low after a collection).
    expect(fake.memory.collections).toBeGreaterThanOrEqual(18);
    expect(fake.memory.collections).toBeLessThanOrEqual(25);
    expect(pacer.collections).toBe(fake.memory.collections);
    const afterTransfer = fake.memory.collections;
    vi.advanceTimersByTime(10_000);
    expect(fake.memory.collections).toBe(afterTransfer);
    pacer.stop();
  });

  it('does not collect again for memory that stays alive after a collection', () => {
    const { fake, pacer } = startFakePacer();
    vi.advanceTimersByTime(300);
    // 20 MiB that a GC cannot free (data buffered for a slow peer, a cache).
    fake.memory.live += 20 * MiB;
    vi.advanceTimersByTime(2_000);
    expect(fake.memory.collections).toBe(1);
    pacer.stop();
  });

  it('backs off while collections free little (a queue of live data), up to the 32 MiB where V8 takes over', () => {
    const { fake, pacer } = startFakePacer();
    pacer.wake();
    // Data held for a slow peer: 1 MiB more of it per sample, 128 MiB in all, none of it garbage.
    grow(fake, 'live', 128);
    // At a fixed 4 MiB limit this would be 32 collections; backing off, 4 + 8 + 16 + 32 + 32 + 32...
    expect(fake.memory.collections).toBeGreaterThanOrEqual(4);
    expect(fake.memory.collections).toBeLessThanOrEqual(8);
    expect(pacer.limitBytes).toBe(32 * MiB);
    pacer.stop();
  });

  it('returns to its limit once collections free memory again', () => {
    const { fake, pacer } = startFakePacer();
    pacer.wake();
    grow(fake, 'live', 64);
    expect(pacer.limitBytes).toBeGreaterThan(4 * MiB);
    // The queue is gone and reads die young again: one collection that frees its growth restores 4 MiB.
    fake.memory.live -= 64 * MiB;
    grow(fake, 'garbage', 50);
    expect(pacer.limitBytes).toBe(4 * MiB);
    // Back to a collection per 4 MiB, as in the first case.
    const before = fake.memory.collections;
    grow(fake, 'garbage', 100);
    expect(fake.memory.collections - before).toBeGreaterThanOrEqual(18);
    pacer.stop();
  });

  it('samples a few times a second without connections, and every busy interval while connections are open', () => {
    let open = 0;
    const { fake, pacer } = startFakePacer(() => open > 0);
    const readsAt = fake.memory.reads;
    vi.advanceTimersByTime(1_000);
    expect(fake.memory.reads - readsAt).toBeLessThanOrEqual(5);
    open = 1;
    vi.advanceTimersByTime(250); // the idle sample that notices the connection
    const busyFrom = fake.memory.reads;
    vi.advanceTimersByTime(1_000);
    expect(fake.memory.reads - busyFrom).toBeGreaterThanOrEqual(190);
    open = 0;
    vi.advanceTimersByTime(250);
    const idleFrom = fake.memory.reads;
    vi.advanceTimersByTime(1_000);
    expect(fake.memory.reads - idleFrom).toBeLessThanOrEqual(5);
    pacer.stop();
  });

  it('is woken by an accepted TCP connection instead of waiting for its idle sample', async () => {
    const fake = fakeMemory();
    const pacer = new YoungGcPacer({ limitBytes: 4 * MiB, busyIntervalMs: 2, idleIntervalMs: 60_000, ...fake });
    pacer.start();
    const before = fake.memory.reads;
    const server: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no address');
      const client = connect(address.port, '127.0.0.1');
      client.on('error', () => undefined);
      // Without the wake the next sample is 60 s away, far beyond this bound.
      await waitFor(() => fake.memory.reads - before >= 5, 10_000, 'busy samples after the accept');
      client.destroy();
      expect(fake.memory.reads - before).toBeGreaterThanOrEqual(5);
    } finally {
      pacer.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('keeps dead buffers to a few MiB where V8 alone lets them reach 32 MiB', async () => {
    const minorGc = exposeMinorGc();
    expect(minorGc).toBeDefined();
    if (minorGc === undefined) return;
    const pacer = new YoungGcPacer({ limitBytes: 4 * MiB, busyIntervalMs: 5, minorGc });
    minorGc();
    // Lets V8's concurrent sweeper release what that collection freed before the base is read; a
    // slow sweep only raises the base (a smaller peak), so this pause cannot fail the test.
    await sleep(50);
    const base = getHeapStatistics().external_memory;
    let peak = 0;
    pacer.start();
    pacer.wake();
    try {
      // 96 MiB of 64 KiB buffers that die at once, like a proxy's reads, at about 1 MiB per ms.
      for (let ms = 0; ms < 96; ms++) {
        for (let i = 0; i < 16; i++) Buffer.allocUnsafeSlow(64 * 1024).fill(i);
        peak = Math.max(peak, getHeapStatistics().external_memory - base);
        // Paces the allocation (about 1 MiB per turn); it waits for nothing.
        await sleep(1);
      }
    } finally {
      pacer.stop();
    }
    expect(pacer.collections).toBeGreaterThan(0);
    expect(peak).toBeLessThan(20 * MiB);
  });
});

describe('exposeMinorGc', () => {
  it('returns a function that runs a real minor GC, and leaves no gc global behind', async () => {
    const minorGc = exposeMinorGc();
    expect(typeof minorGc).toBe('function');
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const kinds: number[] = [];
    const observer = new PerformanceObserver((list) => {
      // Node's gc entries carry { kind } in `detail`, which PerformanceEntry's type does not declare.
      for (const entry of list.getEntries()) kinds.push((entry as unknown as { detail: { kind: number } }).detail.kind);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      minorGc?.();
      // The gc entry is delivered asynchronously.
      await waitFor(() => kinds.includes(perfConstants.NODE_PERFORMANCE_GC_MINOR), 10_000, 'the minor GC performance entry');
    } finally {
      observer.disconnect();
    }
    expect(kinds).toContain(perfConstants.NODE_PERFORMANCE_GC_MINOR);
  });
});

describe('IL_GC_PACING_MIB', () => {
  it('defaults to 4 MiB, takes 0 for off, and rejects what is not a size', () => {
    expect(gcPacingLimitBytes({})).toBe(4 * MiB);
    expect(gcPacingLimitBytes({ IL_GC_PACING_MIB: '0' })).toBe(0);
    expect(gcPacingLimitBytes({ IL_GC_PACING_MIB: '16' })).toBe(16 * MiB);
    const bad = gcPacingLimitBytes({ IL_GC_PACING_MIB: 'lots' });
    expect(bad).toBeInstanceOf(Error);
    expect((bad as Error).message).toContain("got 'lots'");
    expect(gcPacingLimitBytes({ IL_GC_PACING_MIB: '-1' })).toBeInstanceOf(Error);
  });
});
