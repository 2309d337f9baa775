// The bare relays' one way of joining two streams (bench/servers/pipe-proxy.mjs, h2-tunnel.mjs).

/** Splices two streams both ways with pipe(); either one closing or failing tears down both. */
export function splice(/** @type {import('node:stream').Duplex} */ a, /** @type {import('node:stream').Duplex} */ b) {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.once('error', close).once('close', close);
  b.once('error', close).once('close', close);
}
