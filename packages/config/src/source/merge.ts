/**
 * protobuf MergeFrom over config trees, the way Envoy lays `--config-yaml` over `-c`: scalars
 * replace, messages merge field by field, repeated fields append, map (and Struct) entries
 * replace by key, Any values replace whole, and setting one member of a oneof clears the others.
 * Field names are matched in either spelling (`port_value` / `portValue`), so sources may differ.
 */
import type * as z from 'zod';
import type { Located, LocatedEntry } from './located.js';
import { lowerCamel } from '../normalize.js';
import { shapeOf } from '../schema/walk.js';

export function mergeFrom(base: Located, overlay: Located, schema: z.ZodType): Located {
  const shape = shapeOf(schema);
  if (shape.kind === 'list' && base.kind === 'seq' && overlay.kind === 'seq') {
    return { ...base, items: [...base.items, ...overlay.items] };
  }
  if ((shape.kind === 'map' || shape.kind === 'opaque') && base.kind === 'map' && overlay.kind === 'map') {
    const kept = base.entries.filter((entry) => !overlay.entries.some((o) => o.key === entry.key));
    return { ...base, entries: [...kept, ...overlay.entries] };
  }
  if (shape.kind !== 'message' || base.kind !== 'map' || overlay.kind !== 'map') return overlay;

  const byCamel = new Map(Object.keys(shape.fields).map((field) => [lowerCamel(field), field]));
  const fieldOf = (key: string) => (Object.hasOwn(shape.fields, key) ? key : (byCamel.get(key) ?? key));
  let entries: LocatedEntry[] = [...base.entries];
  for (const entry of overlay.entries) {
    // proto3 JSON null means "unset", and an unset field leaves the base alone.
    if (entry.value.kind === 'scalar' && entry.value.value === null) continue;
    const field = fieldOf(entry.key);
    const group = shape.info?.oneofs.find((oneof) => oneof.fields.includes(field));
    if (group) entries = entries.filter((e) => fieldOf(e.key) === field || !group.fields.includes(fieldOf(e.key)));
    const index = entries.findIndex((e) => fieldOf(e.key) === field);
    const existing = entries[index];
    const fieldSchema = Object.hasOwn(shape.fields, field) ? shape.fields[field] : undefined;
    if (existing && fieldSchema) entries[index] = { ...existing, value: mergeFrom(existing.value, entry.value, fieldSchema) };
    else if (existing) entries[index] = entry;
    else entries.push(entry);
  }
  return { ...base, entries };
}
