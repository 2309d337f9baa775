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

/**
 * The inverse of formatPath: `a.b[0]["@type"]` → ['a', 'b', 0, '@type']. Text that is not a path of
 * that form ends the parse: what was read so far is returned (a prefix of the path is still a place
 * to point at).
 */
export function parsePath(text: string): FieldPath {
  const path: (string | number)[] = [];
  const token = /\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let match: RegExpExecArray | null;
  while (token.lastIndex < text.length && (match = token.exec(text)) !== null) {
    if (match[1] !== undefined) path.push(match[1]);
    else if (match[2] !== undefined) path.push(Number(match[2]));
    else path.push(JSON.parse(match[3] as string) as string);
  }
  return path;
}
