import { type Emotion, ready, SeededRandom, tf } from '@emofeedback/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyAdamW,
  EmoFeedbackTrainer,
  epochUpdates,
  type GrpoEngine,
  grpoConfig,
  grpoIteration,
  grpoStepGradients,
  MemoryCheckpointStore,
  mainThreadGrpoEngine,
  QualityGuard,
  type RewardFunction,
} from '../src/index.js';
import { tinyGenerator } from './tiny-generator.js';

const tiny = () => tinyGenerator();
const targets = [
  { prompt: 'a red sun', emotion: { valence: 2, arousal: 1 } as Emotion },
  { prompt: 'a dark sea', emotion: { valence: -2, arousal: -1 } as Emotion },
];
const redness: RewardFunction = {
  id: 'redness',
  async score(images) {
    const rewards = images.map((img) => {
      let s = 0;
      for (let p = 0; p < img.width * img.height; p++)
        s += (img.data[p * 3] as number) - (img.data[p * 3 + 2] as number);
      return s / (img.width * img.height);
    });
    return { rewards, components: { emotion: rewards, quality: rewards.map(() => 1) } };
  },
};
const config = grpoConfig({
  groupsPerIteration: 4,
  groupSize: 4,
  steps: 4,
  trainWindow: [0, 3],
  stepsPerIteration: 3,
  microBatch: 4,
  microBatchesPerUpdate: 2,
  learningRate: 1e-2,
});
const weights = (g: ReturnType<typeof tiny>) => g.trainableVariables().map((v) => Array.from(v.dataSync()));

describe('the GRPO iteration and its engines', () => {
  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });
  afterAll(async () => {
    await ready({ device: 'cpu' });
  });

  it('cuts each update into two halves that share no group, covering every kept sample once', () => {
    const kept = Array.from({ length: 16 }, (_, i) => i);
    const updates = epochUpdates(kept, 0, 3, config, new SeededRandom(1));
    expect(updates).toHaveLength(2);
    const seen = updates.flat().flatMap((mb) => [...mb.samples]);
    expect([...seen].sort((a, b) => a - b)).toEqual(kept);
    expect(seen).not.toEqual(kept); // shuffled in the first epoch too
    for (const update of updates) {
      const groupsOf = (half: number) =>
        new Set(
          update.filter((m) => m.half === half).flatMap((m) => m.samples.map((s) => Math.floor(s / 4))),
        );
      const a = groupsOf(0);
      for (const g of groupsOf(1)) expect(a.has(g)).toBe(false);
      // weights of an update sum to 1 / trained steps: the update is the mean over its samples and steps
      expect(update.reduce((s, m) => s + m.weight, 0)).toBeCloseTo(1 / 3, 9);
    }
    const ordered = epochUpdates(kept, 0, 3, { ...config, shuffleFirstEpoch: false }, new SeededRandom(1));
    // in order: update 1 holds groups 0 (half 0) and 1 (half 1), update 2 groups 2 and 3
    expect(ordered.map((u) => u.map((m) => [m.half, ...m.samples]))).toEqual([
      [
        [0, 0, 1, 2, 3],
        [1, 4, 5, 6, 7],
      ],
      [
        [0, 8, 9, 10, 11],
        [1, 12, 13, 14, 15],
      ],
    ]);
  });

  it('gives the same adapters with an engine whose tasks and results cross a serialisation boundary', async () => {
    const run = async (wrap: boolean) => {
      const generator = tiny();
      const inner = mainThreadGrpoEngine(generator);
      const engine: GrpoEngine = {
        id: 'cloned',
        sampleTrajectories: async (r, o) => structuredClone(await inner.sampleTrajectories(r, o)),
        gradients: async (task) => structuredClone(await inner.gradients(structuredClone(task))),
      };
      const optimizer = tf.train.adam(config.learningRate);
      const rng = new SeededRandom(4);
      const metrics = [];
      for (let i = 0; i < 2; i++) {
        metrics.push(
          await grpoIteration({
            generator,
            reward: redness,
            optimizer,
            targets,
            config,
            rng,
            ...(wrap ? { engine } : {}),
          }),
        );
      }
      optimizer.dispose();
      const w = weights(generator);
      generator.dispose();
      return { w, metrics };
    };
    const a = await run(false);
    const b = await run(true);
    expect(b.w).toEqual(a.w);
    expect(Math.max(...a.w.flat().map(Math.abs))).toBeGreaterThan(0);
    const m = a.metrics[1]!;
    expect(m.updates).toBe(2);
    expect(m.gradCosine).toBeGreaterThanOrEqual(-1);
    expect(m.gradCosine).toBeLessThanOrEqual(1);
    expect(m.emotion).toBeCloseTo(m.components.emotion!, 12);
    expect(m.quality).toBe(1);
    // the second update is scored by the updated policy: ratios move, approx KL is per transition
    expect(m.ratioDeviation).toBeGreaterThan(0);
    expect(m.approxKl).toBeGreaterThan(0);
  }, 60_000);

  it('scales the KL term as Flow-GRPO does (by 2σ_t², i.e. |dt| times the transition KL)', async () => {
    const generator = tiny();
    for (const v of generator.trainableVariables()) v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', 1));
    const trajectory = await generator.sampleTrajectories(
      { prompts: ['a red sun', 'a dark sea'], emotions: targets.map((t) => t.emotion), seeds: [1, 2] },
      { steps: 4, noiseLevel: 0.7, guidanceScale: 2 },
    );
    const request = {
      step: 1,
      samples: [0, 1],
      oldLogProb: [...(trajectory.logProbs[1] as Float32Array)],
      advantages: [1, -1],
      clipRange: 1e-4,
      klWeight: 0.1,
    };
    const terms = (extra: object) => {
      const { grads, terms: t } = grpoStepGradients(generator, trajectory, { ...request, ...extra });
      const g = Object.values(grads).map((x) => Array.from(x.dataSync()));
      tf.dispose(Object.values(grads));
      return { t, g };
    };
    const flow = terms({ klScaling: 'flow-grpo' });
    const transition = terms({ klScaling: 'transition' });
    const dt = (trajectory.timesteps[1] as number) - (trajectory.timesteps[2] as number);
    expect(flow.t.kl! / transition.t.kl!).toBeCloseTo(dt, 4);
    expect(flow.t.kl!).toBeGreaterThan(0);
    // detaching the unconditional branch keeps the loss and changes the gradient under guidance
    const attached = terms({ detachUnconditional: false });
    const detached = terms({ detachUnconditional: true });
    expect(detached.t.loss).toBeCloseTo(attached.t.loss, 6);
    const diff = Math.max(...detached.g.flat().map((x, i) => Math.abs(x - (attached.g.flat()[i] as number))));
    expect(diff).toBeGreaterThan(1e-6);
    generator.dispose();
  });

  it('applies decoupled weight decay: with a zero gradient the weights shrink by exactly 1 − lr·decay', () => {
    const v = tf.variable(tf.tensor1d([1, -2, 4]));
    const optimizer = tf.train.adam(0.1);
    const norm = applyAdamW(optimizer, [v], [new Float32Array(3)], {
      maxGradNorm: 1,
      learningRate: 0.1,
      weightDecay: 0.5,
    });
    expect(norm).toBe(0);
    const got = Array.from(v.dataSync());
    [1, -2, 4].forEach((w, i) => {
      expect(got[i]).toBeCloseTo(w * 0.95, 6);
    });
    optimizer.dispose();
    v.dispose();
  });

  it('warns, or stops the trainer, when mean quality falls more than 10% below its first value', async () => {
    let call = 0;
    const falling: RewardFunction = {
      id: 'falling-quality',
      async score(images) {
        const q = [0.8, 0.76, 0.6, 0.5][Math.min(call++, 3)] as number;
        const rewards = images.map((_, i) => i % 3);
        return { rewards, components: { emotion: rewards, quality: images.map(() => q) } };
      },
    };
    const base = {
      evaluator: { id: 'none', evaluate: async () => [] },
      targets,
      grpo: { ...config, groupsPerIteration: 2, stepsPerIteration: 1 },
    };
    const events: { type: string; drop?: number }[] = [];
    const warn = new EmoFeedbackTrainer({
      ...base,
      generator: tiny(),
      reward: falling,
      onEvent: (e) => events.push(e),
    });
    const r = await warn.train({ iterations: 4 });
    expect(r.iterations).toBe(4);
    expect(r.stoppedBy).toBeUndefined();
    const warnings = events.filter((e) => e.type === 'quality-warning');
    expect(warnings).toHaveLength(2); // iterations 3 and 4; 0.76 is a 5% drop
    expect(warnings[0]!.drop).toBeCloseTo(0.25, 9);
    call = 0;
    const stop = new EmoFeedbackTrainer({
      ...base,
      generator: tiny(),
      reward: falling,
      qualityGuard: { action: 'stop' },
    });
    const s = await stop.train({ iterations: 10 });
    expect(s).toMatchObject({ iterations: 3, stoppedBy: 'quality' });
    expect(() => new QualityGuard({ maxDrop: 0 })).toThrow(/maxDrop/);
    // a resumed run keeps the first iteration's baseline (saved with the checkpoint)
    call = 0;
    const store = new MemoryCheckpointStore();
    const checkpoints = { store, every: 1 };
    const first = new EmoFeedbackTrainer({ ...base, generator: tiny(), reward: falling, checkpoints });
    await first.train({ iterations: 1 });
    const resumed: string[] = [];
    const second = new EmoFeedbackTrainer({
      ...base,
      generator: tiny(),
      reward: falling,
      checkpoints,
      onEvent: (e) => resumed.push(e.type),
    });
    await second.train({ iterations: 3 });
    expect(resumed.filter((t) => t === 'quality-warning')).toHaveLength(1);
    first.dispose();
    second.dispose();
    warn.dispose();
    stop.dispose();
  }, 60_000);
});
