import type { Host } from './host.js';

/** Picks a host for each new connection or request. */
export interface LoadBalancer {
  choose(hosts: readonly Host[]): Host | undefined;
}

/**
 * ROUND_ROBIN. Equal weights rotate through the hosts in order; unequal weights use smooth
 * weighted round robin, which spreads a heavy host's turns instead of bunching them (what
 * Envoy's EDF scheduler achieves too).
 */
export class RoundRobinLoadBalancer implements LoadBalancer {
  #next = 0;
  readonly #current = new WeakMap<Host, number>();

  choose(hosts: readonly Host[]): Host | undefined {
    if (hosts.length === 0) return undefined;
    const first = hosts[0] as Host;
    if (hosts.every((h) => h.weight === first.weight)) {
      const host = hosts[this.#next % hosts.length];
      this.#next = (this.#next + 1) % hosts.length;
      return host;
    }
    let total = 0;
    let best: Host | undefined;
    let bestCurrent = -Infinity;
    for (const host of hosts) {
      const current = (this.#current.get(host) ?? 0) + host.weight;
      this.#current.set(host, current);
      total += host.weight;
      if (current > bestCurrent) {
        best = host;
        bestCurrent = current;
      }
    }
    if (best !== undefined) this.#current.set(best, bestCurrent - total);
    return best;
  }
}

/** RANDOM: weighted random choice. */
export class RandomLoadBalancer implements LoadBalancer {
  constructor(private readonly random: () => number = Math.random) {}

  choose(hosts: readonly Host[]): Host | undefined {
    if (hosts.length === 0) return undefined;
    let total = 0;
    for (const h of hosts) total += h.weight;
    let point = this.random() * total;
    for (const h of hosts) {
      point -= h.weight;
      if (point < 0) return h;
    }
    return hosts[hosts.length - 1];
  }
}

/**
 * LEAST_REQUEST. With equal weights: the power of `choiceCount` choices (Envoy's default 2),
 * sampled without replacement, picks the one with fewer active requests. With unequal weights:
 * the host with the highest weight / (active + 1), as Envoy's weighted least request does with
 * its default active_request_bias of 1.
 */
export class LeastRequestLoadBalancer implements LoadBalancer {
  constructor(
    private readonly choiceCount = 2,
    private readonly random: () => number = Math.random,
  ) {}

  choose(hosts: readonly Host[]): Host | undefined {
    if (hosts.length === 0) return undefined;
    const first = hosts[0] as Host;
    if (!hosts.every((h) => h.weight === first.weight)) {
      let best: Host | undefined;
      let bestScore = -Infinity;
      for (const h of hosts) {
        const score = h.weight / (h.activeLoad + 1);
        if (score > bestScore) {
          best = h;
          bestScore = score;
        }
      }
      return best;
    }
    if (hosts.length <= this.choiceCount) return leastLoaded(hosts);
    const picked = new Set<number>();
    while (picked.size < this.choiceCount) picked.add(Math.floor(this.random() * hosts.length));
    return leastLoaded([...picked].map((i) => hosts[i] as Host));
  }
}

function leastLoaded(hosts: readonly Host[]): Host | undefined {
  let best: Host | undefined;
  for (const h of hosts) if (best === undefined || h.activeLoad < best.activeLoad) best = h;
  return best;
}

export function createLoadBalancer(policy: 'ROUND_ROBIN' | 'RANDOM' | 'LEAST_REQUEST'): LoadBalancer {
  switch (policy) {
    case 'ROUND_ROBIN':
      return new RoundRobinLoadBalancer();
    case 'RANDOM':
      return new RandomLoadBalancer();
    case 'LEAST_REQUEST':
      return new LeastRequestLoadBalancer();
  }
}
