/** envoy.type.matcher.v3: string and regex matchers. */
import * as z from 'zod';
import { re2Problem } from '../regex.js';
import { empty, message, nonEmptyString, requiredOneof, unsupported } from '../schema/proto.js';

/** Why an Envoy regex does not compile as RE2 (the engine the runtime matches with), or undefined. */
export function regexProblem(regex: string): string | undefined {
  const problem = re2Problem(regex);
  return problem === undefined ? undefined : `invalid regex ${JSON.stringify(regex)}: ${problem}`;
}

export const regexMatcher = message(
  'envoy.type.matcher.v3.RegexMatcher',
  { google_re2: empty('envoy.type.matcher.v3.RegexMatcher.GoogleRE2').optional(), regex: nonEmptyString() },
  {
    rules: (matcher, report) => {
      const problem = regexProblem(matcher.regex);
      if (problem) report(['regex'], problem);
    },
  },
);
export type RegexMatcher = z.output<typeof regexMatcher>;

export const stringMatcher = message(
  'envoy.type.matcher.v3.StringMatcher',
  {
    exact: z.string().optional(),
    prefix: nonEmptyString().optional(),
    suffix: nonEmptyString().optional(),
    safe_regex: regexMatcher.optional(),
    contains: nonEmptyString().optional(),
    custom: unsupported('custom string matchers are not implemented').optional(),
    ignore_case: z.boolean().default(false),
  },
  {
    oneofs: [requiredOneof('exact', 'prefix', 'suffix', 'safe_regex', 'contains', 'custom')],
    rules: (matcher, report) => {
      if (matcher.ignore_case && matcher.safe_regex) report(['ignore_case'], 'ignore_case has no effect for safe_regex.');
    },
  },
);
export type StringMatcher = z.output<typeof stringMatcher>;
