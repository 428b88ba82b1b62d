import type { Interval } from '@emofeedback/reward';

/** Student-t 97.5% quantiles for small samples; the normal value beyond 120 degrees of freedom. */
function t975(df: number): number {
  const table: [number, number][] = [
    [1, 12.706],
    [2, 4.303],
    [3, 3.182],
    [5, 2.571],
    [10, 2.228],
    [20, 2.086],
    [30, 2.042],
    [60, 2.0],
    [120, 1.98],
  ];
  for (const [d, t] of table) if (df <= d) return t;
  return 1.96;
}

/**
 * Mean of the paired differences `better − worse` (positive: the second argument improved on
 * the first) with a 95% t interval. Pairs where either side is not finite are left out.
 */
export function pairedGain(worse: readonly number[], better: readonly number[]): Interval & { n: number } {
  const d: number[] = [];
  for (let i = 0; i < worse.length; i++) {
    const x = (better[i] as number) - (worse[i] as number);
    if (Number.isFinite(x)) d.push(x);
  }
  const n = d.length;
  if (n < 2) return { value: Number.NaN, low: Number.NaN, high: Number.NaN, n };
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = t975(n - 1) * (sd / Math.sqrt(n));
  return { value: mean, low: mean - half, high: mean + half, n };
}
