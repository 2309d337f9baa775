import { describe, expect, it } from 'vitest';
import { Duration } from '../src/index.js';
import { durationFromParts, parseDurationText } from '../src/duration.js';

describe('Duration', () => {
  it.each([
    ['5s', 5000, '5s'],
    ['0s', 0, '0s'],
    ['0.25s', 250, '0.250s'],
    ['1.5s', 1500, '1.500s'],
    ['0.000001s', 0.001, '0.000001s'],
    ['0.000000001s', 0.000001, '0.000000001s'],
    ['3600s', 3_600_000, '3600s'],
  ])('%s is %d ms and prints as %s', (text, ms, printed) => {
    const d = parseDurationText(text);
    expect(d).toBeInstanceOf(Duration);
    expect((d as Duration).ms).toBe(ms);
    expect((d as Duration).toJSON()).toBe(printed);
    expect(String(d)).toBe(printed);
    expect(JSON.stringify({ d })).toBe(`{"d":"${printed}"}`);
  });

  it.each(['5', '5ms', '-1s', '1.2345678901s', 's', '', '1e3s', ' 5 s'])('refuses %j', (text) => {
    expect(typeof parseDurationText(text)).toBe('string');
  });

  it('reads the object form', () => {
    expect((durationFromParts(1, 500_000_000) as Duration).ms).toBe(1500);
    expect(durationFromParts(-1, 0)).toBe('duration must not be negative, got {seconds: -1, nanos: 0}');
    expect(durationFromParts(0, 1e9)).toBe('duration nanos must be at most 999999999, got 1000000000');
  });

  it('refuses negative or infinite milliseconds', () => {
    expect(() => new Duration(-1)).toThrow(RangeError);
    expect(() => new Duration(Infinity)).toThrow(RangeError);
    expect(Duration.seconds(2).ms).toBe(2000);
  });
});
