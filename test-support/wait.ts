// Bounded waiting for tests: every wait names what it waited for and gives up after a deadline.

/** Resolves once `predicate()` holds (polled every 5 ms); rejects after `timeoutMs`. */
export function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      else setTimeout(check, 5);
    };
    check();
  });
}

/** `promise`, or a rejection after `ms` naming what was awaited. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves once the async `predicate()` holds (polled every 20 ms, one call at a time); rejects after `timeoutMs`. */
export async function waitUntil(predicate: () => Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Resolves once a producer has stalled: `blocked()` held and `progress()` stayed the same for
 * `quietMs` on end (polled every 5 ms); rejects after `timeoutMs`. For backpressure tests, where
 * `blocked()` says the producer is waiting for 'drain' (or has finished, so that the caller's
 * bound fails rather than this wait). The quiet period is a silence window: on a loaded machine it
 * can end before the pipeline is full (letting a leaky bound pass), never fail a correct system.
 */
export function waitForStall(
  progress: () => number,
  blocked: () => boolean,
  quietMs: number,
  timeoutMs = 30_000,
  what = 'the producer to stall',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = progress();
  let quietSince: number | undefined;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const now = Date.now();
      const current = progress();
      if (!blocked() || current !== last) {
        last = current;
        quietSince = undefined;
      } else {
        quietSince ??= now;
        if (now - quietSince >= quietMs) {
          resolve();
          return;
        }
      }
      if (now > deadline) reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      else setTimeout(check, 5);
    };
    check();
  });
}
