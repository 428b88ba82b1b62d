import { beforeAll, describe, expect, it } from 'vitest';
import { emotionFeatures, InvalidEmotionError, ready, tf, validateEmotions } from '../src/index.js';
import { maxDiff, tinyGenerator } from './generator-fixtures.js';

describe('emotion encoder', () => {
  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });

  it('computes Fourier features', () => {
    const f = emotionFeatures([{ valence: 3, arousal: -1.5 }], 2);
    expect(f.length).toBe(10);
    expect(f[0]).toBeCloseTo(1);
    expect(f[1]).toBeCloseTo(-0.5);
    expect(f[2]).toBeCloseTo(Math.sin(Math.PI));
    expect(f[3]).toBeCloseTo(Math.cos(Math.PI));
    expect(f[4]).toBeCloseTo(Math.sin(-0.5 * Math.PI));
    expect(f[8]).toBeCloseTo(Math.sin(-Math.PI));
  });

  it('validates emotions with the core validator', () => {
    expect(() => validateEmotions([{ valence: 4, arousal: 0 }])).toThrow(InvalidEmotionError);
    expect(() => validateEmotions([{ valence: 0, arousal: Number.NaN }])).toThrow(/emotions\[0\]\.arousal/);
    expect(() => validateEmotions([null as unknown as { valence: number; arousal: number }])).toThrow(
      InvalidEmotionError,
    );
  });

  it('makes K tokens that depend on the emotion, and null tokens when dropped', () => {
    const g = tinyGenerator();
    const layers = (g.model as unknown as { layersRef: Parameters<typeof g.model.emotion.encode>[0] })
      .layersRef;
    const e = [
      { valence: -3, arousal: 0 },
      { valence: 3, arousal: 0 },
    ];
    const a = g.model.emotion.encode(layers, e);
    expect(a.tokens.shape).toEqual([2, 2, 8]);
    expect(a.pooled.shape).toEqual([2, 8]);
    const [t0, t1] = tf.split(a.tokens, 2, 0).map((t) => t.dataSync());
    expect(maxDiff(t0!, t1!)).toBeGreaterThan(1e-3);
    const d = g.model.emotion.encode(layers, e, [true, true]);
    const [n0, n1] = tf.split(d.tokens, 2, 0).map((t) => t.dataSync());
    expect(maxDiff(n0!, n1!)).toBe(0);
    expect(maxDiff(n0!, g.model.weights.get('emotion.null').dataSync())).toBe(0);
    tf.dispose([a.tokens, a.pooled, d.tokens, d.pooled]);
    g.dispose();
  });
});
