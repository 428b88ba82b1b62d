// How much signal one GRPO update carries on a quickstart-style narrow task (valence −2.5,
// arousal 0 on 4 prompts, the shipped generator at its own guidance, the default reward): the
// cosine between the gradients of two independent half-batches, for several sample counts per
// update, and the trust-region figures (clip fraction, largest |ratio − 1|, approx KL per
// transition) of a few iterations with two updates each.
// Usage: pnpm bench grpo-signal [-- repeats]   (writes one JSON object per setting)
import { availableParallelism } from 'node:os';
import { createEmbeddedGenerator, ready, SeededRandom, tf } from '@emofeedback/core';
import { ParallelSampler, workerGrpoEngine } from '@emofeedback/node';
import { createLocalEvaluator } from '@emofeedback/reward';
import {
  DEFAULT_TRAINING_PROMPTS,
  defaultReward,
  type GrpoConfig,
  grpoConfig,
  grpoIteration,
} from '@emofeedback/rl';

const repeats = Number(process.argv[2] ?? 4);
await ready({ device: 'wasm' });
const generator = await createEmbeddedGenerator({ lora: { rank: 4, seed: 1 } });
const evaluator = await createLocalEvaluator();
const reward = defaultReward(evaluator);
const sampler = await ParallelSampler.create(generator, { workers: Math.min(2, availableParallelism()) });
const engine = workerGrpoEngine(generator, sampler);
const targets = DEFAULT_TRAINING_PROMPTS.slice(0, 4).map((prompt) => ({
  prompt,
  emotion: { valence: -2.5, arousal: 0 },
}));
const initial = generator.trainableVariables().map((v) => tf.clone(v));
const reset = () => {
  generator.trainableVariables().forEach((v, i) => {
    v.assign(initial[i] as tf.Tensor);
  });
};

async function run(label: string, overrides: Partial<GrpoConfig>, iterations: number, seed: number) {
  reset();
  const config = grpoConfig({ guidanceScale: generator.sampling.guidanceScale, ...overrides });
  const optimizer = tf.train.adam(config.learningRate);
  const rng = new SeededRandom(seed);
  const rows = [];
  for (let i = 0; i < iterations; i++) {
    const m = await grpoIteration({ generator, reward, optimizer, targets, config, rng, engine });
    rows.push(m);
  }
  optimizer.dispose();
  return { label, rows };
}

const stats = (xs: number[]) => {
  const ok = xs.filter(Number.isFinite);
  const m = ok.reduce((s, x) => s + x, 0) / ok.length;
  const sd = Math.sqrt(ok.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, ok.length - 1));
  return { mean: m, sd, n: ok.length };
};

// Half-batch cosine at the initial adapters: one update over all the iteration's samples, with a
// negligible learning rate so every repeat measures the same policy.
for (const [samples, std] of [
  [16, 'batch'],
  [32, 'batch'],
  [64, 'batch'],
  [32, 'group'],
] as const) {
  const started = Date.now();
  const cosines: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const { rows } = await run(
      'cosine',
      {
        groupsPerIteration: samples / 8,
        groupSize: 8,
        microBatch: 16,
        microBatchesPerUpdate: samples / 16,
        advantageStd: std,
        learningRate: 1e-12,
      },
      1,
      100 + r,
    );
    cosines.push(rows[0]!.gradCosine);
  }
  console.log(
    JSON.stringify({
      setting: `${samples} samples per update, ${std} std`,
      gradCosine: stats(cosines),
      cosines,
      seconds: (Date.now() - started) / 1000,
    }),
  );
}

// Trust region: 3 iterations of 32 samples in two updates of 16, the default learning rate.
for (const clipRange of [1e-4, 0.2]) {
  const { rows } = await run('trust', { microBatch: 16, microBatchesPerUpdate: 1, clipRange }, 3, 7);
  console.log(
    JSON.stringify({
      setting: `clip range ${clipRange}, 2 updates of 16 per iteration`,
      clipFraction: rows.map((m) => m.clipFraction),
      ratioDeviation: rows.map((m) => m.ratioDeviation),
      approxKlPerTransition: rows.map((m) => m.approxKl),
      klLoss: rows.map((m) => m.klLoss),
      emotion: rows.map((m) => m.emotion),
      quality: rows.map((m) => m.quality),
      gradCosine: rows.map((m) => m.gradCosine),
      updateSeconds: rows.map((m) => m.timings.updateMs / 1000),
      sampleSeconds: rows.map((m) => m.timings.sampleMs / 1000),
    }),
  );
}
await sampler.dispose();
generator.dispose();
evaluator.dispose();
