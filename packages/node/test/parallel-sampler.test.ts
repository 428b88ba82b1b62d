import { createEmbeddedGenerator, type EmoFlowGenerator, ready, SeededRandom, tf } from '@emofeedback/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParallelSampler, splitRows, withParallelSampling } from '../src/index.js';

const request = {
  prompts: ['a dog in a meadow', 'a calm sea', 'a city at night', 'a dark forest', 'a boat'],
  emotions: [
    { valence: 2, arousal: -1 },
    { valence: -1, arousal: 2 },
    { valence: 0, arousal: 0 },
    { valence: -2.5, arousal: -1.5 },
    { valence: 1, arousal: 1 },
  ],
  seeds: [11, 12, 13, 14, 15],
};

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

describe('splitRows', () => {
  it('splits rows into contiguous, balanced, non-empty chunks', () => {
    expect(splitRows(5, 2)).toEqual([
      [0, 3],
      [3, 5],
    ]);
    expect(splitRows(2, 4)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(splitRows(8, 1)).toEqual([[0, 8]]);
  });
});

describe('ParallelSampler', () => {
  let generator: EmoFlowGenerator;
  let one: ParallelSampler;
  let two: ParallelSampler;

  beforeAll(async () => {
    await ready({ device: 'wasm' });
    generator = await createEmbeddedGenerator({ lora: { seed: 3 } });
    // Non-zero adapters, so the workers must receive them to match.
    const rng = new SeededRandom(4);
    for (const [name, v] of generator.adapters?.variables ?? []) {
      if (name.endsWith('.lora_b'))
        v.assign(
          tf.tensor(
            rng.normalArray(v.size).map((x) => x * 0.05),
            v.shape,
          ),
        );
    }
    [one, two] = await Promise.all([
      ParallelSampler.create(generator, { workers: 1 }),
      ParallelSampler.create(generator, { workers: 2 }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([one?.dispose(), two?.dispose()]);
    generator?.dispose();
  });

  it('gives the same Euler images with one or two workers, and as the generator itself', async () => {
    const a = await one.generate(request, { steps: 4 });
    const b = await two.generate(request, { steps: 4 });
    const c = await generator.generate(request, { steps: 4 });
    expect(b).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      expect(
        maxDiff((a[i] as { data: Float32Array }).data, (b[i] as { data: Float32Array }).data),
      ).toBeLessThan(1e-4);
      expect(
        maxDiff((c[i] as { data: Float32Array }).data, (b[i] as { data: Float32Array }).data),
      ).toBeLessThan(1e-4);
    }
  });

  it('gives the same SDE trajectories (latents, log-probs, images) with one or two workers', async () => {
    const a = await one.sampleTrajectories(request, { steps: 3, noiseLevel: 0.7 });
    const b = await two.sampleTrajectories(request, { steps: 3, noiseLevel: 0.7 });
    expect(b.seeds).toEqual(request.seeds);
    expect(b.latents).toHaveLength(4);
    expect(b.logProbs).toHaveLength(3);
    a.latents.forEach((l, i) => {
      expect(maxDiff(l, b.latents[i] as Float32Array)).toBeLessThan(1e-4);
    });
    a.logProbs.forEach((l, i) => {
      expect(maxDiff(l, b.logProbs[i] as Float32Array)).toBeLessThan(1e-4);
    });
    // The stored log-probs re-score under the main thread's weights: the trajectory is usable
    // for GRPO exactly as one sampled locally.
    const scores = generator.scoreTrajectory(b, { steps: [1] });
    expect(maxDiff(scores.logProbs.dataSync(), b.logProbs[1] as Float32Array)).toBeLessThan(1e-3);
    tf.dispose([scores.logProbs, scores.means]);
  });

  it('sends changed adapters to the workers before sampling trajectories', async () => {
    const wrapped = withParallelSampling(generator, two);
    const b = generator.adapters?.variables.get('d1.attn.q.lora_b') as tf.Variable;
    const before = b.clone();
    const unchanged = await wrapped.sampleTrajectories(request, { steps: 2, noiseLevel: 0.7 });
    b.assign(tf.mul(b, 3));
    try {
      const parallel = await wrapped.sampleTrajectories(request, { steps: 2, noiseLevel: 0.7 });
      const local = await generator.sampleTrajectories(request, { steps: 2, noiseLevel: 0.7 });
      // The change matters, and the workers sample with it.
      expect(maxDiff(unchanged.latents[2] as Float32Array, local.latents[2] as Float32Array)).toBeGreaterThan(
        1e-3,
      );
      expect(maxDiff(parallel.latents[2] as Float32Array, local.latents[2] as Float32Array)).toBeLessThan(
        1e-4,
      );
    } finally {
      b.assign(before);
      before.dispose();
      await two.sync();
    }
  });
});
