// Summaries of per-round figures: median with min and max, never a mean (one slow round must not
// move the headline).

/**
 * @param {number[]} values
 * @returns {{median: number, min: number, max: number, n: number} | undefined}
 */
export function summarize(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? /** @type {number} */ (v[mid]) : (/** @type {number} */ (v[mid - 1]) + /** @type {number} */ (v[mid])) / 2;
  return { median, min: /** @type {number} */ (v[0]), max: /** @type {number} */ (v[v.length - 1]), n: v.length };
}

/** The q-quantile (0..1) of unsorted samples, nearest-rank. */
export function quantile(/** @type {number[]} */ samples, /** @type {number} */ q) {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return /** @type {number} */ (sorted[rank]);
}

/** Formats a number with `digits` significant-ish decimals, or "—" when absent. */
export function fmt(/** @type {number | undefined} */ x, digits = 2) {
  if (x === undefined || !Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(digits);
}

/** "median (min–max)" */
export function fmtRange(/** @type {{median:number,min:number,max:number} | undefined} */ s, digits = 2) {
  if (!s) return '—';
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}
