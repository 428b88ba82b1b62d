import { InvalidArgumentError, tf } from '@emofeedback/core';
import { describe, expect, it } from 'vitest';
import { ExponentialMovingAverage, groupAdvantages, ppoClipLoss } from '../src/index.js';

describe('groupAdvantages', () => {
  it('normalises each group by its mean and std', () => {
    const { advantages, kept } = groupAdvantages([[1, 2, 3, 4]]);
    const std = Math.sqrt(1.25);
    expect(advantages[0]![0]).toBeCloseTo(-1.5 / (std + 1e-4), 6);
    expect(advantages[0]![3]).toBeCloseTo(1.5 / (std + 1e-4), 6);
    expect(advantages[0]!.reduce((s, a) => s + a, 0)).toBeCloseTo(0, 9);
    expect(kept).toEqual([true]);
  });

  it('gives a constant-reward group all-zero advantages and drops it', () => {
    const r = groupAdvantages([
      [0.7, 0.7, 0.7],
      [0, 1, 2],
    ]);
    expect(r.advantages[0]).toEqual([0, 0, 0]);
    expect(r.kept).toEqual([false, true]);
    expect(r.zeroSpreadGroups).toBe(1);
  });

  it('divides by the batch std with std: batch (Flow-GRPO global_std), keeping group means', () => {
    const groups = [
      [1, 2, 3],
      [10, 10.5, 11],
    ];
    const all = groups.flat();
    const m = all.reduce((s, r) => s + r, 0) / all.length;
    const std = Math.sqrt(all.reduce((s, r) => s + (r - m) ** 2, 0) / all.length);
    const r = groupAdvantages(groups, { std: 'batch' });
    expect(r.advantages[0]![0]).toBeCloseTo(-1 / (std + 1e-4), 6);
    expect(r.advantages[1]![2]).toBeCloseTo(0.5 / (std + 1e-4), 6);
    // per group, the narrow group's advantages would be as large as the wide one's
    expect(groupAdvantages(groups).advantages[1]![2]).toBeCloseTo(
      groupAdvantages(groups).advantages[0]![2]!,
      3,
    );
    expect(() => groupAdvantages(groups, { std: 'pooled' as never })).toThrow(InvalidArgumentError);
  });

  it('clips to ±clip', () => {
    const r = groupAdvantages([[0, 0, 0, 0, 0, 0, 0, 0, 0, 100]], { clip: 2 });
    expect(Math.max(...r.advantages[0]!)).toBe(2);
  });

  it('leaves failed (non-finite) rewards out and gives them 0', () => {
    const r = groupAdvantages([[1, Number.NaN, 3]]);
    expect(r.advantages[0]![1]).toBe(0);
    expect(r.invalidSamples).toBe(1);
    expect(r.advantages[0]![0]).toBeLessThan(0);
    expect(groupAdvantages([[1, Number.NaN]]).kept).toEqual([false]);
  });

  it('rejects empty input', () => {
    expect(() => groupAdvantages([])).toThrow(InvalidArgumentError);
    expect(() => groupAdvantages([[]])).toThrow(/rewards\[0\]/);
  });
});

describe('ppoClipLoss', () => {
  it('is −mean(A) with ratio exactly 1 on-policy, with no clipping and zero KL', () => {
    tf.tidy(() => {
      const lp = tf.tensor1d([-1, -2, -3]);
      const adv = tf.tensor1d([1, -0.5, 2]);
      const { loss, clipFraction, approxKl } = ppoClipLoss(lp, lp, adv, 0.2);
      expect(loss.dataSync()[0]).toBeCloseTo(-(1 - 0.5 + 2) / 3, 6);
      expect(clipFraction.dataSync()[0]).toBe(0);
      expect(approxKl.dataSync()[0]).toBe(0);
    });
  });

  it('clips the ratio for positive advantages above 1 + ε and reports it', () => {
    tf.tidy(() => {
      const old = tf.tensor1d([0, 0]);
      const lp = tf.tensor1d([Math.log(2), Math.log(0.5)]);
      const adv = tf.tensor1d([1, 1]);
      const { loss, clipFraction } = ppoClipLoss(lp, old, adv, 0.2);
      // sample 1: max(−2, −1.2) = −1.2; sample 2: max(−0.5, −0.8) = −0.5
      expect(loss.dataSync()[0]).toBeCloseTo((-1.2 - 0.5) / 2, 5);
      expect(clipFraction.dataSync()[0]).toBe(1);
    });
  });

  it('its gradient moves a toy policy toward higher reward', () => {
    // A 3-armed bandit with softmax policy; arm 2 has the highest reward.
    const logits = tf.variable(tf.zeros([3]));
    const optimizer = tf.train.adam(0.1);
    const rewards = [0, 0.5, 1];
    for (let step = 0; step < 30; step++) {
      tf.tidy(() => {
        const oldLogProbs = tf.logSoftmax(logits).dataSync();
        const actions = [0, 1, 2, 0, 1, 2];
        const { advantages } = groupAdvantages([actions.map((a) => rewards[a]!)]);
        optimizer.minimize(() => {
          const lp = tf.gather(tf.logSoftmax(logits), tf.tensor1d(actions, 'int32'));
          const old = tf.tensor1d(actions.map((a) => oldLogProbs[a]!));
          return ppoClipLoss(lp, old, tf.tensor1d(advantages[0]!), 0.2).loss;
        });
      });
    }
    const p = tf.tidy(() => tf.softmax(logits).dataSync());
    expect(p[2]).toBeGreaterThan(0.6);
    expect(p[0]).toBeLessThan(p[1]!);
    logits.dispose();
    optimizer.dispose();
  });
});

describe('ExponentialMovingAverage', () => {
  it('tracks variables and swaps averages in and out', () => {
    const v = tf.variable(tf.tensor1d([0]));
    const ema = new ExponentialMovingAverage([v], 0.5);
    v.assign(tf.tensor1d([4]));
    ema.update(); // 0.5·0 + 0.5·4 = 2
    expect(ema.values()[0]!.dataSync()[0]).toBe(2);
    ema.swapIn();
    expect(v.dataSync()[0]).toBe(2);
    ema.swapOut();
    expect(v.dataSync()[0]).toBe(4);
    ema.dispose();
    v.dispose();
    expect(() => new ExponentialMovingAverage([], 1)).toThrow(InvalidArgumentError);
  });
});
