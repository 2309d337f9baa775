import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';
import type { ConfigSource } from '../src/index.js';

/** Loads and returns the ConfigError; anything else (success, another error, an internal error) fails. */
function refusal(sources: unknown): ConfigError {
  try {
    loadConfig(sources as ConfigSource);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.message).not.toMatch(/internal error/);
    return configError;
  }
  throw new Error('expected a ConfigError');
}

describe('hostile input', () => {
  it('binary garbage', () => {
    for (let i = 0; i < 50; i++) refusal({ text: randomBytes(200 + i * 13).toString('latin1'), name: 'garbage.yaml' });
  });

  it('a YAML alias bomb is cut short', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const started = Date.now();
    const error = refusal({ text: `${levels.join('\n')}\n`, name: 'bomb.yaml' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.issues.map((i) => i.message)).toContain('the document expands to more than 200000 nodes (check YAML aliases)');
  });

  it('a self-referencing YAML alias', () => {
    refusal({ text: 'node: &n { metadata: *n }\n', name: 'loop.yaml' });
  });

  it('deep nesting', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    refusal({ text: `node: ${deep}\n`, name: 'deep.yaml' });
    refusal({ text: `{"node": ${deep}}`, name: 'deep.json', format: 'json' });
    let value: unknown = {};
    for (let i = 0; i < 5000; i++) value = { node: value };
    refusal({ value, name: 'deep value' });
  });

  it.each([
    ['a string', 'hello'],
    ['a number', '42'],
    ['a list', '[1, 2]'],
    ['an empty document', ''],
    ['only a comment', '# nothing\n'],
  ])('a root that is %s', (_what, text) => {
    refusal({ text, name: 'root.yaml' });
  });

  it.each([
    ['null', null],
    ['a number', 7],
    ['a cycle', (() => { const o: Record<string, unknown> = {}; o.node = o; return o; })()],
    ['a function', { node: { id: () => 'x' } }],
    ['a bigint', { node: { id: 1n } }],
    ['a symbol', { node: { id: Symbol('x') } }],
    ['a Map', { node: new Map() }],
    ['a Date', { node: { id: new Date() } }],
    ['NaN', { static_resources: { clusters: [{ name: 'c', per_connection_buffer_limit_bytes: Number.NaN }] } }],
  ])('a value source holding %s', (_what, value) => {
    refusal({ value, name: 'value' });
  });

  it.each([
    ['nothing', undefined],
    ['null', null],
    ['no sources', []],
    ['a source without text or value', { name: 'x' }],
    ['text that is not a string', { text: 42, name: 'x' }],
    ['a number', 5],
  ])('sources that are %s', (_what, sources) => {
    refusal(sources);
  });

  it('prototype keys are data', () => {
    const error = refusal({ text: '__proto__: { polluted: true }\nconstructor: 1\n', name: 'proto.yaml' });
    expect(error.issues.map((i) => i.path)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
