/**
 * Turns proto-JSON as people write it into the one form the schemas validate: field names in
 * snake_case, enums by name, numbers as numbers, nulls dropped (proto3 JSON's "unset"), and
 * filters given only by name given their default typed_config. Also reports what only the
 * shape of the text shows: unknown fields (at the key), a field spelled two ways, oneofs.
 */
import type * as z from 'zod';
import type { Located, LocatedEntry, LocatedMap, Position } from './source/located.js';
import type { FieldPath } from './source/path.js';
import { shapeOf } from './schema/walk.js';
import type { Shape } from './schema/walk.js';
import { TYPE_URL_PREFIX } from './schema/proto.js';

export interface Finding {
  readonly path: FieldPath;
  readonly message: string;
  readonly pos: Position;
}

export interface NormalizeResult {
  readonly value: Located;
  readonly issues: Finding[];
  readonly warnings: Finding[];
  /** Paths already explained by an issue here; schema issues at or below them would repeat it. */
  readonly settled: FieldPath[];
}

export interface NormalizeOptions {
  /** Envoy's --allow-unknown-static-fields: unknown fields become warnings and are dropped. */
  readonly allowUnknownFields?: boolean;
}

/** protobuf's json_name: `port_value` → `portValue`. */
export function lowerCamel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_match, c: string) => c.toUpperCase());
}

const NUMBER_TEXT = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

export function normalize(root: Located, schema: z.ZodType, options: NormalizeOptions = {}): NormalizeResult {
  const result: NormalizeResult = { value: root, issues: [], warnings: [], settled: [] };
  const walk = (node: Located, at: z.ZodType, path: FieldPath): Located => visit(node, shapeOf(at), path);

  const visit = (node: Located, shape: Shape, path: FieldPath): Located => {
    switch (shape.kind) {
      case 'message':
        return node.kind === 'map' ? normalizeMessage(node, shape, path) : node;
      case 'list':
        return node.kind === 'seq' ? { ...node, items: node.items.map((item, i) => walk(item, shape.element, [...path, i])) } : node;
      case 'map':
        return node.kind === 'map' ? normalizeMap(node, shape, path) : node;
      case 'any':
        return node.kind === 'map' ? normalizeAny(node, shape, path) : node;
      case 'union': {
        if (node.kind !== 'map') return node;
        const message = shape.options.find((option) => shapeOf(option).kind === 'message');
        return message ? walk(node, message, path) : node;
      }
      case 'enum': {
        if (node.kind !== 'scalar' || typeof node.value !== 'number') return node;
        const name = shape.names?.get(node.value);
        return name === undefined ? node : { ...node, value: name };
      }
      case 'number':
        return node.kind === 'scalar' && typeof node.value === 'string' && NUMBER_TEXT.test(node.value) ? { ...node, value: Number(node.value) } : node;
      case 'opaque':
      case 'scalar':
        return node;
    }
  };

  const normalizeMessage = (node: LocatedMap, shape: Extract<Shape, { kind: 'message' }>, path: FieldPath): Located => {
    const { fields, info } = shape;
    const typeName = info?.typeName ?? 'this message';
    const byCamel = new Map(Object.keys(fields).map((field) => [lowerCamel(field), field]));
    const entries: LocatedEntry[] = [];
    for (const entry of node.entries) {
      const field = Object.hasOwn(fields, entry.key) ? entry.key : byCamel.get(entry.key);
      const fieldPath = [...path, field ?? entry.key];
      if (field === undefined) {
        const finding = { path: fieldPath, message: `unknown field in ${typeName}${suggestion(entry.key, Object.keys(fields))}`, pos: entry.keyPos };
        if (options.allowUnknownFields) result.warnings.push({ ...finding, message: `${finding.message}; ignored` });
        else result.issues.push(finding);
        continue;
      }
      const earlier = entries.find((e) => e.key === field);
      if (earlier) {
        result.issues.push({ path: fieldPath, message: `"${field}" is given twice (as "${field}" and "${lowerCamel(field)}"); use one spelling`, pos: entry.keyPos });
        continue;
      }
      if (entry.value.kind === 'scalar' && entry.value.value === null) continue;
      const hint = info?.deprecated[field];
      if (hint !== undefined) result.warnings.push({ path: fieldPath, message: `deprecated option '${typeName}.${field}': use ${hint} instead`, pos: entry.keyPos });
      const schema = fields[field];
      entries.push({ key: field, keyPos: entry.keyPos, value: schema ? walk(entry.value, schema, fieldPath) : entry.value });
    }
    for (const group of info?.oneofs ?? []) {
      const present = group.fields.filter((field) => entries.some((e) => e.key === field));
      const second = present[1] === undefined ? undefined : entries.find((e) => e.key === present[1]);
      if (second) {
        result.issues.push({ path: [...path, second.key], message: `only one of ${group.fields.join(', ')} may be set; ${present.join(' and ')} are set`, pos: second.keyPos });
      } else if (present.length === 0 && group.required) {
        result.issues.push({ path, message: `exactly one of ${group.fields.join(', ')} must be set`, pos: node.pos });
        for (const field of group.fields) result.settled.push([...path, field]);
      }
    }
    resolveTypedConfigByName(entries, fields, path, node.pos);
    return { ...node, entries };
  };

  /** Old-style `- name: envoy.filters.http.router` with no typed_config: the named extension's defaults. */
  const resolveTypedConfigByName = (entries: LocatedEntry[], fields: Readonly<Record<string, z.ZodType>>, path: FieldPath, pos: Position): void => {
    const typedConfig = fields.typed_config;
    if (!typedConfig || !Object.hasOwn(fields, 'name') || entries.some((e) => e.key === 'typed_config')) return;
    const slotShape = shapeOf(typedConfig);
    if (slotShape.kind !== 'any' || !slotShape.slot) return;
    const nameEntry = entries.find((e) => e.key === 'name');
    const name = nameEntry?.value.kind === 'scalar' ? nameEntry.value.value : undefined;
    if (typeof name !== 'string') return;
    const { what, defs } = slotShape.slot;
    const def = defs.find((d) => d.names.includes(name));
    const configPath = [...path, 'typed_config'];
    if (!def) {
      const known = defs.flatMap((d) => d.names);
      result.issues.push({ path: configPath, message: `typed_config is required: '${name}' is not the name of a ${what} il knows${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`, pos });
      result.settled.push(configPath);
      return;
    }
    const at = nameEntry?.value.pos ?? pos;
    entries.push({
      key: 'typed_config',
      keyPos: at,
      value: { kind: 'map', pos: at, entries: [{ key: '@type', keyPos: at, value: { kind: 'scalar', pos: at, value: def.typeUrl } }] },
    });
    result.warnings.push({ path: configPath, message: `no typed_config: using the defaults of ${def.typeUrl}, found by the ${what} name '${name}'`, pos: at });
  };

  const normalizeMap = (node: LocatedMap, shape: Extract<Shape, { kind: 'map' }>, path: FieldPath): Located => {
    const entries: LocatedEntry[] = [];
    for (const entry of node.entries) {
      if (shape.keys && !shape.keys.includes(entry.key)) {
        result.issues.push({ path: [...path, entry.key], message: `unknown key; expected ${shape.keys.join(', ')}`, pos: entry.keyPos });
        continue;
      }
      if (entry.value.kind === 'scalar' && entry.value.value === null) continue;
      entries.push({ ...entry, value: walk(entry.value, shape.value, [...path, entry.key]) });
    }
    return { ...node, entries };
  };

  const normalizeAny = (node: LocatedMap, shape: Extract<Shape, { kind: 'any' }>, path: FieldPath): Located => {
    const typeEntry = node.entries.find((e) => e.key === '@type');
    const typeUrl = typeEntry?.value.kind === 'scalar' ? typeEntry.value.value : undefined;
    const supported = [...shape.branches.keys()];
    const what = shape.slot?.what ?? 'config';
    const branch = typeof typeUrl === 'string' ? shape.branches.get(typeUrl) : undefined;
    if (branch) return walk(node, branch, path);
    // Envoy reads only the type name after the last "/", whatever the host before it.
    const canonical = typeof typeUrl === 'string' && typeUrl.includes('/') ? supported.find((url) => url.endsWith(typeUrl.slice(typeUrl.lastIndexOf('/')))) : undefined;
    const canonicalBranch = canonical === undefined ? undefined : shape.branches.get(canonical);
    if (canonical !== undefined && canonicalBranch && typeEntry) {
      const entries = node.entries.map((e) => (e === typeEntry ? { ...e, value: { ...e.value, value: canonical } } : e)) as LocatedEntry[];
      return walk({ ...node, entries }, canonicalBranch, path);
    }
    const typePath = [...path, '@type'];
    if (typeUrl === undefined || typeUrl === null) {
      result.issues.push({ path: typePath, message: `"@type" is required; supported ${what} types: ${supported.join(', ')}`, pos: node.pos });
    } else {
      const text = String(typeUrl);
      const hint = text.startsWith(TYPE_URL_PREFIX) ? '' : ` (type URLs start with ${TYPE_URL_PREFIX})`;
      result.issues.push({ path: typePath, message: `unsupported ${what} type ${JSON.stringify(text)}${hint}; supported: ${supported.join(', ')}`, pos: typeEntry?.value.pos ?? node.pos });
    }
    result.settled.push(path);
    return node;
  };

  return { ...result, value: walk(root, schema, []) };
}

/** ` (did you mean "address"?)` when a known field is close to the unknown one. */
function suggestion(key: string, fields: readonly string[]): string {
  const squash = (s: string) => s.toLowerCase().replaceAll('_', '');
  let best: { field: string; distance: number } | undefined;
  for (const field of fields) {
    const distance = editDistance(squash(key), squash(field));
    if (distance <= Math.max(1, Math.floor(field.length / 4)) && (!best || distance < best.distance)) best = { field, distance };
  }
  return best ? ` (did you mean "${best.field}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
