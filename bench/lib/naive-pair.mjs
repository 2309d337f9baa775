// The naive in-memory socket pair the @il/core pair is measured against: two cross-wired Duplex
// streams where each write is pushed into the peer's readable side, one push per chunk. A full
// peer holds the write callback until it is read again, so memory stays bounded.
import { Duplex } from 'node:stream';

export class NaiveEnd extends Duplex {
  /** @type {NaiveEnd | null} */ peer = null;
  /** @type {(() => void) | null} */ held = null;

  _write(/** @type {Buffer} */ chunk, /** @type {string} */ _enc, /** @type {() => void} */ cb) {
    if (this.peer?.push(chunk)) cb();
    else this.held = cb;
  }

  _final(/** @type {() => void} */ cb) {
    this.peer?.push(null);
    cb();
  }

  _read() {
    const peer = this.peer;
    const held = peer?.held;
    if (peer && held) {
      peer.held = null;
      held();
    }
  }
}

/** @returns {[NaiveEnd, NaiveEnd]} */
export function naivePair() {
  const a = new NaiveEnd();
  const b = new NaiveEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
