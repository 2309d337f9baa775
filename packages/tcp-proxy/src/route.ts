import type { TcpProxy } from '@il/config/runtime';
import type { FilterState } from '@il/core';
import { FilterStateKeys } from './filter-state-keys.js';

/**
 * Which cluster a connection goes to: the `envoy.tcp_proxy.cluster` filter-state override, else
 * `cluster`, else a weighted random pick among `weighted_clusters` (made again on every connect
 * attempt, as in Envoy).
 */
export class RouteSelector {
  readonly #cluster: string | undefined;
  readonly #weighted: ReadonlyArray<{ name: string; weight: number }>;
  readonly #totalWeight: number;

  constructor(
    config: TcpProxy,
    private readonly random: () => number = Math.random,
  ) {
    this.#cluster = config.cluster !== undefined && config.cluster !== '' ? config.cluster : undefined;
    this.#weighted = config.weighted_clusters?.clusters.map((c) => ({ name: c.name, weight: c.weight })) ?? [];
    this.#totalWeight = this.#weighted.reduce((sum, c) => sum + c.weight, 0);
  }

  pick(filterState: FilterState): string | undefined {
    const override = filterState.get(FilterStateKeys.cluster);
    if (typeof override === 'string' && override !== '') return override;
    if (this.#cluster !== undefined) return this.#cluster;
    let point = this.random() * this.#totalWeight;
    for (const cluster of this.#weighted) {
      point -= cluster.weight;
      if (point < 0) return cluster.name;
    }
    return this.#weighted[this.#weighted.length - 1]?.name;
  }
}
