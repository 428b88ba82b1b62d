import { InvalidArgumentError } from '@emofeedback/core';
import { axisMetrics, ccc, mae, pearson, rmse } from '@emofeedback/reward';
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
