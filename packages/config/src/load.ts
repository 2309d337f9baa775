/** The loader: sources → parse → merge → normalize → validate → Envoy's rules → Bootstrap. */
import { readFileSync } from 'node:fs';
import type * as z from 'zod';
import { bootstrap as bootstrapSchema } from './api/bootstrap.js';
import type { Bootstrap } from './api/bootstrap.js';
import { ConfigError } from './issues.js';
import type { ConfigIssue, ConfigWarning, SourceLocation } from './issues.js';
import { normalize } from './normalize.js';
import type { Finding } from './normalize.js';
import { advise } from './rules/advice.js';
import { checkCrossReferences } from './rules/cross-references.js';
import { issueMessage } from './schema/messages.js';
import { fromPlain, locate, toPlain } from './source/located.js';
import type { Located, PlainProblem, Position } from './source/located.js';
import { mergeFrom } from './source/merge.js';
import { parseText } from './source/parse-text.js';
import type { TextProblem } from './source/parse-text.js';
import { formatPath, isUnder, parsePath } from './source/path.js';
import type { FieldPath } from './source/path.js';

/** Config text (a file's contents, or `--config-yaml`), or a value already parsed. */
export type ConfigSource =
  | { readonly text: string; readonly name: string; readonly format?: 'yaml' | 'json' }
  | { readonly value: unknown; readonly name: string };

export interface LoadOptions {
  /** Envoy's --allow-unknown-static-fields: unknown fields become warnings instead of issues. */
  readonly allowUnknownFields?: boolean;
  /**
   * Checks of a valid bootstrap by the code that will run it (each filter compiling its format
   * strings, route tables...), so that whatever would fail at start-up is a config issue here,
   * located like any other. `path` is a field path as formatPath writes it.
   */
  readonly check?: ((bootstrap: Bootstrap) => Iterable<{ readonly path: string; readonly message: string }>) | undefined;
}

export interface LoadedConfig {
  readonly bootstrap: Bootstrap;
  readonly warnings: ConfigWarning[];
}

/**
 * Loads a bootstrap from one or more sources, merged in order as Envoy merges `--config-yaml`
 * over `-c`. Throws ConfigError, and only ConfigError, listing every issue found.
 */
export function loadConfig(sources: ConfigSource | readonly ConfigSource[], options: LoadOptions = {}): LoadedConfig {
  try {
    return load(Array.isArray(sources) ? sources : [sources as ConfigSource], options);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // A bug here must still surface as a config error the caller can print; the text says whose fault it is.
    throw new ConfigError([{ path: '', message: `internal error while loading the config (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` }]);
  }
}

/** `.json` is JSON and `.yaml`/`.yml` YAML; otherwise text that starts with `{` is taken for JSON. */
function fileFormat(path: string, text: string): 'json' | 'yaml' {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

/** Reads a YAML or JSON file (by extension, else by content) and loads it, with `overlayYaml` merged over it. */
export function loadConfigFile(path: string, options: LoadOptions & { readonly overlayYaml?: string } = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([{ path: '', source: path, message: `cannot read the config file: ${error instanceof Error ? error.message : String(error)}` }]);
  }
  const sources: ConfigSource[] = [{ text, name: path, format: fileFormat(path, text) }];
  if (options.overlayYaml !== undefined) sources.push({ text: options.overlayYaml, name: '--config-yaml', format: 'yaml' });
  return loadConfig(sources, options);
}

/** An issue and the order it was found in, which breaks ties between issues at one position. */
interface PendingIssue {
  readonly issue: ConfigIssue;
  readonly order: number;
}

function load(sources: readonly ConfigSource[], options: LoadOptions): LoadedConfig {
  const issues: PendingIssue[] = [];
  const warnings: ConfigWarning[] = [];
  const sourceOrder = new Map<string, number>();
  const add = (list: 'issue' | 'warning', path: FieldPath, message: string, where: SourceLocation) => {
    const entry: ConfigIssue = { path: formatPath(path), message, ...where };
    if (list === 'warning') warnings.push(entry);
    else issues.push({ issue: entry, order: issues.length });
  };

  if (sources.length === 0) add('issue', [], 'no config source was given', {});
  let merged: Located | undefined;
  sources.forEach((source, index) => {
    const read = readSource(source, index, add);
    if (!read) return;
    sourceOrder.set(read.name, index);
    const { tree } = read;
    merged = merged ? mergeFrom(merged, tree, bootstrapSchema) : tree;
  });
  if (!merged || issues.length > 0) throw new ConfigError(sorted(issues, sourceOrder));
  const tree: Located = merged;

  const prepared = normalize(tree, bootstrapSchema, options);
  const at = (finding: Finding) => positionToLocation(finding.pos);
  for (const finding of prepared.issues) add('issue', finding.path, finding.message, at(finding));
  for (const finding of prepared.warnings) add('warning', finding.path, finding.message, at(finding));

  const parsed = bootstrapSchema.safeParse(toPlain(prepared.value), { error: issueMessage });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const { path, message, atKey } of zodFindings(issue)) {
        if (prepared.settled.some((settled) => isUnder(path, settled))) continue;
        add('issue', path, message, locate(prepared.value, path, atKey));
      }
    }
  } else {
    for (const finding of checkCrossReferences(parsed.data)) add('issue', finding.path, finding.message, locate(prepared.value, finding.path));
    for (const finding of advise(parsed.data)) add('warning', finding.path, finding.message, locate(prepared.value, finding.path));
    // The runtime's own checks, only on a config that is otherwise valid (they assume its shape).
    if (issues.length === 0 && options.check !== undefined) {
      for (const finding of options.check(parsed.data)) {
        const path = parsePath(finding.path);
        add('issue', path, finding.message, locate(prepared.value, path));
      }
    }
  }
  if (issues.length > 0 || !parsed.success) {
    if (issues.length === 0) add('issue', [], 'the config is invalid', {});
    throw new ConfigError(sorted(issues, sourceOrder));
  }
  return { bootstrap: parsed.data, warnings: dedupe(warnings) };
}

type Add = (list: 'issue' | 'warning', path: FieldPath, message: string, where: SourceLocation) => void;

function readSource(source: ConfigSource, index: number, add: Add): { tree: Located; name: string } | undefined {
  const raw = source as unknown;
  if (typeof raw !== 'object' || raw === null) {
    add('issue', [], `config source #${index + 1} must be { text, name } or { value, name }`, {});
    return undefined;
  }
  const name = typeof source.name === 'string' && source.name !== '' ? source.name : `source #${index + 1}`;
  let tree: Located | undefined;
  if ('text' in source) {
    if (typeof source.text !== 'string') {
      add('issue', [], 'the source text must be a string', { source: name });
      return undefined;
    }
    const problems: TextProblem[] = [];
    const format = source.format ?? (/\.json$/i.test(name) ? 'json' : 'yaml');
    tree = parseText(source.text, name, format, problems);
    for (const problem of problems) add(problem.warning ? 'warning' : 'issue', [], problem.message, positionToLocation(problem.pos));
  } else if ('value' in source) {
    const problems: PlainProblem[] = [];
    tree = fromPlain(source.value, name, problems);
    for (const problem of problems) add('issue', problem.path, problem.message, { source: name });
  } else {
    add('issue', [], 'a config source needs either text or value', { source: name });
    return undefined;
  }
  if (!tree) return undefined;
  if (tree.kind !== 'map') {
    add('issue', [], `the config must be a mapping of Bootstrap fields, got ${tree.kind === 'seq' ? 'a list' : 'a scalar value'}`, positionToLocation(tree.pos));
    return undefined;
  }
  return { tree, name };
}

/** One zod issue as findings with a path (unknown keys are one finding per key, at the key). */
function zodFindings(issue: z.core.$ZodIssue): { path: FieldPath; message: string; atKey: boolean }[] {
  const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown field', atKey: true }));
  return [{ path, message: issue.message, atKey: false }];
}

function positionToLocation(pos: Position): SourceLocation {
  const location: SourceLocation = { source: pos.source };
  if (pos.line !== undefined) location.line = pos.line;
  if (pos.column !== undefined) location.column = pos.column;
  return location;
}

/** In source order, then by line and column, so the list reads top to bottom. */
function sorted(issues: PendingIssue[], sourceOrder: ReadonlyMap<string, number>): ConfigIssue[] {
  const key = ({ issue, order }: PendingIssue) => [issue.source === undefined ? -1 : (sourceOrder.get(issue.source) ?? 0), issue.line ?? Infinity, issue.column ?? 0, order];
  const unique = new Map<string, PendingIssue>();
  for (const entry of issues) {
    const id = `${entry.issue.source ?? ''}\0${entry.issue.path}\0${entry.issue.message}`;
    if (!unique.has(id)) unique.set(id, entry);
  }
  return [...unique.values()]
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] ?? 0) - (kb[i] ?? 0);
      return 0;
    })
    .map((entry) => entry.issue);
}

function dedupe(warnings: ConfigWarning[]): ConfigWarning[] {
  const seen = new Set<string>();
  return warnings.filter((w) => {
    const id = `${w.source ?? ''}\0${w.path}\0${w.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
