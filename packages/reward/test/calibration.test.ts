import { InvalidArgumentError, InvalidImageError, type RgbImage } from '@emofeedback/core';
import {
  calibrate,
  type EmotionEvaluator,
  type Evaluation,
  fitLinearCorrection,
  withLinearCorrection,
} from '@emofeedback/reward';
import { describe, expect, it } from 'vitest';

/** Encodes a rating in the image's first pixel so a fake evaluator can "read" it. */
const img = (v: number, size = 2): RgbImage => {
  const data = new Float32Array(size * size * 3).fill(0.5);
  data[0] = (v + 3) / 6;
  return { width: size, height: size, data };
};
/** Predicts valence = 0.5·x + 1 and arousal = −x for the encoded x; fails when x > 2.5. */
const fake: EmotionEvaluator = {
  id: 'fake',
  evaluate: async (images) =>
    (images as RgbImage[]).map((im): Evaluation => {
      const x = (im.data[0] as number) * 6 - 3;
      return x > 2.5
        ? { ok: false, failure: 'refusal', message: 'no' }
        : { ok: true, valence: 0.5 * x + 1, arousal: -x };
    }),
};

describe('calibrate', () => {
  const xs = [-2, -1, 0, 1, 2, 3];
  const rated = xs.map((x, i) => ({ image: img(x, i < 3 ? 2 : 3), valence: x, arousal: x }));

  it('measures agreement over the scored images and counts failures', async () => {
    const progress: number[] = [];
    const report = await calibrate(fake, rated, { onProgress: (done) => progress.push(done) });
    expect(report.n).toBe(5);
    expect(report.failed).toBe(1);
    expect(report.evaluations).toHaveLength(6);
    expect(report.valence.pearson).toBeCloseTo(1, 5);
    expect(report.arousal.pearson).toBeCloseTo(-1, 5);
    // valence error |0.5x + 1 − x| over x = −2..2 → 2, 1.5, 1, 0.5, 0 → mean 1.
    expect(report.valence.mae).toBeCloseTo(1, 5);
    // Two image sizes → at least two batches.
    expect(progress.at(-1)).toBe(6);
    expect(progress.length).toBeGreaterThanOrEqual(2);
  });

  it('rejects empty lists, bad images and bad ratings', async () => {
    await expect(calibrate(fake, [])).rejects.toThrow(InvalidArgumentError);
    await expect(
      calibrate(fake, [
        { image: { width: 2, height: 2, data: new Float32Array(3) }, valence: 0, arousal: 0 },
      ]),
    ).rejects.toThrow(InvalidImageError);
    await expect(calibrate(fake, [{ image: img(0), valence: 9, arousal: 0 }])).rejects.toThrow(
      /ratedImages\[0\]/,
    );
  });
});

describe('linear correction', () => {
  it('fits and applies the inverse of a linear distortion', async () => {
    const xs = [-2, -1, 0, 1, 2];
    const rated = xs.map((x) => ({ image: img(x), valence: x, arousal: x }));
    const report = await calibrate(fake, rated);
    const fit = fitLinearCorrection(report.evaluations, rated);
    expect(fit.valence.slope).toBeCloseTo(2, 6);
    expect(fit.valence.intercept).toBeCloseTo(-2, 6);
    expect(fit.arousal.slope).toBeCloseTo(-1, 6);
    const corrected = withLinearCorrection(fake, fit);
    expect(corrected.id).toBe('fake+linear');
    const after = await calibrate(corrected, rated);
    expect(after.valence.mae).toBeLessThan(1e-5);
    expect(after.arousal.mae).toBeLessThan(1e-5);
    // Failures pass through untouched.
    const [e] = await corrected.evaluate([img(2.9)]);
    expect(e?.ok).toBe(false);
  });

  it('refuses degenerate fits', () => {
    const same: Evaluation[] = [
      { ok: true, valence: 1, arousal: 0 },
      { ok: true, valence: 1, arousal: 1 },
    ];
    expect(() =>
      fitLinearCorrection(same, [
        { valence: 0, arousal: 0 },
        { valence: 1, arousal: 1 },
      ]),
    ).toThrow(/same/);
    expect(() => fitLinearCorrection(same, [{ valence: 0, arousal: 0 }])).toThrow(/pair up/);
    expect(() =>
      withLinearCorrection(fake, {
        valence: { slope: Number.NaN, intercept: 0 },
        arousal: { slope: 1, intercept: 0 },
        n: 2,
      }),
    ).toThrow(InvalidArgumentError);
  });
});
