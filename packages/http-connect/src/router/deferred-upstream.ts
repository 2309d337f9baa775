import { UpstreamConnectError, type UpstreamCallbacks, type UpstreamRequest } from './upstream.js';

/**
 * An upstream request whose protocol is not known yet (auto_config while the host's first
 * connection negotiates ALPN). Request payload and the end are held, unacknowledged, until
 * `open` made the real request; a reset before then cancels it. A probe that failed is the
 * request's connect failure.
 */
export class DeferredUpstream implements UpstreamRequest {
  readonly #callbacks: UpstreamCallbacks;
  #real: UpstreamRequest | undefined;
  #held: Buffer[] = [];
  #ended = false;
  #reset = false;

  constructor(decision: Promise<UpstreamRequest | undefined>, callbacks: UpstreamCallbacks) {
    this.#callbacks = callbacks;
    decision.then(
      (real) => this.#attach(real),
      (error: unknown) => {
        if (this.#reset) return;
        if (error instanceof UpstreamConnectError) callbacks.onUpstreamReset(error.reason, error.transportFailureReason);
        else callbacks.onUpstreamReset('connection failure', undefined);
      },
    );
  }

  write(chunk: Buffer): boolean {
    if (this.#real !== undefined) return this.#real.write(chunk);
    this.#held.push(chunk);
    return false;
  }

  end(): void {
    if (this.#real !== undefined) this.#real.end();
    else this.#ended = true;
  }

  resumeResponse(): void {
    this.#real?.resumeResponse();
  }

  reset(cause?: 'downstreamReset'): void {
    this.#reset = true;
    this.#held = [];
    this.#real?.reset(cause);
  }

  #attach(real: UpstreamRequest | undefined): void {
    // undefined: opening failed, and the router was told so.
    if (real === undefined) return;
    if (this.#reset) {
      real.reset();
      return;
    }
    this.#real = real;
    const held = this.#held;
    this.#held = [];
    let accepting = true;
    for (const chunk of held) accepting = real.write(chunk);
    if (this.#ended) real.end();
    // The writes held here were answered "wait": the router waits for a drain.
    if (held.length > 0 && accepting) this.#callbacks.onUpstreamRequestDrain();
  }
}
