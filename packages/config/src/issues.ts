/** Where a value came from: a source name (file path or '--config-yaml') and, for text, a line and column (1-based). */
export interface SourceLocation {
  source?: string;
  line?: number;
  column?: number;
}

/** One reason a config was refused. `path` is the field path in snake_case, e.g. `static_resources.listeners[1].name`. */
export interface ConfigIssue extends SourceLocation {
  path: string;
  message: string;
}

/** Something accepted but worth knowing: a deprecated spelling, a default filled from a filter name. */
export interface ConfigWarning extends SourceLocation {
  path: string;
  message: string;
}

/** The one error the loader throws. Its message lists every issue, one per line. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** `<source>:<line>:<col>: <path>: <message>`, leaving out the parts that are unknown. */
export function formatIssue(issue: ConfigIssue | ConfigWarning): string {
  let location = issue.source ?? '';
  if (issue.line !== undefined) location += `:${issue.line}:${issue.column ?? 1}`;
  return [location, issue.path, issue.message].filter((part) => part !== '').join(': ');
}
