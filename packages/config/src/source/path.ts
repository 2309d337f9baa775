/** A field path inside a config: keys and array indexes, e.g. ['static_resources', 'listeners', 1, 'name']. */
export type FieldPath = readonly (string | number)[];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `static_resources.listeners[1].filter_chains[0].filters[0].typed_config["@type"]` */
export function formatPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** True when `path` is `prefix` or lies below it. */
export function isUnder(path: FieldPath, prefix: FieldPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}
