import { InvalidArgumentError } from '@emofeedback/core';
import {
  axisMetrics,
  ccc,
  formatInterval,
  mae,
  pairedDifference,
  pearson,
  rmse,
  slopeInterval,
  spearman,
  spearmanInterval,
  targetAgreement,
} from '@emofeedback/reward';
import { describe, expect, it } from 'vitest';

// Hand computation for p = [1, 2, 3, 4], t = [2, 2, 4, 5]:
// |p − t| = 1, 0, 1, 1 → MAE 0.75; squared errors 1, 0, 1, 1 → RMSE √0.75.
// means 2.5 and 3.25; population cov = 5.5/4 = 1.375, var p = 1.25, var t = 1.6875.
// Pearson = 1.375 / √(1.25 · 1.6875) = 0.946729...; CCC = 2.75 / (1.25 + 1.6875 + 0.75²) = 0.785714...
const p = [1, 2, 3, 4];
const t = [2, 2, 4, 5];

describe('metrics', () => {
  it('match hand-computed values', () => {
    expect(mae(p, t)).toBeCloseTo(0.75, 12);
    expect(rmse(p, t)).toBeCloseTo(Math.sqrt(0.75), 12);
    expect(pearson(p, t)).toBeCloseTo(1.375 / Math.sqrt(1.25 * 1.6875), 12);
    expect(pearson(p, t)).toBeCloseTo(0.946729, 5);
    expect(ccc(p, t)).toBeCloseTo(2.75 / 3.5, 12);
    expect(axisMetrics(p, t)).toEqual({ mae: mae(p, t), pearson: pearson(p, t), ccc: ccc(p, t) });
  });

  it('Pearson ignores bias and scale, CCC does not', () => {
    const shifted = p.map((x) => 2 * x + 1);
    expect(pearson(shifted, p)).toBeCloseTo(1, 12);
    expect(ccc(p, p)).toBeCloseTo(1, 12);
    expect(ccc(shifted, p)).toBeLessThan(0.5);
    expect(
      pearson(
        p.map((x) => -x),
        p,
      ),
    ).toBeCloseTo(-1, 12);
  });

  it('are NaN where undefined (constant input)', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(ccc([2, 2], [2, 2])).toBeNaN();
    // A constant predictor has zero covariance, so its CCC is 0.
    expect(ccc([0, 0, 0], [1, 2, 3])).toBe(0);
  });

  it('reject empty, unpaired and non-finite inputs with typed errors', () => {
    expect(() => mae([], [])).toThrow(InvalidArgumentError);
    expect(() => pearson([1, 2], [1])).toThrow(/pair up/);
    expect(() => ccc([1, Number.NaN], [1, 2])).toThrow(/predicted/);
    expect(() => mae([1, 2], [1, Number.POSITIVE_INFINITY])).toThrow(/target/);
  });
});

// Reference values from SciPy 1.17 (stats.spearmanr, stats.linregress with a t(6) quantile).
const grid = [-3, -3, -1.5, 0, 0, 1.5, 3, 3];
const read = [-1.0, 0.2, -0.5, 0.1, 0.6, 0.4, 1.2, 0.9];

describe('agreement with targets', () => {
  it('Spearman ρ uses average ranks for ties', () => {
    expect(spearman(read, grid)).toBeCloseTo(0.8365019125713041, 10);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 400])).toBeCloseTo(1, 12);
  });

  it('the slope interval matches a least-squares fit with a t interval', () => {
    const s = slopeInterval(read, grid);
    expect(s.value).toBeCloseTo(0.24814814814814817, 12);
    expect(s.low).toBeCloseTo(0.08166716234622803, 3);
    expect(s.high).toBeCloseTo(0.4146291339500683, 3);
  });

  it('a compressed reading has a small error but a slope near zero; a faithful one a slope near 1', () => {
    const targets = Array.from({ length: 50 }, (_, i) => [-3, -1.5, 0, 1.5, 3][i % 5] as number);
    const constant = targets.map((_, i) => 0.01 * Math.sin(i));
    const faithful = targets.map((t, i) => t + 0.3 * Math.sin(7 * i));
    const c = targetAgreement(constant, targets);
    const f = targetAgreement(faithful, targets);
    expect(c.slope.low).toBeLessThan(0.01);
    expect(Math.abs(c.slope.value)).toBeLessThan(0.01);
    expect(f.slope.low).toBeGreaterThan(0.9);
    expect(f.spearman.low).toBeGreaterThan(0.9);
    expect(f.mae).toBeLessThan(c.mae);
    expect(f.n).toBe(50);
  });

  it('the ρ interval contains ρ, narrows with n and stays inside [-1, 1]', () => {
    const small = spearmanInterval(read, grid);
    expect(small.low).toBeLessThan(small.value);
    expect(small.high).toBeGreaterThan(small.value);
    expect(small.high).toBeLessThanOrEqual(1);
    const big = spearmanInterval([...read, ...read, ...read, ...read], [...grid, ...grid, ...grid, ...grid]);
    expect(big.high - big.low).toBeLessThan(small.high - small.low);
    expect(formatInterval(small)).toMatch(/^0\.84 \[0\.\d\d, 0\.\d\d\]$/);
  });

  it('a paired difference is the mean change with a t interval, leaving out non-finite pairs', () => {
    // SciPy: mean 0.5, 95% t(4) interval [0.0610, 0.9390].
    const d = pairedDifference([1, 2, 3, 4, 5, 9], [1.5, 2.1, 3.9, 4.2, 5.8, Number.NaN]);
    expect(d.n).toBe(5);
    expect(d.value).toBeCloseTo(0.5, 12);
    expect(d.low).toBeCloseTo(0.0610054834574588, 2);
    expect(d.high).toBeCloseTo(0.9389945165425412, 2);
    expect(Number.isNaN(pairedDifference([1], [2]).value)).toBe(true);
    expect(() => pairedDifference([1, 2], [1])).toThrow(/pair up/);
  });

  it('reject too few pairs and constant targets give NaN', () => {
    expect(() => spearmanInterval([1, 2, 3], [1, 2, 3])).toThrow(InvalidArgumentError);
    expect(() => slopeInterval([1, 2], [1, 2])).toThrow(/at least 3/);
    expect(Number.isNaN(slopeInterval([1, 2, 3], [0, 0, 0]).value)).toBe(true);
  });
});
