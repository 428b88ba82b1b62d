import { createEmoFlowGenerator, ready, SeededRandom } from '@emofeedback/core';
import { createLocalEvaluator } from '@emofeedback/reward';
import { describe, expect, it } from 'vitest';
import { ParallelSampler, parallelLocalEvaluator } from '../src/index.js';

describe('parallelLocalEvaluator', () => {
  it('scores images as the local evaluator does on one thread, in order', async () => {
    await ready({ device: 'wasm' });
    const rng = new SeededRandom(2);
    const images = Array.from({ length: 5 }, () => ({
      width: 64,
      height: 64,
      data: rng.uniformArray(64 * 64 * 3),
    }));
    const local = await createLocalEvaluator();
    const expected = await local.evaluate(images);
    local.dispose();
    // The sampler's generator is irrelevant here; a tiny one keeps start-up short.
    const generator = createEmoFlowGenerator({ imageSize: 8, channels: [8, 8, 8], groups: 4 });
    const sampler = await ParallelSampler.create(generator, { workers: 2 });
    try {
      const got = await parallelLocalEvaluator(sampler).evaluate(images);
      expect(got).toHaveLength(5);
      got.forEach((e, i) => {
        const ref = expected[i];
        expect(e.ok && ref?.ok).toBe(true);
        if (e.ok && ref?.ok) {
          expect(Math.abs(e.valence - ref.valence)).toBeLessThan(1e-4);
          expect(Math.abs(e.arousal - ref.arousal)).toBeLessThan(1e-4);
        }
      });
    } finally {
      await sampler.dispose();
      generator.dispose();
    }
  });
});
