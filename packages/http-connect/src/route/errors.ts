/**
 * A route configuration that cannot be compiled. The message is Envoy's where Envoy has one, after
 * the path of the offending field: `virtual_hosts[0].routes[2].match.safe_regex.regex: Invalid regex ...`.
 */
export class RouteConfigError extends Error {
  override readonly name = 'RouteConfigError';

  constructor(
    /** Where in the RouteConfiguration, e.g. `virtual_hosts[0].routes[2].match`; '' for the whole table. */
    readonly path: string,
    /** The reason without the path. */
    readonly reason: string,
  ) {
    super(path === '' ? reason : `${path}: ${reason}`);
  }
}
