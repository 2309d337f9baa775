/** Wording for zod's own issues, close to Envoy's proto validation messages. */
import type * as z from 'zod';

type RawIssue = z.core.$ZodRawIssue;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
      return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'a list',
  record: 'an object',
};

function bound(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean }, which: 'min' | 'max'): string {
  const limit = String(which === 'min' ? issue.minimum : issue.maximum);
  if (which === 'min') return issue.inclusive === false ? `greater than ${limit}` : `greater than or equal to ${limit}`;
  return issue.inclusive === false ? `less than ${limit}` : `less than or equal to ${limit}`;
}

/** zod's per-parse error map: the message for each issue zod raises by itself. */
export function issueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'value is required';
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) === 1 ? 'value must not be empty' : `value length must be at least ${String(issue.minimum)} characters`;
      if (issue.origin === 'array') return `value must contain at least ${String(issue.minimum)} item(s)`;
      return `value must be ${bound(issue, 'min')}`;
    case 'too_big':
      if (issue.origin === 'string') return `value length must be at most ${String(issue.maximum)} characters`;
      if (issue.origin === 'array') return `value must contain at most ${String(issue.maximum)} item(s)`;
      return `value must be ${bound(issue, 'max')}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `expected ${JSON.stringify(issue.values[0])}, got ${describe(issue.input)}` : `unknown value ${typeof issue.input === 'string' ? JSON.stringify(issue.input) : describe(issue.input)}; expected one of ${issue.values.map(String).join(', ')}`;
    case 'unrecognized_keys':
      return 'unknown field';
    case 'invalid_format':
      return `value does not match the expected format (${issue.format})`;
    default:
      return undefined;
  }
}
