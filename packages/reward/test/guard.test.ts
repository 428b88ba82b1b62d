import {
  type Emotion,
  InvalidArgumentError,
  InvalidImageError,
  type RgbImage,
  SeededRandom,
  tf,
} from '@emofeedback/core';
import {
  DEFAULT_GUARD_REFERENCE,
  decodeHead,
  fitGuardReference,
  GUARD_STAT_NAMES,
  type GuardReference,
  guardDistance,
  guardDistances,
  guardPenalty,
  guardStatistics,
  guardStatisticsBatch,
  type LocalScores,
  qualityFromScores,
  validateGuardReference,
} from '@emofeedback/reward';
import { describe, expect, it } from 'vitest';
import { LOCAL_HEAD } from '../src/weights/local-head.generated.js';

const k = GUARD_STAT_NAMES.length;
const at = (name: string) => GUARD_STAT_NAMES.indexOf(name);

function image(size: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = f(x, y, c);
  return { width: size, height: size, data };
}

describe('guardStatistics', () => {
  it('measures a flat grey field: no spread, no texture, no colour', () => {
    const s = guardStatistics(image(32, () => 0.5).data);
    expect(s).toHaveLength(k);
    expect(s[at('luma_mean')]).toBeCloseTo(0.5, 6);
    expect(s[at('luma_std')]).toBeCloseTo(0, 6);
    expect(s[at('chroma_std')]).toBeCloseTo(0, 6);
    expect(s[at('log_high_freq')]).toBeCloseTo(Math.log(1e-3), 6);
  });

  it('sees a checkerboard as high-frequency energy and a red cast in the chroma mean', () => {
    const checker = guardStatistics(image(32, (x, y) => ((x + y) % 2 ? 0.7 : 0.3)).data);
    expect(checker[at('log_high_freq')]).toBeGreaterThan(Math.log(0.1));
    const red = guardStatistics(image(32, (_, __, c) => (c === 0 ? 0.8 : 0.3)).data);
    expect(red[at('chroma_rg_mean')]).toBeCloseTo(0.5, 5);
    expect(red[at('saturation_mean')]).toBeCloseTo(0.625, 4);
  });

  it('resizes other sizes and tensors to 32 px, and checks its input', async () => {
    const big = image(64, (x, y) => ((Math.floor(x / 2) + Math.floor(y / 2)) % 2 ? 0.8 : 0.2));
    const [fromImage] = await guardStatisticsBatch([big]);
    const t = tf.tensor4d(big.data, [1, 64, 64, 3]);
    const [fromTensor] = await guardStatisticsBatch(t);
    t.dispose();
    // 2×2 blocks average to one pixel each: a 32 px checkerboard.
    const direct = guardStatistics(image(32, (x, y) => ((x + y) % 2 ? 0.8 : 0.2)).data);
    expect(Array.from(fromImage ?? [])).toEqual(Array.from(fromTensor ?? []));
    for (let j = 0; j < k; j++) expect(fromImage?.[j]).toBeCloseTo(direct[j] as number, 4);
    expect(() => guardStatistics(new Float32Array(10))).toThrow(InvalidArgumentError);
    await expect(guardStatisticsBatch([])).rejects.toThrow(InvalidImageError);
  });
});

/**
 * Synthetic statistics: mean linear in valence, independent noise whose standard deviation is
 * `exp(spread · valence / 3)` (unit variance with the default `spread` 0).
 */
function synthetic(n: number, seed: number, spread = 0): { stats: Float64Array[]; targets: Emotion[] } {
  const rng = new SeededRandom(seed);
  const targets = Array.from({ length: n }, () => ({
    valence: rng.uniform(-3, 3),
    arousal: rng.uniform(-3, 3),
  }));
  const stats = targets.map((t) =>
    Float64Array.from(
      { length: k },
      (_, j) => (j === 0 ? t.valence : 0) + Math.exp((spread * t.valence) / 3) * rng.normal(),
    ),
  );
  return { stats, targets };
}

describe('fitGuardReference', () => {
  const sample = synthetic(600, 1);
  const reference = fitGuardReference([{ name: 'synthetic', ...sample }], {
    naturalnessCeiling: 0,
    calibratedOn: 'test',
  });

  it('recovers the conditional mean and unit precision, deterministically', () => {
    const c = reference.components[0];
    // Row 1 of the coefficients is the valence/3 feature: 3 for the first statistic.
    expect(c?.coefficients[1 * k]).toBeCloseTo(3, 0);
    expect(c?.precision[0]).toBeCloseTo(1, 0);
    expect(validateGuardReference(reference)).toBe(reference);
    const again = fitGuardReference([{ name: 'synthetic', ...synthetic(600, 1) }], {
      naturalnessCeiling: 0,
      calibratedOn: 'test',
    });
    expect(again).toEqual(reference);
  });

  it('puts the radius at the chosen quantile: held-out draws mostly fall inside, shifted ones outside', () => {
    const held = synthetic(400, 2);
    const d = held.stats.map((s, i) => guardDistance(s, held.targets[i] as Emotion, reference));
    const inside = d.filter((v) => v <= reference.radius).length / d.length;
    expect(inside).toBeGreaterThan(0.75);
    expect(inside).toBeLessThan(0.95);
    const shifted = held.stats.map((s, i) => {
      const x = Float64Array.from(s);
      x[3] = (x[3] as number) + 5;
      return guardDistance(x, held.targets[i] as Emotion, reference);
    });
    expect(shifted.filter((v) => v > reference.radius).length / d.length).toBeGreaterThan(0.95);
  });

  it('measures each target against its own spread: pleasant and unpleasant draws fare alike', () => {
    // Pleasant targets vary e² ≈ 7 times as much as unpleasant ones.
    const wide = synthetic(1200, 4, 1);
    const held = synthetic(1200, 5, 1);
    const outside = (ref: GuardReference, pleasant: boolean) => {
      const at = held.stats.flatMap((s, i) =>
        (held.targets[i]?.valence as number) > 1.5 === pleasant &&
        Math.abs(held.targets[i]?.valence as number) > 1.5
          ? [guardDistance(s, held.targets[i] as Emotion, ref)]
          : [],
      );
      return at.filter((d) => d > ref.radius).length / at.length;
    };
    const options = { naturalnessCeiling: 0, calibratedOn: 'test' };
    const pooled = fitGuardReference([{ name: 'w', ...wide }], { ...options, scaleByTarget: 0 });
    const scaled = fitGuardReference([{ name: 'w', ...wide }], { ...options, scaleByTarget: 1 });
    const half = fitGuardReference([{ name: 'w', ...wide }], options);
    expect(half.components[0]?.logScale[1 * k]).toBeCloseTo(0.5, 0);
    // Pooled: one scale per statistic (the intercept row), the same at every target.
    expect(pooled.components[0]?.logScale.slice(k).every((v) => v === 0)).toBe(true);
    // The valence/3 feature's log scale recovers the spread (1 per unit of valence/3).
    expect(scaled.components[0]?.logScale[1 * k]).toBeCloseTo(1, 0);
    expect(outside(pooled, true) - outside(pooled, false)).toBeGreaterThan(0.4);
    expect(Math.abs(outside(scaled, true) - outside(scaled, false))).toBeLessThan(0.1);
  });

  it('cross-validates the radius by group, so that new groups get the chosen share', () => {
    const grouped = { name: 'g', ...sample, groups: sample.stats.map((_, i) => i % 50) };
    const ref = fitGuardReference([grouped], { naturalnessCeiling: 0, calibratedOn: '', folds: 3 });
    expect(ref.radius).toBeGreaterThan(0);
    // In-sample distances sit inside the cross-validated radius a little more often than 85%.
    const inside =
      sample.stats.filter((s, i) => guardDistance(s, sample.targets[i] as Emotion, ref) <= ref.radius)
        .length / sample.stats.length;
    expect(inside).toBeGreaterThanOrEqual(0.85);
    expect(() =>
      fitGuardReference([{ ...grouped, groups: [1, 2] }], { naturalnessCeiling: 0, calibratedOn: '' }),
    ).toThrow(/groups/);
    expect(() => fitGuardReference([grouped], { naturalnessCeiling: 0, calibratedOn: '', folds: 1 })).toThrow(
      /folds/,
    );
  });

  it('rejects too little data and bad options with typed errors', () => {
    const small = synthetic(20, 3);
    expect(() =>
      fitGuardReference([{ name: 's', ...small }], { naturalnessCeiling: 0, calibratedOn: '' }),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      fitGuardReference([{ name: 's', ...sample }], {
        naturalnessCeiling: 0,
        calibratedOn: '',
        shrinkage: 1,
      }),
    ).toThrow(/shrinkage/);
    expect(() => fitGuardReference([], { naturalnessCeiling: 0, calibratedOn: '' })).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('the shipped guard reference and the quality reward', () => {
  it('is well formed and calibrated on the generator', () => {
    expect(validateGuardReference(DEFAULT_GUARD_REFERENCE)).toBe(DEFAULT_GUARD_REFERENCE);
    expect(DEFAULT_GUARD_REFERENCE.components.length).toBeGreaterThanOrEqual(2);
    const broken = { ...DEFAULT_GUARD_REFERENCE, statNames: ['x'] } as GuardReference;
    expect(() => validateGuardReference(broken)).toThrow(InvalidArgumentError);
    expect(() => validateGuardReference({ ...DEFAULT_GUARD_REFERENCE, radius: 0 })).toThrow(/radius/);
    const [first] = DEFAULT_GUARD_REFERENCE.components;
    const noScale = {
      ...DEFAULT_GUARD_REFERENCE,
      components: [{ ...first, logScale: [] }],
    } as GuardReference;
    expect(() => validateGuardReference(noScale)).toThrow(/wrong length/);
  });

  it('penalises nothing within the radius, then quadratically, up to the cap', () => {
    expect(guardPenalty(3, 4, 2, 20)).toBe(0);
    expect(guardPenalty(5, 4, 2, 20)).toBe(2);
    expect(guardPenalty(100, 4, 2, 20)).toBe(20);
  });

  it('takes one target, one per image or none, and checks them', async () => {
    const grey = [image(32, () => 0.5), image(32, () => 0.4)];
    const one = await guardDistances(grey, { valence: 0, arousal: 0 });
    const each = await guardDistances(grey, [
      { valence: 0, arousal: 0 },
      { valence: 0, arousal: 0 },
    ]);
    expect(Array.from(one)).toEqual(Array.from(each));
    const any = await guardDistances(grey);
    for (let i = 0; i < 2; i++) expect(any[i]).toBeLessThanOrEqual(one[i] as number);
    // A flat field is nothing like the generator's images.
    expect(one[0]).toBeGreaterThan(DEFAULT_GUARD_REFERENCE.radius);
    await expect(guardDistances(grey, [{ valence: 0, arousal: 0 }])).rejects.toThrow(InvalidArgumentError);
  });

  it('subtracts the guard penalty from quality, and scores an untouched image 1 at the ceiling', () => {
    const head = decodeHead(LOCAL_HEAD);
    const scores: LocalScores = {
      valence: Float32Array.of(0, 0, 0),
      arousal: Float32Array.of(0, 0, 0),
      naturalness: Float32Array.of(5, 5, Number.NaN),
      highFreq: Float32Array.of(0, 0, 0),
      clipped: Float32Array.of(0, 0, 0),
    };
    const r = DEFAULT_GUARD_REFERENCE.radius;
    const q = qualityFromScores(scores, head, {}, [r - 1, r + 2, 0]);
    expect(q.values[0]).toBeCloseTo(1, 12);
    expect(q.values[1]).toBeCloseTo(1 - 1.5 * 4, 12);
    expect(q.guardPenalty[1]).toBeCloseTo(6, 12);
    expect(q.valid).toEqual([true, true, false]);
    const off = qualityFromScores(scores, head, { guardReference: null }, [r + 2, r + 2, 0]);
    expect(off.values[1]).toBeCloseTo(1, 12);
    expect(() => qualityFromScores(scores, head, {}, [0])).toThrow(/distances/);
    expect(() => qualityFromScores(scores, head, { guardWeight: -1 })).toThrow(InvalidArgumentError);
  });
});
