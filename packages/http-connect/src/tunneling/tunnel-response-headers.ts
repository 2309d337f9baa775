/** Filter-state keys under which TcpProxy stores a tunnel's response headers and trailers (Envoy's names). */
export const TUNNEL_RESPONSE_HEADERS_KEY = 'envoy.tcp_proxy.propagate_response_headers';
export const TUNNEL_RESPONSE_TRAILERS_KEY = 'envoy.tcp_proxy.propagate_response_trailers';

/**
 * A tunnel response's headers or trailers in filter state (Envoy's TunnelResponseHeaders /
 * TunnelResponseTrailers): `%FILTER_STATE(key:TYPED)%` prints them as Envoy's HeaderMap proto
 * in JSON, `%FILTER_STATE(key:FIELD:name)%` prints one header's value.
 */
export class TunnelResponseHeaderMap {
  /** Lower-case names in arrival order, `:status` first for response headers. */
  readonly entries: ReadonlyArray<readonly [string, string]>;

  constructor(entries: ReadonlyArray<readonly [string, string]>) {
    this.entries = entries;
  }

  /** Node's header object (numbers and repeated headers included) as ordered entries. */
  static fromNode(headers: Readonly<Record<string, string | string[] | number | undefined>>): TunnelResponseHeaderMap {
    const entries: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) entries.push([name, v]);
      else entries.push([name, String(value)]);
    }
    return new TunnelResponseHeaderMap(entries);
  }

  /** The value of a header; repeated headers are joined with ',' as Envoy's HeaderMap does. */
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    const values = this.entries.filter(([key]) => key === lower).map(([, value]) => value);
    return values.length === 0 ? undefined : values.join(',');
  }

  getField(name: string): string | undefined {
    return this.get(name);
  }

  toJSON(): { headers: Array<{ key: string; value: string }> } {
    return { headers: this.entries.map(([key, value]) => ({ key, value })) };
  }
}
