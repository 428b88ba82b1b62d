import { createEmoFlowGenerator, FlowMatchingTrainer, ready, SeededRandom } from '@emofeedback/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParallelSampler, parallelFlowMatchingStep } from '../src/index.js';

const tiny = {
  imageSize: 8,
  channels: [8, 8, 8] as [number, number, number],
  attentionDim: 8,
  heads: 1,
  condDim: 16,
  timeFeatures: 8,
  groups: 4,
  text: { vocabulary: ['a', 'calm', 'sea', 'storm'], hashBuckets: 8, maxTokens: 6, dim: 8 },
  emotion: { fourierFeatures: 2, hidden: 8, tokens: 2 },
  seed: 1,
};

describe('parallelFlowMatchingStep', () => {
  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });

  it('trains the base weights as FlowMatchingTrainer.step does, with two workers', async () => {
    const data = new SeededRandom(9);
    const n = 5;
    const batch = {
      images: Array.from({ length: n }, () => ({ width: 8, height: 8, data: data.uniformArray(8 * 8 * 3) })),
      prompts: ['a calm sea', 'a storm', 'a sea', 'calm', 'a storm sea'],
      emotions: Array.from({ length: n }, (_, i) => ({ valence: i - 2, arousal: 1 - i / 2 })),
    };
    // Dropout of one in two makes both the dropped and the kept paths appear.
    const options = { learningRate: 1e-2, textDropout: 0.5, emotionDropout: 0.5 };
    const local = createEmoFlowGenerator(tiny);
    const parallel = createEmoFlowGenerator(tiny);
    const a = new FlowMatchingTrainer(local, new SeededRandom(4), options);
    const b = new FlowMatchingTrainer(parallel, new SeededRandom(4), options);
    const sampler = await ParallelSampler.create(parallel, { workers: 2 });
    try {
      for (let step = 0; step < 3; step++) {
        const la = a.step(batch);
        const lb = await parallelFlowMatchingStep(b, sampler, batch, options);
        expect(lb).toBeCloseTo(la, 5);
      }
      let moved = 0;
      let diff = 0;
      const initial = createEmoFlowGenerator(tiny);
      for (const [name, v] of local.model.weights.variables) {
        const x = v.dataSync();
        const y = parallel.model.weights.get(name).dataSync();
        const z = initial.model.weights.get(name).dataSync();
        for (let i = 0; i < x.length; i++) {
          diff = Math.max(diff, Math.abs((x[i] as number) - (y[i] as number)));
          moved = Math.max(moved, Math.abs((x[i] as number) - (z[i] as number)));
        }
      }
      initial.dispose();
      expect(moved).toBeGreaterThan(1e-3);
      expect(diff).toBeLessThan(1e-4);
    } finally {
      await sampler.dispose();
      a.dispose();
      b.dispose();
      local.dispose();
      parallel.dispose();
    }
  });
});
