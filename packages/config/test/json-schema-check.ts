/**
 * Just enough of JSON Schema (2020-12) to check that toJsonSchema() accepts a config: the
 * keywords zod emits. Returns the paths that fail.
 */
type Schema = Record<string, unknown> | boolean;

export function schemaErrors(root: Record<string, unknown>, value: unknown): string[] {
  const errors: string[] = [];
  check(root, root, value, '$', errors);
  return errors;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  const actual = typeOf(value);
  return types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
}

function check(root: Record<string, unknown>, schema: Schema, value: unknown, at: string, errors: string[]): void {
  if (schema === true) return;
  if (schema === false) {
    errors.push(`${at}: nothing is allowed here`);
    return;
  }
  const fail = (why: string) => errors.push(`${at}: ${why}`);
  const sub = (s: unknown, v: unknown, path: string) => {
    const found: string[] = [];
    check(root, s as Schema, v, path, found);
    return found;
  };
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref.replace(/^#\//, '').split('/').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root);
    check(root, target as Schema, value, at, errors);
  }
  if (schema.type !== undefined && !matchesType(value, schema.type)) {
    fail(`expected ${JSON.stringify(schema.type)}, got ${typeOf(value)}`);
    return;
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) fail(`expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) fail(`not in enum ${JSON.stringify(schema.enum)}`);
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => sub(s, value, at).length === 0)) fail('matches none of anyOf');
  if (Array.isArray(schema.oneOf)) {
    const matching = schema.oneOf.filter((s) => sub(s, value, at).length === 0).length;
    if (matching !== 1) fail(`matches ${matching} of oneOf`);
  }
  if (Array.isArray(schema.allOf)) for (const s of schema.allOf) errors.push(...sub(s, value, at));
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) fail(`does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) fail('too short');
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) fail('too long');
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail('too few items');
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail('too many items');
    if (schema.items !== undefined) value.forEach((item, i) => errors.push(...sub(schema.items, item, `${at}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, unknown>;
    for (const key of Array.isArray(schema.required) ? (schema.required as string[]) : []) if (!(key in object)) fail(`missing ${key}`);
    for (const [key, item] of Object.entries(object)) {
      if (schema.propertyNames !== undefined) errors.push(...sub(schema.propertyNames, key, `${at}.${key} (name)`));
      if (key in properties) errors.push(...sub(properties[key], item, `${at}.${key}`));
      else if (schema.additionalProperties !== undefined) errors.push(...sub(schema.additionalProperties, item, `${at}.${key}`));
    }
  }
}
