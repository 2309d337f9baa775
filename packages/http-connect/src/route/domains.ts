/**
 * Virtual host selection by `domains` (Envoy's RouteMatcher::findVirtualHost): the lower-cased
 * authority is looked up as an exact domain, then against suffix wildcards (`*.foo.com`,
 * `*-bar.foo.com`) longest first, then prefix wildcards (`foo.*`) longest first, then `*`. A
 * wildcard never matches an empty remainder (`*.foo.com` does not match `.foo.com`).
 *
 * Ports: the authority is matched whole, port included (`foo.com:8080` needs a domain
 * `foo.com:8080` or `foo.com:*`). Envoy does not retry without the port; the port is dropped only by
 * the HCM's strip_any_host_port / strip_matching_host_port (or RouteConfiguration
 * ignore_port_in_host_matching, which il does not read), before this lookup.
 */
import { RouteConfigError } from './errors.js';

/** Wildcards with the same number of fixed characters, keyed by those characters. */
interface WildcardBucket<T> {
  readonly length: number;
  readonly hosts: Map<string, T>;
}

export class DomainIndex<T> {
  readonly #exact = new Map<string, T>();
  readonly #suffixes: Array<WildcardBucket<T>> = [];
  readonly #prefixes: Array<WildcardBucket<T>> = [];
  #default: T | undefined;

  /** Adds a virtual host's domains; throws Envoy's errors for a repeated domain or a second `*`. */
  add(domains: readonly string[], host: T, routeConfigName: string, path: string): void {
    domains.forEach((domainName, i) => {
      const domain = domainName.toLowerCase();
      let duplicate: boolean;
      if (domain === '*') {
        if (this.#default !== undefined) throw new RouteConfigError(`${path}[${i}]`, `Only a single wildcard domain is permitted in route ${routeConfigName}`);
        this.#default = host;
        return;
      } else if (domain.startsWith('*')) {
        duplicate = !insert(this.#suffixes, domain.slice(1), host);
      } else if (domain.endsWith('*')) {
        duplicate = !insert(this.#prefixes, domain.slice(0, -1), host);
      } else {
        duplicate = this.#exact.has(domain);
        if (!duplicate) this.#exact.set(domain, host);
      }
      if (duplicate) {
        throw new RouteConfigError(`${path}[${i}]`, `Only unique values for domains are permitted. Duplicate entry of domain ${domain} in route ${routeConfigName}`);
      }
    });
  }

  find(authority: string): T | undefined {
    if (this.#exact.size === 0 && this.#suffixes.length === 0 && this.#prefixes.length === 0) return this.#default;
    const host = authority.toLowerCase();
    const exact = this.#exact.get(host);
    if (exact !== undefined) return exact;
    for (const bucket of this.#suffixes) {
      if (bucket.length >= host.length) continue;
      const found = bucket.hosts.get(host.slice(host.length - bucket.length));
      if (found !== undefined) return found;
    }
    for (const bucket of this.#prefixes) {
      if (bucket.length >= host.length) continue;
      const found = bucket.hosts.get(host.slice(0, bucket.length));
      if (found !== undefined) return found;
    }
    return this.#default;
  }
}

/** Adds `fixed` to the bucket of its length (buckets stay longest first); false if it was there. */
function insert<T>(buckets: Array<WildcardBucket<T>>, fixed: string, host: T): boolean {
  let bucket = buckets.find((b) => b.length === fixed.length);
  if (bucket === undefined) {
    bucket = { length: fixed.length, hosts: new Map() };
    buckets.push(bucket);
    buckets.sort((a, b) => b.length - a.length);
  }
  if (bucket.hosts.has(fixed)) return false;
  bucket.hosts.set(fixed, host);
  return true;
}
