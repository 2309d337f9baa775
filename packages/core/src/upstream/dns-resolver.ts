import { lookup } from 'node:dns/promises';

export type DnsLookupFamily = 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';

/** Resolves a name to addresses: the hook tests and embedders can replace. */
export type DnsResolver = (hostname: string, family: DnsLookupFamily) => Promise<string[]>;

const LOOKUP_TIMEOUT_MS = 5000;

/**
 * Resolves with the system resolver (getaddrinfo: /etc/hosts first, as Envoy's default
 * resolver on Linux does), applying Envoy's `dns_lookup_family`:
 * V4_ONLY / V6_ONLY filter, V4_PREFERRED and AUTO (IPv6 first) fall back to the other family,
 * ALL keeps every address. A lookup that takes longer than 5 s fails.
 */
export const systemDnsResolver: DnsResolver = async (hostname, family) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`DNS lookup of ${hostname} timed out after ${LOOKUP_TIMEOUT_MS} ms`)), LOOKUP_TIMEOUT_MS);
    timer.unref();
  });
  try {
    const results = await Promise.race([lookup(hostname, { all: true, family: family === 'V4_ONLY' ? 4 : family === 'V6_ONLY' ? 6 : 0 }), timeout]);
    return pickFamily(
      results.map((r) => ({ address: r.address, family: r.family })),
      family,
    );
  } finally {
    clearTimeout(timer);
  }
};

export function pickFamily(results: ReadonlyArray<{ address: string; family: number }>, family: DnsLookupFamily): string[] {
  const v4 = results.filter((r) => r.family === 4).map((r) => r.address);
  const v6 = results.filter((r) => r.family === 6).map((r) => r.address);
  switch (family) {
    case 'V4_ONLY':
      return v4;
    case 'V6_ONLY':
      return v6;
    case 'V4_PREFERRED':
      return v4.length > 0 ? v4 : v6;
    case 'AUTO':
      return v6.length > 0 ? v6 : v4;
    case 'ALL':
      return [...v4, ...v6];
  }
}
