/**
 * Reading zod schemas as a description of proto messages: what the prepare and merge passes need
 * to know at a given position of the config.
 */
import type * as z from 'zod';
import { enumNames, isStructSchema, messageInfo, typedConfigSlot } from './proto.js';
import type { MessageInfo, TypedConfigSlot } from './proto.js';

/** The zod internals read here are the documented `def` of each schema kind. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  options?: readonly z.ZodType[];
  discriminator?: string;
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string>;
  values?: readonly unknown[];
}

function defOf(schema: z.ZodType): Def {
  // zod types `def` per schema kind; this reads the fields common to the kinds handled here.
  const def: unknown = schema.def;
  return def as Def;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** The schema that describes the input at this position: wrappers, pipes and lazies removed. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let i = 0; i < 64; i++) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else if (def.type === 'lazy' && def.getter) current = def.getter();
    else return current;
  }
  return current;
}

/** What a position of the config holds, as far as the prepare and merge passes care. */
export type Shape =
  | { kind: 'message'; fields: Readonly<Record<string, z.ZodType>>; info: MessageInfo | undefined }
  | { kind: 'list'; element: z.ZodType }
  | { kind: 'map'; value: z.ZodType; keys: readonly string[] | undefined }
  | { kind: 'any'; slot: TypedConfigSlot | undefined; branches: ReadonlyMap<string, z.ZodType> }
  | { kind: 'union'; options: readonly z.ZodType[] }
  | { kind: 'enum'; names: ReadonlyMap<number, string> | undefined }
  | { kind: 'number' }
  | { kind: 'opaque' }
  | { kind: 'scalar' };

export function shapeOf(schema: z.ZodType): Shape {
  const s = unwrap(schema);
  if (isStructSchema(s)) return { kind: 'opaque' };
  const def = defOf(s);
  switch (def.type) {
    case 'object':
      return { kind: 'message', fields: def.shape ?? {}, info: messageInfo(s) };
    case 'array':
      return def.element ? { kind: 'list', element: def.element } : { kind: 'scalar' };
    case 'record': {
      if (!def.valueType) return { kind: 'scalar' };
      const keyDef = def.keyType ? defOf(unwrap(def.keyType)) : undefined;
      return { kind: 'map', value: def.valueType, keys: keyDef?.type === 'enum' && keyDef.entries ? Object.values(keyDef.entries) : undefined };
    }
    case 'union': {
      const options = def.options ?? [];
      if (def.discriminator === undefined) return { kind: 'union', options };
      const branches = new Map<string, z.ZodType>();
      for (const option of options) {
        const tag = defOf(unwrap(option)).shape?.[def.discriminator];
        const value = tag ? defOf(tag).values?.[0] : undefined;
        if (typeof value === 'string') branches.set(value, option);
      }
      return { kind: 'any', slot: typedConfigSlot(s), branches };
    }
    case 'enum':
      return { kind: 'enum', names: enumNames(s) };
    case 'number':
      return { kind: 'number' };
    case 'unknown':
    case 'any':
    case 'lazy':
      return { kind: 'opaque' };
    default:
      return { kind: 'scalar' };
  }
}
