import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { Located, LocatedEntry, Position } from './located.js';
import { MAX_DEPTH } from './located.js';

export interface TextProblem {
  readonly message: string;
  readonly pos: Position;
  readonly warning?: boolean;
}

/** Caps what YAML aliases may expand to, so a "billion laughs" document costs milliseconds. */
export const MAX_NODES = 200_000;

/** How many YAML/JSON syntax errors are reported one by one. */
export const MAX_SYNTAX_ERRORS = 3;

/**
 * Parses YAML (or JSON, which YAML 1.2 contains) into a Located tree. Never throws: every problem,
 * with its position, goes to `problems`, and the result is undefined when nothing usable was read.
 */
export function parseText(text: string, source: string, format: 'yaml' | 'json', problems: TextProblem[]): Located | undefined {
  const lineCounter = new LineCounter();
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { source, line, column: col };
  };
  if (format === 'json' && !checkJson(text, source, problems)) return undefined;

  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2', strict: true });
  } catch (error) {
    problems.push({ message: `cannot parse ${format.toUpperCase()}: ${String(error)}`, pos: { source } });
    return undefined;
  }
  for (const warning of doc.warnings) problems.push({ message: `YAML: ${warning.message}`, pos: at(warning.pos[0]), warning: true });
  if (doc.errors.length > 0) {
    // After the first few, a parser's errors are mostly echoes of the first: report those few.
    const kind = format === 'json' ? 'JSON' : 'YAML';
    const seen = new Set<string>();
    const errors = doc.errors.filter((error) => {
      const key = `${String(error.pos[0])}:${error.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    for (const error of errors.slice(0, MAX_SYNTAX_ERRORS)) problems.push({ message: `${kind} syntax error: ${error.message}`, pos: at(error.pos[0]) });
    const more = errors.length - MAX_SYNTAX_ERRORS;
    if (more > 0) {
      const next = errors[MAX_SYNTAX_ERRORS];
      problems.push({ message: `${kind}: ${more} more syntax error${more === 1 ? '' : 's'} after these, most likely consequences of the first`, pos: at(next?.pos[0] ?? 0) });
    }
    return undefined;
  }
  if (doc.contents === null) {
    problems.push({ message: 'the config is empty', pos: { source, line: 1, column: 1 } });
    return undefined;
  }

  let budget = MAX_NODES;
  let exhausted = false;
  const posOf = (node: YamlNode): Position => at(node.range?.[0] ?? 0);
  const convert = (node: YamlNode | null, depth: number, fallback: Position): Located => {
    const pos = node ? posOf(node) : fallback;
    if (--budget < 0 || depth > MAX_DEPTH) {
      if (!exhausted) {
        exhausted = true;
        const reason = budget < 0 ? `expands to more than ${MAX_NODES} nodes (check YAML aliases)` : `nests deeper than ${MAX_DEPTH} levels`;
        problems.push({ message: `the document ${reason}`, pos });
      }
      return { kind: 'scalar', pos, value: null };
    }
    if (node === null) return { kind: 'scalar', pos, value: null };
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) {
        problems.push({ message: `unknown YAML alias *${node.source}`, pos });
        return { kind: 'scalar', pos, value: null };
      }
      return convert(target, depth + 1, pos);
    }
    if (isScalar(node)) {
      const value = node.value;
      if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'scalar', pos, value };
      return { kind: 'scalar', pos, value: typeof value === 'bigint' ? Number(value) : JSON.stringify(value) };
    }
    if (isSeq(node)) return { kind: 'seq', pos, items: node.items.map((item) => convert(item as YamlNode | null, depth + 1, pos)) };
    if (isMap(node)) {
      const entries: LocatedEntry[] = [];
      const merged: LocatedEntry[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyPos = keyNode ? posOf(keyNode) : pos;
        if (keyNode !== null && !isScalar(keyNode)) {
          problems.push({ message: 'mapping keys must be plain strings', pos: keyPos });
          continue;
        }
        const key = keyNode === null ? '' : String(keyNode.value);
        const value = convert(pair.value as YamlNode | null, depth + 1, keyPos);
        if (key === '<<' && keyNode?.type === 'PLAIN') merged.push(...mergeKeySources(value, problems));
        else entries.push({ key, keyPos, value });
      }
      // YAML merge keys (`<<: *defaults`): explicit keys win over merged ones.
      for (const entry of merged) if (!entries.some((e) => e.key === entry.key)) entries.push(entry);
      return { kind: 'map', pos, entries };
    }
    problems.push({ message: 'unsupported YAML node', pos });
    return { kind: 'scalar', pos, value: null };
  };
  return convert(doc.contents, 0, { source, line: 1, column: 1 });
}

function mergeKeySources(value: Located, problems: TextProblem[]): LocatedEntry[] {
  const maps = value.kind === 'seq' ? value.items : [value];
  const entries: LocatedEntry[] = [];
  for (const map of maps) {
    if (map.kind !== 'map') {
      problems.push({ message: 'a YAML merge key (<<) needs a mapping or a list of mappings', pos: map.pos });
      continue;
    }
    for (const entry of map.entries) if (!entries.some((e) => e.key === entry.key)) entries.push(entry);
  }
  return entries;
}

/** YAML accepts more than JSON does; a file that says it is JSON must be JSON. */
function checkJson(text: string, source: string, problems: TextProblem[]): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const offset = /position (\d+)/.exec(message)?.[1];
    const pos: Position = offset === undefined ? { source } : positionAt(text, Number(offset), source);
    problems.push({ message: `JSON syntax error: ${message}`, pos });
    return false;
  }
}

function positionAt(text: string, offset: number, source: string): Position {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { source, line, column };
}
