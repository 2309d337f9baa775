/**
 * Envoy's JitteredExponentialBackOffStrategy: the n-th retry waits a random time up to
 * min(base * 2^n, max). Without backoff_options, retries happen at once.
 */
export class JitteredBackoff {
  #attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  nextDelayMs(): number {
    const ceiling = Math.min(this.baseMs * 2 ** this.#attempt, this.maxMs);
    this.#attempt++;
    return Math.floor(this.random() * ceiling);
  }
}
