import { EventEmitter } from 'node:events';

export type DrainStrategy = 'gradual' | 'immediate';

/**
 * Whether the server is draining, and Envoy's `drainClose()`: during a gradual drain the chance
 * that a connection should close grows from 0 to 1 over the drain time, spreading reconnects;
 * an immediate drain closes every connection at its next chance. HTTP/1.1 answers carry
 * `connection: close` when drainClose() says so; HTTP/2 sessions get a GOAWAY on 'drain'.
 */
export class DrainManager extends EventEmitter<{ drain: [] }> {
  #drainStartMs: number | undefined;
  #drainTimeMs = 0;
  readonly #strategy: DrainStrategy;

  constructor(options: { strategy?: DrainStrategy } = {}) {
    super();
    this.#strategy = options.strategy ?? 'gradual';
  }

  get draining(): boolean {
    return this.#drainStartMs !== undefined;
  }

  /** Starts draining (once); listeners of 'drain' run now. */
  startDrain(drainTimeMs: number): void {
    if (this.#drainStartMs !== undefined) return;
    this.#drainStartMs = performance.now();
    this.#drainTimeMs = drainTimeMs;
    this.emit('drain');
  }

  drainClose(): boolean {
    if (this.#drainStartMs === undefined) return false;
    if (this.#strategy === 'immediate' || this.#drainTimeMs <= 0) return true;
    const elapsed = performance.now() - this.#drainStartMs;
    return Math.random() < elapsed / this.#drainTimeMs;
  }
}
