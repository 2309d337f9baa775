// Things that arrive on a fake server (connections, streams), handed to the test in arrival order.
import { within } from './wait.js';

export class Arrivals<T> {
  /** Everything that arrived, claimed or not. */
  readonly all: T[] = [];
  readonly #unclaimed: T[] = [];
  readonly #waiting: Array<(item: T) => void> = [];

  /** Records an arrival: the oldest waiting `next()` gets it, or it waits for the next call. */
  push(item: T): void {
    this.all.push(item);
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(item);
    else this.#unclaimed.push(item);
  }

  /** The oldest unclaimed arrival, or the next one to come; with `ms`, rejects after that long. */
  next(ms?: number, what = 'the next arrival'): Promise<T> {
    const arrival = new Promise<T>((resolve) => {
      const item = this.#unclaimed.shift();
      if (item !== undefined) resolve(item);
      else this.#waiting.push(resolve);
    });
    return ms === undefined ? arrival : within(arrival, ms, what);
  }
}
