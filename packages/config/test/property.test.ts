/**
 * Whatever a config turns into, loading it either succeeds or throws a ConfigError that explains
 * itself: never another exception, never an "internal error".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';
import type { ConfigSource } from '../src/index.js';
import { BAD_CASES } from './bad-configs.cases.js';
import { EXAMPLES_DIR, REPO_ROOT } from './helpers.js';

const ENVOY_CONFIGS = process.env.IL_ENVOY_CONFIGS ?? join(REPO_ROOT, '..', 'shared', 'envoy-configs');
const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(dir, f), 'utf8'));
const SEEDS: readonly unknown[] = [...yamlFiles(EXAMPLES_DIR), ...yamlFiles(ENVOY_CONFIGS), ...BAD_CASES.slice(0, 20).map((c) => c.text)].map((text) => parse(text) as unknown);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };
type Step = string | number;

/** Every position in the tree: the container and the key or index under it. */
function positions(root: Json): { parent: Container; key: Step }[] {
  const out: { parent: Container; key: Step }[] = [];
  const visit = (node: Json) => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        out.push({ parent: node, key: i });
        visit(item);
      });
    } else if (node !== null && typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) {
        out.push({ parent: node, key });
        visit(item);
      }
    }
  };
  visit(root);
  return out;
}

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const kindOf = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

const mutation = fc.record({
  kind: fc.constantFrom('delete', 'retype', 'duplicate', 'rename', 'garbage', 'camel'),
  pick: fc.nat(),
  value: fc.jsonValue({ maxDepth: 2 }),
  key: fc.string({ maxLength: 12 }),
});
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(root: Json, m: Mutation): void {
  const all = positions(root);
  const at = all[m.pick % Math.max(1, all.length)];
  if (!at) return;
  const { parent, key } = at;
  const current = (parent as Record<Step, Json>)[key] as Json;
  const value = m.value as Json;
  if (Array.isArray(parent)) {
    const i = key as number;
    if (m.kind === 'delete') parent.splice(i, 1);
    else if (m.kind === 'duplicate') parent.splice(i, 0, structuredClone(current));
    else if (m.kind === 'retype') parent[i] = kindOf(value) === kindOf(current) ? [value] : value;
    else if (m.kind === 'garbage' && current !== null && typeof current === 'object' && !Array.isArray(current)) current[m.key] = value;
    return;
  }
  const k = key as string;
  switch (m.kind) {
    case 'delete':
      Reflect.deleteProperty(parent, k);
      break;
    case 'retype':
      parent[k] = kindOf(value) === kindOf(current) ? [value] : value;
      break;
    case 'duplicate':
      parent[`${k}${m.key}`] = structuredClone(current);
      break;
    case 'rename':
      Reflect.deleteProperty(parent, k);
      parent[m.key] = current;
      break;
    case 'garbage':
      parent[m.key] = value;
      break;
    case 'camel':
      Reflect.deleteProperty(parent, k);
      parent[camel(k)] = current;
      break;
  }
}

const outcomes = { loaded: 0, refused: 0 };

function loadsOrExplains(source: ConfigSource): void {
  try {
    loadConfig(source);
    outcomes.loaded++;
  } catch (error) {
    outcomes.refused++;
    expect(error).toBeInstanceOf(ConfigError);
    const { issues } = error as ConfigError;
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue.message).not.toMatch(/internal error/);
  }
}

const mutated = fc.record({ seed: fc.nat(), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) }).map(({ seed, mutations }) => {
  const root = structuredClone(SEEDS[seed % SEEDS.length]) as Json;
  for (const m of mutations) apply(root, m);
  return root;
});

describe('mutated configs', () => {
  it('given as values: 7,000 runs', () => {
    fc.assert(fc.property(mutated, (value) => loadsOrExplains({ value, name: 'mutant' })), { numRuns: 7000 });
  });

  it('given as YAML and JSON text: 3,000 runs', () => {
    fc.assert(
      fc.property(mutated, fc.boolean(), (value, asJson) => {
        const text = asJson ? JSON.stringify(value) : stringify(value);
        loadsOrExplains({ text, name: asJson ? 'mutant.json' : 'mutant.yaml' });
      }),
      { numRuns: 3000 },
    );
  });

  it('exercised both outcomes', () => {
    // Mutations that keep a config valid (a renamed filter, a camelCase key) must happen too.
    expect(outcomes.loaded).toBeGreaterThan(200);
    expect(outcomes.refused).toBeGreaterThan(200);
  });
});
