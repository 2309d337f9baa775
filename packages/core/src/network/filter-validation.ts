import type { Bootstrap } from '@il/config/runtime';
import type { ConfigFinding, NetworkFilterFactory } from './network-filter.js';

/**
 * Every problem the network filters of `bootstrap` would hit when they are built, asked of each
 * filter's factory (NetworkFilterFactory.validate), with paths from the bootstrap's root. A config
 * that passes here starts: validation and start-up agree.
 */
export function validateNetworkFilters(bootstrap: Bootstrap, factories: readonly NetworkFilterFactory[]): ConfigFinding[] {
  const findings: ConfigFinding[] = [];
  bootstrap.static_resources.listeners.forEach((listener, l) => {
    const chains = listener.filter_chains.map((chain, c) => ({ chain, where: `filter_chains[${c}]` }));
    if (listener.default_filter_chain !== undefined) chains.push({ chain: listener.default_filter_chain, where: 'default_filter_chain' });
    for (const { chain, where } of chains) {
      chain.filters.forEach((filter, f) => {
        const config = filter.typed_config;
        const factory = factories.find((candidate) => candidate.typeUrl === config['@type']);
        for (const finding of factory?.validate?.(config) ?? []) {
          findings.push({ path: `static_resources.listeners[${l}].${where}.filters[${f}].typed_config.${finding.path}`, message: finding.message });
        }
      });
    }
  });
  return findings;
}
