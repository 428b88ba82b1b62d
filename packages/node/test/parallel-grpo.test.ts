import { createEmoFlowGenerator, type EmoFlowGenerator, ready, SeededRandom, tf } from '@emofeedback/core';
import { EmoFeedbackTrainer, grpoConfig, grpoIteration, type RewardFunction } from '@emofeedback/rl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ParallelSampler,
  parallelGrpoIteration,
  parallelGrpoRunner,
  withParallelSampling,
  workerGrpoEngine,
} from '../src/index.js';

const tiny = {
  imageSize: 8,
  channels: [8, 8, 8] as [number, number, number],
  attentionDim: 8,
  heads: 2,
  condDim: 16,
  timeFeatures: 8,
  groups: 4,
  text: { vocabulary: ['a', 'calm', 'sea', 'storm'], hashBuckets: 8, maxTokens: 6, dim: 8 },
  emotion: { fourierFeatures: 2, hidden: 8, tokens: 2 },
  seed: 1,
};
const reward: RewardFunction = {
  id: 'brightness-vs-valence',
  async score(images, targets) {
    const rewards = images.map((img, i) => {
      let s = 0;
      for (const v of img.data) s += v;
      return -Math.abs((s / img.data.length) * 6 - 3 - (targets[i]?.valence ?? 0));
    });
    return { rewards, components: { emotion: rewards } };
  },
};
const targets = [
  { prompt: 'a calm sea', emotion: { valence: 2, arousal: -2 } },
  { prompt: 'a storm', emotion: { valence: -2, arousal: 2 } },
];
const config = grpoConfig({
  groupsPerIteration: 2,
  groupSize: 5,
  steps: 4,
  trainWindow: [0, 3],
  stepsPerIteration: 2,
  microBatch: 6,
  microBatchesPerUpdate: 1,
  guidanceScale: 2,
  klWeight: 0.01,
});

const fresh = () => createEmoFlowGenerator(tiny, { lora: { rank: 2, seed: 2 } });

function adapters(g: EmoFlowGenerator): Float32Array[] {
  return g.trainableVariables().map((v) => (v.dataSync() as Float32Array).slice());
}

describe('parallelGrpoIteration (grpoIteration with the worker engine)', () => {
  const made: EmoFlowGenerator[] = [];
  const samplers: ParallelSampler[] = [];
  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });
  afterAll(async () => {
    await Promise.all(samplers.map((s) => s.dispose()));
    for (const g of made) g.dispose();
  });

  async function run(workers: number | null): Promise<{ weights: Float32Array[]; losses: number[] }> {
    const generator = fresh();
    made.push(generator);
    const optimizer = tf.train.adam(config.learningRate);
    const rng = new SeededRandom(5);
    const losses: number[] = [];
    const sampler = workers ? await ParallelSampler.create(generator, { workers }) : null;
    if (sampler) samplers.push(sampler);
    for (let i = 0; i < 2; i++) {
      const m = sampler
        ? await parallelGrpoIteration({ generator, sampler, reward, optimizer, targets, config, rng })
        : await grpoIteration({ generator, reward, optimizer, targets, config, rng });
      losses.push(m.loss, m.policyLoss, m.klLoss, m.gradNorm, m.firstRatio, m.gradCosine);
    }
    optimizer.dispose();
    return { weights: adapters(generator), losses };
  }

  it('updates the adapters as grpoIteration does, with one or two workers', async () => {
    const local = await run(null);
    const one = await run(1);
    const two = await run(2);
    // The adapters moved (B starts at zero), so the comparison means something.
    expect(Math.max(...local.weights.flatMap((w) => [...w].map(Math.abs)))).toBeGreaterThan(0);
    for (const other of [one, two]) {
      other.weights.forEach((w, i) => {
        const ref = local.weights[i] as Float32Array;
        for (let j = 0; j < w.length; j++)
          expect(Math.abs((w[j] as number) - (ref[j] as number))).toBeLessThan(1e-4);
      });
      other.losses.forEach((l, i) => {
        expect(l).toBeCloseTo(local.losses[i] as number, 4);
      });
    }
  });
});

describe('workerGrpoEngine in EmoFeedbackTrainer', () => {
  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });

  it('trains to the same adapters as the main-thread engine, as an engine and as a runner', async () => {
    const evaluator = { id: 'unused', evaluate: async () => [] };
    const options = { evaluator, reward, targets, grpo: config, seed: 3 };
    const local = fresh();
    const viaEngine = fresh();
    const viaRunner = fresh();
    const samplers = [
      await ParallelSampler.create(viaEngine, { workers: 2 }),
      await ParallelSampler.create(viaRunner, { workers: 2 }),
    ] as const;
    try {
      await new EmoFeedbackTrainer({ ...options, generator: local }).train({ iterations: 2 });
      const engineTrainer = new EmoFeedbackTrainer({
        ...options,
        generator: withParallelSampling(viaEngine, samplers[0]),
        engine: workerGrpoEngine(viaEngine, samplers[0]),
      });
      const { history } = await engineTrainer.train({ iterations: 2 });
      expect(history).toHaveLength(2);
      expect(Number.isFinite(history[1]!.gradCosine)).toBe(true);
      await new EmoFeedbackTrainer({
        ...options,
        generator: withParallelSampling(viaRunner, samplers[1]),
        runIteration: parallelGrpoRunner(viaRunner, samplers[1]),
      }).train({ iterations: 2 });
      const a = adapters(local);
      expect(Math.max(...a.flatMap((w) => [...w].map(Math.abs)))).toBeGreaterThan(0);
      for (const b of [adapters(viaEngine), adapters(viaRunner)]) {
        a.forEach((w, i) => {
          const other = b[i] as Float32Array;
          for (let j = 0; j < w.length; j++)
            expect(Math.abs((w[j] as number) - (other[j] as number))).toBeLessThan(1e-4);
        });
      }
    } finally {
      await Promise.all(samplers.map((s) => s.dispose()));
      local.dispose();
      viaEngine.dispose();
      viaRunner.dispose();
    }
  }, 120_000);
});
