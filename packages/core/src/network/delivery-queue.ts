/**
 * One deferred-delivery queue for every user-space socket of the process, drained once per
 * event-loop turn (a single `setImmediate`), the way Envoy's user-space sockets deliver their
 * events on the next dispatcher iteration.
 *
 * Why once per macrotask and not per write:
 * - Batching: every write made during one turn (all the I/O callbacks of a poll phase) reaches
 *   the peer as one delivery, so a proxy relaying it can hand the kernel one `writev`.
 * - Shallow stacks: the reader never runs inside the writer's `write()` call. A chain of
 *   internal listeners advances one hop per turn and yields to I/O in between, so even a
 *   listener that loops back into itself cannot overflow the stack.
 * - One timer for all sockets: ten thousand busy connections still cost one `setImmediate`.
 */

export interface Deliverable {
  /** Runs the work this item queued. Called at most once per `enqueue`. */
  deliver(): void;
}

let pending: Deliverable[] = [];
let scheduled = false;

function drain(): void {
  scheduled = false;
  // Items queued while draining go to the next turn: each hop of a chain costs one turn,
  // which keeps the loop fair to I/O and bounds the work done per turn.
  const batch = pending;
  pending = [];
  let i = 0;
  try {
    for (; i < batch.length; i++) batch[i]?.deliver();
  } catch (error) {
    // A listener threw inside an event (an uncaught exception, as with a net.Socket). The other
    // sockets of this batch must not stall: their deliveries move to the next turn.
    const rest = batch.slice(i + 1);
    if (rest.length > 0) {
      pending = rest.concat(pending);
      // Items enqueued by the handlers that ran may already have scheduled the next drain.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    }
    throw error;
  }
}

/** Queues `item.deliver()` for the next event-loop turn. The caller prevents double queueing. */
export function enqueue(item: Deliverable): void {
  pending.push(item);
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
}
