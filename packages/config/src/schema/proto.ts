/**
 * The few building blocks every Envoy message in this package is made of: messages (strict objects
 * with proto type names and oneofs), enums that also accept their numbers, wrappers, durations,
 * Structs and typed configs (`Any` with an "@type"). Each block registers what the prepare and
 * merge passes need to know about it, so the schemas stay the one description of the config.
 */
import * as z from 'zod';
import { Duration, durationFromParts, parseDurationText } from '../duration.js';
import type { FieldPath } from '../source/path.js';

// ---------------------------------------------------------------- messages

/** A proto oneof: at most one of `fields` may be set; with `required`, exactly one. */
export interface Oneof {
  readonly fields: readonly string[];
  readonly required: boolean;
}

export interface MessageInfo {
  /** Proto full name, e.g. `envoy.config.listener.v3.Listener`. */
  readonly typeName: string;
  readonly oneofs: readonly Oneof[];
  /** Deprecated fields, each with what to use instead. */
  readonly deprecated: Readonly<Record<string, string>>;
}

/** Reports a rule violation at a path relative to the message being checked. */
export type Report = (path: FieldPath, message: string) => void;

const messageInfos = new WeakMap<z.ZodType, MessageInfo>();

export function messageInfo(schema: z.ZodType): MessageInfo | undefined {
  return messageInfos.get(schema);
}

export function oneof(...fields: string[]): Oneof {
  return { fields, required: false };
}

export function requiredOneof(...fields: string[]): Oneof {
  return { fields, required: true };
}

export interface MessageOptions<S extends z.ZodRawShape> {
  readonly oneofs?: readonly Oneof[];
  /** Deprecated fields (still accepted, with a warning), each with what to use instead. */
  readonly deprecated?: { readonly [K in keyof S]?: string };
  /** Envoy's checks that span fields; they run once every field of the message is valid. */
  readonly rules?: (value: z.output<z.ZodObject<S, z.core.$strict>>, report: Report) => void;
}

/**
 * A proto message: unknown fields are refused and `rules` check what spans fields. Don't chain
 * `.superRefine` on the result: zod clones on every call and the clone would lose the
 * registration; pass `rules` instead.
 */
export function message<S extends z.ZodRawShape>(typeName: string, shape: S, options: MessageOptions<S> = {}): z.ZodObject<S, z.core.$strict> {
  let schema = z.strictObject(shape);
  const { rules } = options;
  if (rules) {
    schema = schema.superRefine((value, ctx) => {
      rules(value, (path, text) => ctx.addIssue({ code: 'custom', message: text, path: [...path] }));
    });
  }
  messageInfos.set(schema, { typeName, oneofs: options.oneofs ?? [], deprecated: (options.deprecated ?? {}) as Record<string, string> });
  return schema;
}

/** A message that is present with its defaults when the config leaves it out. */
export function defaulted<T extends z.ZodObject>(schema: T): z.ZodPrefault<T> {
  // An empty input runs the message's own defaults; the cast only restates that {} is valid input here.
  return schema.prefault({} as z.input<T>);
}

/** google.protobuf.Empty and the many `{}`-only config messages. */
export function empty(typeName: string) {
  return message(typeName, {});
}

// ---------------------------------------------------------------- enums

const enumNumbers = new WeakMap<z.ZodType, ReadonlyMap<number, string>>();

/** The enum's value names by number, for configs that write enums as numbers. */
export function enumNames(schema: z.ZodType): ReadonlyMap<number, string> | undefined {
  return enumNumbers.get(schema);
}

/**
 * A proto enum, written by name (numbers are turned into names before validation). Values outside
 * `supported` are valid Envoy but not implemented here, and are refused with `unsupportedReason`.
 */
export function protoEnum<const N extends string>(
  values: Record<N, number>,
  supported?: readonly NoInfer<N>[],
  unsupportedReason = 'it is not implemented',
): z.ZodEnum<{ [K in N]: K }> {
  const names = Object.keys(values) as N[];
  let schema = z.enum(names as [N, ...N[]]);
  if (supported) {
    const allowed = new Set<string>(supported);
    schema = schema.superRefine((value, ctx) => {
      if (!allowed.has(value)) {
        ctx.addIssue({ code: 'custom', message: `${value} is not supported (${unsupportedReason}); supported: ${supported.join(', ')}` });
      }
    });
  }
  enumNumbers.set(schema, new Map(names.map((name) => [values[name], name])));
  return schema;
}

// ---------------------------------------------------------------- scalars

const UINT32_MAX = 4_294_967_295;

export function uint32(range: { min?: number; max?: number } = {}): z.ZodNumber {
  return z.number().int().min(range.min ?? 0).max(range.max ?? UINT32_MAX);
}

export function int32(range: { min?: number; max?: number } = {}): z.ZodNumber {
  return z.number().int().min(range.min ?? -2_147_483_648).max(range.max ?? 2_147_483_647);
}

export function nonEmptyString(): z.ZodString {
  return z.string().min(1);
}

/** Header names and other strings that must not carry control characters. */
export function headerName(): z.ZodString {
  return z.string().min(1).regex(/^[^\0\r\n]+$/, { error: 'header names must not contain NUL, CR or LF' });
}

export const percent = message('envoy.type.v3.Percent', { value: z.number().min(0).max(100) });

// ---------------------------------------------------------------- durations

const durationParts = message('google.protobuf.Duration', { seconds: z.number().int(), nanos: z.number().int().default(0) });

const durationSchemas = new WeakSet<z.ZodType>();

export function isDurationSchema(schema: z.ZodType): boolean {
  return durationSchemas.has(schema);
}

/**
 * A google.protobuf.Duration: "5s", "0.25s" or `{seconds, nanos}`, parsed into a Duration.
 * `min` (milliseconds) and `positive` are Envoy's validation rules for the field.
 */
export function duration(rule: { min?: number; positive?: boolean } = {}) {
  const schema = z
    .union([z.string(), durationParts], { error: 'expected a duration such as "5s" or "0.25s"' })
    .transform((input, ctx) => {
      const parsed = typeof input === 'string' ? parseDurationText(input) : durationFromParts(input.seconds, input.nanos);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed, input });
        return z.NEVER;
      }
      if (rule.min !== undefined && parsed.ms < rule.min) {
        ctx.addIssue({ code: 'custom', message: `duration must be at least ${new Duration(rule.min).toJSON()}, got ${parsed.toJSON()}`, input });
      } else if (rule.positive && parsed.ms === 0) {
        ctx.addIssue({ code: 'custom', message: 'duration must be greater than 0s', input });
      }
      return parsed;
    });
  durationSchemas.add(schema);
  return schema;
}

/** `duration()` with a default, given in seconds as Envoy documents it. */
export function durationOr(seconds: number, rule: { min?: number; positive?: boolean } = {}) {
  return duration(rule).default(() => Duration.seconds(seconds));
}

// ---------------------------------------------------------------- Struct

/** google.protobuf.Struct: free-form JSON whose keys are data, never field names. */
export const struct = z.record(z.string(), z.json());

export function isStructSchema(schema: z.ZodType): boolean {
  return schema === struct;
}

// ---------------------------------------------------------------- typed configs (Any)

export const TYPE_URL_PREFIX = 'type.googleapis.com/' as const;

/** One config type a typed_config may hold, with the extension names that stand for its default. */
export interface TypedConfigDef<T extends z.ZodType = z.ZodType> {
  readonly typeUrl: string;
  /** Envoy extension names whose bare `name:` (no typed_config) means this type with defaults. */
  readonly names: readonly string[];
  readonly schema: T;
}

export interface TypedConfigSlot {
  /** What the slot holds, for messages: "network filter", "access logger". */
  readonly what: string;
  readonly defs: readonly TypedConfigDef[];
}

const slots = new WeakMap<z.ZodType, TypedConfigSlot>();

export function typedConfigSlot(schema: z.ZodType): TypedConfigSlot | undefined {
  return slots.get(schema);
}

/** The shape of a message packed in an Any: its fields plus the "@type" naming it. */
export type TypedShape<T extends string, S extends z.ZodRawShape> = { '@type': z.ZodLiteral<`${typeof TYPE_URL_PREFIX}${T}`> } & S;

/**
 * A message packed in an Any: `{"@type": "type.googleapis.com/<typeName>", ...fields}`, with the
 * extension names whose bare `name:` stands for it.
 */
export function typedMessage<const T extends string, S extends z.ZodRawShape>(
  typeName: T,
  names: readonly string[],
  shape: S,
  options: MessageOptions<TypedShape<T, S>> = {},
): TypedConfigDef<z.ZodObject<TypedShape<T, S>, z.core.$strict>> & { readonly typeUrl: `${typeof TYPE_URL_PREFIX}${T}` } {
  const typeUrl = `${TYPE_URL_PREFIX}${typeName}` as const;
  const typedShape = { '@type': z.literal(typeUrl), ...shape } as TypedShape<T, S>;
  return { typeUrl, names, schema: message(typeName, typedShape, options) };
}

/** What a typed config schema may be: a message, or a message with a transform after it. */
export type TypedSchema = z.core.$ZodTypeDiscriminable & z.ZodType<{ '@type': string }>;

/** A typed_config field: a union on "@type" over the config types this position accepts. */
export function typedConfig<const D extends readonly [TypedConfigDef<TypedSchema>, ...TypedConfigDef<TypedSchema>[]]>(
  what: string,
  defs: D,
): z.ZodDiscriminatedUnion<{ -readonly [K in keyof D]: D[K]['schema'] }, '@type'> {
  const options = defs.map((def) => def.schema) as { -readonly [K in keyof D]: D[K]['schema'] };
  const schema = z.discriminatedUnion('@type', options);
  slots.set(schema, { what, defs });
  return schema;
}

// ---------------------------------------------------------------- not supported

const unsupportedReasons = new WeakMap<z.ZodType, string>();

/** Why il refuses the field this schema describes, if it is one of those. */
export function unsupportedReason(schema: z.ZodType): string | undefined {
  return unsupportedReasons.get(schema);
}

/**
 * A field Envoy has and this implementation refuses, with the reason. Accepting it in the schema
 * (rather than calling it unknown) lets the message say why.
 */
export function unsupported(reason: string): z.ZodType<never> {
  const schema = z.unknown().superRefine((_value, ctx) => {
    ctx.addIssue({ code: 'custom', message: `not supported: ${reason}` });
  });
  unsupportedReasons.set(schema, reason);
  // The refinement refuses every value, so the schema's output type is in fact never.
  return schema as unknown as z.ZodType<never>;
}
