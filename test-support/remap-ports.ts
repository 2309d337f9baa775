import { freePort } from './ports.js';

/**
 * Gives every distinct `port_value` in a config text a free port, so an example (or one of
 * Envoy's configs) runs unmodified apart from its ports. Returns the new text and the mapping
 * from each original port to its replacement (extended in place when one is passed in).
 */
export async function remapPorts(text: string, shared?: Map<number, number>): Promise<{ text: string; ports: Map<number, number> }> {
  // Configs that talk to each other (encap and decap) pass the same map, so they agree on ports.
  const ports = shared ?? new Map<number, number>();
  for (const match of text.matchAll(/port_value:\s*(\d+)/g)) {
    const original = Number(match[1]);
    if (original !== 0 && !ports.has(original)) ports.set(original, await freePort());
  }
  const remapped = text.replace(/port_value:(\s*)(\d+)/g, (whole, space: string, port: string) => {
    const replacement = ports.get(Number(port));
    return replacement === undefined ? whole : `port_value:${space}${replacement}`;
  });
  return { text: remapped, ports };
}
