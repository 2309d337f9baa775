import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

describe('README', () => {
  it('opens with an example that runs and prints what it says', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    if (example === undefined) throw new Error('no ts example in the README');
    const file = join(mkdtempSync(join(tmpdir(), 'il-readme-')), 'example.ts');
    writeFileSync(file, example);
    const printed: unknown[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((value: unknown) => {
      printed.push(value);
    });
    try {
      await import(file);
    } finally {
      log.mockRestore();
    }
    expect(printed).toEqual([250, 'ROUND_ROBIN', 0]);
  });
});
