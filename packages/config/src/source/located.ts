import { Duration } from '../duration.js';
import type { SourceLocation } from '../issues.js';
import type { FieldPath } from './path.js';

/** Where a node sits in its source text. Sources given as values carry only their name. */
export interface Position {
  readonly source: string;
  readonly line?: number;
  readonly column?: number;
}

export type Scalar = string | number | boolean | null;

/**
 * A config value that remembers where each part came from, so that issues found after merging and
 * normalizing still point at the right file, line and column.
 */
export type Located = LocatedScalar | LocatedMap | LocatedSeq;

export interface LocatedScalar {
  readonly kind: 'scalar';
  readonly pos: Position;
  readonly value: Scalar;
}

export interface LocatedEntry {
  readonly key: string;
  readonly keyPos: Position;
  readonly value: Located;
}

export interface LocatedMap {
  readonly kind: 'map';
  readonly pos: Position;
  readonly entries: readonly LocatedEntry[];
}

export interface LocatedSeq {
  readonly kind: 'seq';
  readonly pos: Position;
  readonly items: readonly Located[];
}

export function toPlain(node: Located): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlain);
    case 'map': {
      const out: Record<string, unknown> = {};
      // defineProperty keeps keys such as "__proto__" ordinary data.
      for (const entry of node.entries) Object.defineProperty(out, entry.key, { value: toPlain(entry.value), enumerable: true, writable: true, configurable: true });
      return out;
    }
  }
}

export function entryOf(map: LocatedMap, key: string): LocatedEntry | undefined {
  return map.entries.find((entry) => entry.key === key);
}

/**
 * The location of the node at `path`, or of its deepest existing ancestor when the path names
 * something absent (a missing required field is reported where its parent is).
 * `atKey` asks for the key's position instead of the value's, for issues about the key itself.
 */
export function locate(root: Located, path: FieldPath, atKey = false): SourceLocation {
  let node = root;
  let keyPos: Position | undefined;
  for (const segment of path) {
    const next = child(node, segment);
    if (!next) return toLocation(node.pos);
    node = next.node;
    keyPos = next.keyPos;
  }
  return toLocation(atKey && keyPos ? keyPos : node.pos);
}

function child(node: Located, segment: string | number): { node: Located; keyPos?: Position } | undefined {
  if (node.kind === 'seq' && typeof segment === 'number') {
    const item = node.items[segment];
    return item && { node: item };
  }
  if (node.kind === 'map') {
    const entry = entryOf(node, String(segment));
    return entry && { node: entry.value, keyPos: entry.keyPos };
  }
  return undefined;
}

function toLocation(pos: Position): SourceLocation {
  const location: SourceLocation = { source: pos.source };
  if (pos.line !== undefined) location.line = pos.line;
  if (pos.column !== undefined) location.column = pos.column;
  return location;
}

export interface PlainProblem {
  readonly path: FieldPath;
  readonly message: string;
}

/** Deeper than any real config; keeps hostile input from exhausting the stack. */
export const MAX_DEPTH = 128;

/**
 * Wraps an already-parsed value (for `{ value }` sources). Accepts JSON values, plus Duration
 * instances so a loaded Bootstrap can be fed back in; anything else is a problem.
 */
export function fromPlain(value: unknown, source: string, problems: PlainProblem[]): Located {
  const pos: Position = { source };
  const seen = new Set<object>();
  const wrap = (v: unknown, path: (string | number)[]): Located => {
    const bad = (message: string): Located => {
      problems.push({ path: [...path], message });
      return { kind: 'scalar', pos, value: null };
    };
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return { kind: 'scalar', pos, value: v };
    if (typeof v === 'number') return Number.isFinite(v) ? { kind: 'scalar', pos, value: v } : bad(`${v} is not a JSON number`);
    if (v instanceof Duration) return { kind: 'scalar', pos, value: v.toJSON() };
    if (typeof v !== 'object') return bad(`a ${typeof v} is not a JSON value`);
    if (path.length >= MAX_DEPTH) return bad(`nesting is deeper than ${MAX_DEPTH} levels`);
    if (seen.has(v)) return bad('the value refers to itself (a cycle)');
    seen.add(v);
    try {
      if (Array.isArray(v)) return { kind: 'seq', pos, items: v.map((item, i) => wrap(item, [...path, i])) };
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return bad('expected a plain object');
      const entries: LocatedEntry[] = [];
      for (const [key, item] of Object.entries(v)) {
        if (item === undefined) continue;
        entries.push({ key, keyPos: pos, value: wrap(item, [...path, key]) });
      }
      return { kind: 'map', pos, entries };
    } finally {
      seen.delete(v);
    }
  };
  return wrap(value, []);
}
