/**
 * request/response_headers_to_add and _to_remove of one level (route configuration, virtual host,
 * route or weighted cluster): Envoy's HeaderParser. Values are substitution format strings compiled
 * once, rendered with omit_empty_values as Envoy does for headers (a missing value is '', and an
 * empty result adds nothing unless keep_empty_value).
 */
import type { HeaderValueOption } from '@il/config/runtime';
import { compileFormat, FormatError, type FormatContext, type Formatter, type HeaderMap } from '@il/core';
import { RouteConfigError } from './errors.js';

type AppendAction = HeaderValueOption['append_action'];

interface HeaderToAdd {
  readonly name: string;
  readonly value: Formatter;
  readonly action: AppendAction;
  readonly keepEmpty: boolean;
}

/** Pseudo-headers and Host are owned by the route action (rewrites) and the codec: Envoy refuses them here. */
function isModifiable(name: string): boolean {
  return !name.startsWith(':') && name.toLowerCase() !== 'host';
}

export class HeaderMutations {
  private constructor(
    private readonly toRemove: readonly string[],
    private readonly toAdd: readonly HeaderToAdd[],
  ) {}

  /** undefined when the level mutates nothing. Throws RouteConfigError for a pseudo-header, Host, or a bad format string. */
  static compile(add: readonly HeaderValueOption[], remove: readonly string[], path: { add: string; remove: string }): HeaderMutations | undefined {
    if (add.length === 0 && remove.length === 0) return undefined;
    const toAdd = add.map((option, i): HeaderToAdd => {
      const where = `${path.add}[${i}]`;
      if (!isModifiable(option.header.key)) throw new RouteConfigError(`${where}.header.key`, ':-prefixed or host headers may not be modified');
      let value: Formatter;
      try {
        value = compileFormat(option.header.value, { omitEmptyValues: true });
      } catch (error) {
        if (error instanceof FormatError) throw new RouteConfigError(`${where}.header.value`, error.message);
        throw error;
      }
      return { name: option.header.key.toLowerCase(), value, action: option.append_action, keepEmpty: option.keep_empty_value };
    });
    const toRemove = remove.map((name, i) => {
      if (!isModifiable(name)) throw new RouteConfigError(`${path.remove}[${i}]`, ':-prefixed or host headers may not be removed');
      return name.toLowerCase();
    });
    return new HeaderMutations(toRemove, toAdd);
  }

  /**
   * Removes first, then renders every value against the headers as they are after the removals,
   * then overwrites, then appends (Envoy's evaluateHeaders order).
   */
  apply(headers: HeaderMap, context: FormatContext): void {
    for (const name of this.toRemove) Reflect.deleteProperty(headers, name);
    if (this.toAdd.length === 0) return;
    const overwrite: Array<[string, string]> = [];
    const append: Array<[string, string]> = [];
    for (const entry of this.toAdd) {
      const value = entry.value.format(context);
      if (value === '' && !entry.keepEmpty) continue;
      switch (entry.action) {
        case 'APPEND_IF_EXISTS_OR_ADD':
          append.push([entry.name, value]);
          break;
        case 'ADD_IF_ABSENT':
          if (!isPresent(headers, entry.name)) append.push([entry.name, value]);
          break;
        case 'OVERWRITE_IF_EXISTS':
          if (isPresent(headers, entry.name)) overwrite.push([entry.name, value]);
          break;
        case 'OVERWRITE_IF_EXISTS_OR_ADD':
          overwrite.push([entry.name, value]);
          break;
      }
    }
    for (const [name, value] of overwrite) headers[name] = value;
    for (const [name, value] of append) {
      const existing = headers[name];
      // Appending keeps each value as its own entry, as Envoy's addReferenceKey does.
      headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
  }
}

function isPresent(headers: HeaderMap, name: string): boolean {
  const value = headers[name];
  return value !== undefined && (!Array.isArray(value) || value.length > 0);
}
