import {
  InvalidArgumentError,
  InvalidEmotionError,
  InvalidImageError,
  type RgbImage,
} from '@emofeedback/core';
import {
  createCompositeReward,
  type EmotionEvaluator,
  type Evaluation,
  emotionComponent,
  emotionReward,
  type RewardComponent,
} from '@emofeedback/reward';
import { describe, expect, it } from 'vitest';

const ok = (valence: number, arousal: number): Evaluation => ({ ok: true, valence, arousal });
const failed: Evaluation = { ok: false, failure: 'timeout', message: 'too slow' };
const target = { valence: 1, arousal: -1 };

describe('emotionReward', () => {
  const evals = [ok(1, -1), ok(2, 1), failed, ok(-2, 3)];

  it('negative L1', () => {
    const r = emotionReward(evals, target, { kind: 'l1' });
    expect(Array.from(r.values)).toEqual([-0, -3, 0, -7]);
    expect(r.valid).toEqual([true, true, false, true]);
  });

  it('negative L2 (Euclidean distance)', () => {
    const r = emotionReward(evals, target, { kind: 'l2' });
    expect(r.values[0]).toBeCloseTo(0, 12);
    expect(r.values[1]).toBeCloseTo(-Math.sqrt(5), 12);
    expect(r.values[3]).toBeCloseTo(-5, 12);
  });

  it('Gaussian kernel exp(−d²/2σ²)', () => {
    const r = emotionReward(evals, target, { kind: 'gaussian', sigma: 2 });
    expect(r.values[0]).toBeCloseTo(1, 12);
    expect(r.values[1]).toBeCloseTo(Math.exp(-5 / 8), 12);
    expect(r.values[3]).toBeCloseTo(Math.exp(-25 / 8), 12);
  });

  it('ε-threshold accuracy on both axes', () => {
    const r = emotionReward([ok(1.4, -0.6), ok(1.6, -1), ok(1, -1.4)], target, {
      kind: 'threshold',
      epsilon: 0.5,
    });
    expect(Array.from(r.values)).toEqual([1, 0, 1]);
  });

  it('surfaces failures as invalid, finite placeholders', () => {
    for (const kind of ['l1', 'l2', 'gaussian', 'threshold'] as const) {
      const r = emotionReward(evals, target, { kind });
      expect(r.valid[2]).toBe(false);
      expect(r.values.every(Number.isFinite)).toBe(true);
    }
  });

  it('takes one target per image, and checks targets and options', () => {
    const r = emotionReward([ok(0, 0), ok(0, 0)], [target, { valence: 0, arousal: 0 }], { kind: 'l1' });
    expect(Array.from(r.values)).toEqual([-2, -0]);
    expect(() => emotionReward([ok(0, 0)], [target, target])).toThrow(InvalidArgumentError);
    expect(() => emotionReward([ok(0, 0)], { valence: 5, arousal: 0 })).toThrow(InvalidEmotionError);
    expect(() => emotionReward([ok(0, 0)], target, { sigma: 0 })).toThrow(/sigma/);
    // @ts-expect-error unknown kind
    expect(() => emotionReward([ok(0, 0)], target, { kind: 'l3' })).toThrow(/unknown emotion reward/);
  });
});

/** An evaluator that returns fixed evaluations, for testing the composite without a model. */
function fixed(evaluations: Evaluation[]): EmotionEvaluator {
  return { id: 'fixed', evaluate: async () => evaluations };
}
const images = (n: number): RgbImage[] =>
  Array.from({ length: n }, () => ({ width: 2, height: 2, data: new Float32Array(12).fill(0.5) }));

describe('createCompositeReward', () => {
  const constant = (name: string, values: number[], weight = 1): RewardComponent => ({
    name,
    weight,
    compute: async () => ({ values: Float64Array.from(values), valid: values.map(() => true) }),
  });

  it('weights components and returns each for logging', async () => {
    const reward = createCompositeReward({
      evaluator: fixed([ok(1, -1), ok(3, -1), ok(1, 1)]),
      components: [emotionComponent({ kind: 'l1', weight: 2 }), constant('bonus', [1, 2, 3], -0.5)],
    });
    const r = await reward.compute(images(3), target);
    expect(Array.from(r.components.emotion?.raw ?? [])).toEqual([-0, -2, -2]);
    expect(Array.from(r.total)).toEqual([-0.5, -5, -5.5]);
    expect(r.components.bonus?.weight).toBe(-0.5);
    expect(r.evaluations).toHaveLength(3);
    expect(r.failed).toBe(0);
  });

  it('z-scores each component within the batch before weighting', async () => {
    const reward = createCompositeReward({
      evaluator: fixed([]),
      components: [constant('a', [1, 2, 3]), constant('b', [100, 100, 400], 2), constant('flat', [7, 7, 7])],
      normalize: 'zscore',
    });
    const r = await reward.compute(images(3), target);
    const a = Array.from(r.components.a?.normalized ?? []);
    expect(a[0]).toBeCloseTo(-Math.sqrt(1.5), 12);
    expect(a[1]).toBeCloseTo(0, 12);
    expect(Array.from(r.components.flat?.normalized ?? [])).toEqual([0, 0, 0]);
    const b = r.components.b?.normalized ?? new Float64Array();
    expect(b[2]).toBeCloseTo(Math.SQRT2, 12);
    expect(r.total[2]).toBeCloseTo((a[2] as number) + 2 * Math.SQRT2, 12);
  });

  it('masks failed evaluations out: valid false, total 0, not in the z-score statistics', async () => {
    const reward = createCompositeReward({
      evaluator: fixed([ok(1, -1), failed, ok(3, -1)]),
      components: [emotionComponent({ kind: 'l1' })],
      normalize: 'zscore',
    });
    const r = await reward.compute(images(3), target);
    expect(r.valid).toEqual([true, false, true]);
    expect(r.failed).toBe(1);
    expect(r.total[1]).toBe(0);
    expect(r.total[0]).toBeCloseTo(1, 12);
    expect(r.total[2]).toBeCloseTo(-1, 12);
    expect(r.total.every(Number.isFinite)).toBe(true);
  });

  it('rejects bad configurations and bad input with typed errors', async () => {
    const evaluator = fixed([ok(0, 0)]);
    expect(() => createCompositeReward({ evaluator, components: [] })).toThrow(InvalidArgumentError);
    expect(() =>
      createCompositeReward({ evaluator, components: [emotionComponent(), emotionComponent()] }),
    ).toThrow(/two components/);
    const reward = createCompositeReward({ evaluator, components: [emotionComponent()] });
    await expect(reward.compute([], target)).rejects.toThrow(InvalidImageError);
    await expect(reward.compute(images(1), [target, target])).rejects.toThrow(InvalidArgumentError);
  });
});
