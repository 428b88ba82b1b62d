import {
  createEmoFlowGenerator,
  type Emotion,
  InvalidArgumentError,
  type RgbImage,
  ready,
  tf,
} from '@emofeedback/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EmoFeedbackTrainer,
  type EmoFeedbackTrainerOptions,
  grpoConfig,
  MemoryCheckpointStore,
  type RewardFunction,
} from '../src/index.js';
import { TINY, tinyGenerator } from './tiny-generator.js';

// The tiny generator (tiny-generator.ts) and a reward that is a plain function of the pixels, so the
// tests check GRPO's mechanics exactly and fast.

/** Reward: how red the image is (mean of R − mean of B). */
const rednessReward: RewardFunction = {
  id: 'redness',
  async score(images: readonly RgbImage[]) {
    const rewards = images.map((img) => {
      let s = 0;
      for (let p = 0; p < img.width * img.height; p++)
        s += (img.data[p * 3] as number) - (img.data[p * 3 + 2] as number);
      return s / (img.width * img.height);
    });
    return { rewards, components: { redness: rewards } };
  },
};

const constantReward: RewardFunction = {
  id: 'constant',
  async score(images) {
    return { rewards: images.map(() => 1), components: { constant: images.map(() => 1) } };
  },
};

const dummyEvaluator = { id: 'none', evaluate: async () => [] };
const targets = [
  { prompt: 'a red sun', emotion: { valence: 2, arousal: 1 } as Emotion },
  { prompt: 'a dark sea', emotion: { valence: -2, arousal: -1 } as Emotion },
];
const grpo = {
  groupsPerIteration: 2,
  groupSize: 4,
  steps: 4,
  trainWindow: [0, 3] as [number, number],
  stepsPerIteration: 2,
  microBatch: 4,
  // two Adam steps per iteration, so the second is scored off-policy
  microBatchesPerUpdate: 1,
};

function trainer(overrides: Partial<EmoFeedbackTrainerOptions> = {}) {
  return new EmoFeedbackTrainer({
    generator: tinyGenerator(),
    evaluator: dummyEvaluator,
    reward: rednessReward,
    targets,
    grpo,
    seed: 7,
    ...overrides,
  });
}

const weightsOf = (t: { generator: { trainableVariables(): tf.Variable[] } }) =>
  t.generator.trainableVariables().map((v) => Array.from(v.dataSync()));

describe('GRPO on the flow SDE', () => {
  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });
  afterAll(async () => {
    await ready({ device: 'cpu' });
  });

  it('is on-policy at the first inner step (ratio exactly 1) and KL is 0 with zero-initialised adapters', async () => {
    const t = trainer();
    const { history } = await t.train({ iterations: 1 });
    const m = history[0]!;
    expect(Math.abs(m.firstRatio - 1)).toBeLessThan(1e-5);
    expect(m.firstKl).toBe(0);
    // the second micro-batch is scored after the first Adam step: off-policy, adapters moved
    expect(m.klLoss).toBeGreaterThan(0);
    expect(m.gradNorm).toBeGreaterThan(0);
    t.dispose();
  });

  it('drops groups whose rewards do not spread and leaves the weights unchanged', async () => {
    const generator = tinyGenerator();
    const before = generator.trainableVariables().map((v) => Array.from(v.dataSync()));
    const t = trainer({ generator, reward: constantReward });
    const { history } = await t.train({ iterations: 1 });
    expect(history[0]!.zeroSpreadFraction).toBe(1);
    expect(history[0]!.zeroSpreadGroups).toBe(2);
    expect(generator.trainableVariables().map((v) => Array.from(v.dataSync()))).toEqual(before);
    t.dispose();
  });

  it('raises the reward it is trained on', async () => {
    const generator = tinyGenerator();
    // the reward of a fixed batch (same prompts, targets and seeds) before and after training
    const fixed = {
      prompts: Array.from({ length: 16 }, (_, i) => targets[i % 2]!.prompt),
      emotions: Array.from({ length: 16 }, (_, i) => targets[i % 2]!.emotion),
      seeds: Array.from({ length: 16 }, (_, i) => 500 + i),
    };
    const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const before = mean((await rednessReward.score(await generator.generate(fixed), [], [])).rewards);
    const t = trainer({ generator, grpo: { ...grpo, learningRate: 2e-2, groupSize: 6 } });
    const { history } = await t.train({ iterations: 12 });
    // two micro-batches per iteration, one Adam step each: the second is scored off-policy
    expect(history.some((m) => m.approxKl > 0)).toBe(true);
    const after = mean((await rednessReward.score(await generator.generate(fixed), [], [])).rewards);
    expect(after).toBeGreaterThan(before + 0.01);
    // only the adapters moved: adapters-off output equals a fresh base model's
    const fresh = tinyGenerator();
    const req = { prompts: ['a red sun'], emotions: [{ valence: 1, arousal: 0 }], seeds: [1] };
    generator.setAdaptersEnabled(false);
    fresh.setAdaptersEnabled(false);
    const base = await generator.generate(req);
    const ref = await fresh.generate(req);
    expect(Array.from(base[0]!.data)).toEqual(Array.from(ref[0]!.data));
    t.dispose();
  }, 120_000);

  it('resumed from a checkpoint equals an uninterrupted run with the same seed', async () => {
    const store = new MemoryCheckpointStore();
    const a = trainer({ checkpoints: { store, every: 1 } });
    await a.train({ iterations: 2 });
    a.dispose();
    const events: string[] = [];
    const r = trainer({ checkpoints: { store, every: 1 }, onEvent: (e) => events.push(`${e.type}`) });
    await r.train({ iterations: 4 });
    expect(events[0]).toBe('resume');
    const straight = trainer();
    const initial = weightsOf({
      generator: (straight as unknown as { options: { generator: never } }).options.generator,
    });
    await straight.train({ iterations: 4 });
    const got = weightsOf({
      generator: (r as unknown as { options: { generator: never } }).options.generator,
    });
    const want = weightsOf({
      generator: (straight as unknown as { options: { generator: never } }).options.generator,
    });
    expect(got).toEqual(want);
    expect(want).not.toEqual(initial);
    r.dispose();
    straight.dispose();
  }, 120_000);

  it('keeps the tensor count flat across iterations', async () => {
    const t = trainer();
    await t.train({ iterations: 1 });
    const before = tf.memory().numTensors;
    await t.train({ iterations: 4 });
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  }, 120_000);

  it('stops cleanly when its signal aborts (a time budget), keeping the last completed iteration', async () => {
    const controller = new AbortController();
    const t = trainer({
      onEvent: (e) => {
        // abort while the second iteration samples
        if (e.type === 'iteration' && e.iteration === 1) setTimeout(() => controller.abort(), 0);
      },
    });
    const result = await t.train({ iterations: 50, signal: controller.signal });
    expect(result.iterations).toBeGreaterThanOrEqual(1);
    expect(result.iterations).toBeLessThan(50);
    expect((await trainer().train({ iterations: 3, signal: AbortSignal.abort() })).iterations).toBe(0);
    t.dispose();
  });

  it('rejects bad configurations with typed errors', () => {
    expect(() => grpoConfig({ groupSize: 1 })).toThrow(/at least 2/);
    expect(() => grpoConfig({ steps: 4, trainWindow: [2, 9] })).toThrow(InvalidArgumentError);
    expect(() => grpoConfig({ noiseLevel: 0 })).toThrow(/noiseLevel/);
    expect(() => trainer({ targets: [] })).toThrow(/at least one/);
    expect(() => trainer({ targets: [{ prompt: 'x', emotion: { valence: 5, arousal: 0 } }] })).toThrow(
      /valence/,
    );
    expect(() => trainer({ generator: createEmoFlowGenerator({ ...TINY, seed: 1 }) })).toThrow(
      /no trainable variables/,
    );
  });
});
