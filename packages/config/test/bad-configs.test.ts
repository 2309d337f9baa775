import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';
import { BAD_CASES } from './bad-configs.cases.js';
import { issuesOf, yaml } from './helpers.js';

describe('configs il refuses', () => {
  it('has at least 40 cases', () => {
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(BAD_CASES)('$title', ({ text, path, message, line, column }) => {
    expect(issuesOf({ text, name: 'bad.yaml' })).toEqual([{ source: 'bad.yaml', path, message, line, column }]);
  });
});

describe('all issues at once', () => {
  it('reports three field errors in three places', () => {
    const text = yaml`
      static_resources:
        listeners:
        - name: l
          address: { socket_address: { address: 127.0.0.1, port_value: 70000 } }
          per_connection_buffer_limit_bytes: lots
          filter_chains:
          - filters:
            - name: tcp
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: s
                cluster: c
                idle_timeout: soon
        clusters: [{ name: c }]
    `;
    let error: unknown;
    try {
      loadConfig({ text, name: 'three.yaml' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { issues, message } = error as ConfigError;
    expect(issues).toHaveLength(3);
    expect(message.split('\n')).toEqual([
      'three.yaml:4:66: static_resources.listeners[0].address.socket_address.port_value: value must be less than or equal to 65535',
      'three.yaml:5:40: static_resources.listeners[0].per_connection_buffer_limit_bytes: expected a number, got the string "lots"',
      'three.yaml:13:25: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.idle_timeout: invalid duration "soon": expected seconds with an "s" suffix, e.g. "5s" or "0.25s"',
    ]);
  });

  it('reports three cross-reference errors', () => {
    const text = yaml`
      static_resources:
        listeners:
        - name: l
          address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
          filter_chains: [{ filters: [{ name: tcp, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: s, cluster: a } }] }]
        - name: encap
          internal_listener: {}
          filter_chains: [{ filters: [{ name: tcp, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: s, cluster: b } }] }]
    `;
    expect(issuesOf({ text, name: 'refs.yaml' }).map((i) => `${i.line}: ${i.message}`)).toEqual([
      "5: tcp_proxy: unknown cluster 'a'",
      "7: error adding listener named 'encap': InternalListener bootstrap extension is mandatory",
      "8: tcp_proxy: unknown cluster 'b'",
    ]);
  });
});
