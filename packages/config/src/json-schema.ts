/** A JSON Schema of everything the loader accepts, for editors (e.g. the YAML language server). */
import * as z from 'zod';
import { bootstrap } from './api/bootstrap.js';
import { Duration } from './duration.js';
import { isDurationSchema, unsupportedReason } from './schema/proto.js';
import { shapeOf } from './schema/walk.js';

/**
 * JSON Schema (draft 2020-12) of the Bootstrap as written in a config file: snake_case field
 * names, durations as "5s", enums by name. Fields il refuses are described, not listed as unknown.
 */
export function toJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(bootstrap, {
    io: 'input',
    unrepresentable: 'any',
    reused: 'ref',
    override: ({ zodSchema, jsonSchema }) => {
      const s = zodSchema as unknown as z.ZodType;
      if (isDurationSchema(s)) {
        for (const key of Object.keys(jsonSchema)) Reflect.deleteProperty(jsonSchema, key);
        Object.assign(jsonSchema, { type: 'string', pattern: '^\\d+(\\.\\d{1,9})?s$', description: 'A duration such as "5s" or "0.25s".' });
      }
      const refused = unsupportedReason(s);
      if (refused !== undefined) Object.assign(jsonSchema, { description: `Not supported by il: ${refused}.`, not: {} });
      // A filter given only by its well-known name gets its typed_config from the loader.
      const shape = shapeOf(s);
      const required = (jsonSchema as Record<string, unknown>).required;
      if (shape.kind === 'message' && Object.hasOwn(shape.fields, 'name') && Array.isArray(required)) {
        (jsonSchema as Record<string, unknown>).required = required.filter((field) => field !== 'typed_config');
      }
      const fallback = (jsonSchema as Record<string, unknown>).default;
      if (fallback instanceof Duration) (jsonSchema as Record<string, unknown>).default = fallback.toJSON();
    },
  });
  return { ...schema, title: 'il (Envoy v3) bootstrap', description: 'The subset of envoy.config.bootstrap.v3.Bootstrap that il accepts.' };
}
