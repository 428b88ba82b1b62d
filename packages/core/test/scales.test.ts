import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  axisFromCanonical,
  axisToCanonical,
  EMOTION_SCALES,
  fromCanonical,
  InvalidEmotionError,
  scaleRange,
  toCanonical,
  UnknownScaleError,
} from '../src/index.js';

describe('scale conversions', () => {
  it('matches the data sets published conversions', () => {
    // OASIS: x' = (x - 4) * 1.0; BASS: x' = (x - 5) * 0.75
    for (const x of [1, 2.5, 4, 5.5, 7]) expect(axisToCanonical(x, 'likert7')).toBeCloseTo(x - 4, 12);
    for (const x of [1, 3, 5, 7.25, 9]) expect(axisToCanonical(x, 'sam9')).toBeCloseTo((x - 5) * 0.75, 12);
    expect(axisToCanonical(-1, 'signed-unit')).toBe(-3);
    expect(axisToCanonical(0.5, 'unit')).toBe(0);
    expect(axisToCanonical(2, 'canonical')).toBe(2);
  });

  for (const scale of EMOTION_SCALES) {
    it(`round-trips ${scale} → canonical → ${scale}`, () => {
      const [lo, hi] = scaleRange(scale);
      fc.assert(
        fc.property(
          fc.double({ min: lo, max: hi, noNaN: true }),
          fc.double({ min: lo, max: hi, noNaN: true }),
          (v, a) => {
            const back = fromCanonical(toCanonical({ valence: v, arousal: a }, scale), scale);
            return Math.abs(back.valence - v) < 1e-9 && Math.abs(back.arousal - a) < 1e-9;
          },
        ),
      );
    });

    it(`round-trips canonical → ${scale} → canonical`, () => {
      fc.assert(
        fc.property(fc.double({ min: -3, max: 3, noNaN: true }), (x) => {
          const back = axisToCanonical(axisFromCanonical(x, scale), scale);
          return Math.abs(back - x) < 1e-9;
        }),
      );
    });
  }

  it('is monotonic', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 9, noNaN: true }),
        fc.double({ min: 1, max: 9, noNaN: true }),
        (a, b) => {
          const [x, y] = a <= b ? [a, b] : [b, a];
          return axisToCanonical(x, 'sam9') <= axisToCanonical(y, 'sam9');
        },
      ),
    );
  });

  it('rejects unknown scales with the list of known ones', () => {
    expect(() => axisToCanonical(3, 'likert5')).toThrow(UnknownScaleError);
    expect(() => axisToCanonical(3, 'likert5')).toThrow(
      /known scales: canonical, likert7, sam9, signed-unit, unit/,
    );
  });

  it('rejects values outside the source scale, naming the scale', () => {
    expect(() => axisToCanonical(0, 'likert7', 'valence')).toThrow(InvalidEmotionError);
    expect(() => axisToCanonical(0, 'likert7', 'valence')).toThrow(/\[1, 7\] on the 'likert7' scale/);
    expect(() => axisToCanonical(Number.NaN, 'sam9')).toThrow(InvalidEmotionError);
    expect(() => fromCanonical({ valence: 4, arousal: 0 }, 'unit')).toThrow(InvalidEmotionError);
  });
});
