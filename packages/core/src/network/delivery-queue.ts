/**
 * One deferred-delivery queue for every user-space socket of the process.
 *
 * A write never runs the reader inside `write()`: deliveries are queued and run together once the
 * current callback's synchronous work is done (`process.nextTick`). Only the first
 * `IMMEDIATE_ROUNDS_PER_TURN` rounds of an event-loop turn run that way; after them, whatever is
 * queued in the rest of the turn is delivered as one batch in the turn's check phase
 * (`setImmediate`), as Envoy delivers user-space socket events on the next dispatcher iteration.
 *
 * - Latency: at light load a hop costs no event-loop turn. node:http2 flushes what a callback
 *   wrote in the check phase of the turn it was written in; a delivery made in the check phase
 *   itself wrote too late for that, and every HTTP/2 hop waited one more poll phase.
 * - Batching: under load (many callbacks per turn) the rest of a turn's writes reach their peers
 *   as one delivery, so a proxy relaying them can hand the kernel one `writev`.
 * - Bounded: a chain of internal listeners, even one that loops back into itself, advances at
 *   most `IMMEDIATE_ROUNDS_PER_TURN` hops plus one per turn, and yields to I/O in between.
 * - Shallow stacks: each round starts from the tick queue or an immediate, never from a writer.
 * - One queue for all sockets: ten thousand busy connections still cost one round at a time.
 */

export interface Deliverable {
  /** Runs the work this item queued. Called at most once per `enqueue`. */
  deliver(): void;
}

/** Delivery rounds per event-loop turn that run right after the callback that queued them. */
export const IMMEDIATE_ROUNDS_PER_TURN = 32;

let pending: Deliverable[] = [];
/** A round is queued or running: what is enqueued now is picked up by it or right after it. */
let scheduled = false;
/** Rounds run in the current turn (reset by the turn's check phase). */
let rounds = 0;
let turnEndScheduled = false;

function endTurn(): void {
  turnEndScheduled = false;
  rounds = 0;
}

function drainInCheckPhase(): void {
  rounds = 0;
  drain();
}

function schedule(): void {
  scheduled = true;
  if (rounds < IMMEDIATE_ROUNDS_PER_TURN) {
    process.nextTick(drain);
    if (!turnEndScheduled) {
      turnEndScheduled = true;
      setImmediate(endTurn);
    }
  } else {
    setImmediate(drainInCheckPhase);
  }
}

function drain(): void {
  rounds++;
  const batch = pending;
  pending = [];
  let i = 0;
  try {
    for (; i < batch.length; i++) batch[i]?.deliver();
  } catch (error) {
    // A listener threw inside an event (an uncaught exception, as with a net.Socket). The other
    // sockets of this batch must not stall: their deliveries run in the next round.
    pending = batch.slice(i + 1).concat(pending);
    throw error;
  } finally {
    scheduled = false;
    // What the deliveries queued (the next hop of a chain) is the next round.
    if (pending.length > 0) schedule();
  }
}

/** Queues `item.deliver()` to run after the current callback. The caller prevents double queueing. */
export function enqueue(item: Deliverable): void {
  pending.push(item);
  if (!scheduled) schedule();
}
