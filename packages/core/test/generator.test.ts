import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEmbeddedGenerator,
  type EmoFlowGenerator,
  FlowMatchingTrainer,
  flowMatchingLoss,
  InvalidArgumentError,
  InvalidEmotionError,
  ready,
  SeededRandom,
  tf,
} from '../src/index.js';
import { maxDiff, pixels, REQUEST, tinyGenerator } from './generator-fixtures.js';

describe('EmoFlow generator', () => {
  let g: EmoFlowGenerator;

  beforeAll(async () => {
    await ready({ device: 'wasm' });
    g = tinyGenerator();
  });
  afterAll(() => g.dispose());

  it('has a small config-driven network', () => {
    expect(g.id).toBe('emoflow-8');
    expect(g.config.imageSize).toBe(8);
    expect(g.model.parameterCount).toBeGreaterThan(1000);
    expect(g.trainableVariables()).toEqual([]);
  });

  it('gives the same images for the same seeds and different ones for other seeds', async () => {
    const a = await g.generate(REQUEST, { steps: 4 });
    const b = await g.generate(REQUEST, { steps: 4 });
    expect(a).toHaveLength(3);
    expect(a[0]!.width).toBe(8);
    expect(maxDiff(pixels(a), pixels(b))).toBe(0);
    const c = await g.generate({ ...REQUEST, seeds: [21, 22, 23] }, { steps: 4 });
    for (let i = 0; i < 3; i++) expect(maxDiff(a[i]!.data, c[i]!.data)).toBeGreaterThan(1e-3);
    for (const v of pixels(a)) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('makes an image from its own seed only, whatever else is in the batch', async () => {
    const all = await g.generate(REQUEST, { steps: 3 });
    const one = await g.generate(
      { prompts: [REQUEST.prompts[1]!], emotions: [REQUEST.emotions[1]!], seeds: [REQUEST.seeds[1]!] },
      { steps: 3 },
    );
    expect(maxDiff(all[1]!.data, one[0]!.data)).toBeLessThan(1e-5);
  });

  it('responds to the emotion and the prompt', async () => {
    const trained = tinyGenerator({}, 4);
    // Untrained FiLM/attention outputs start at zero; give them weight so conditioning reaches the output.
    for (const [name, v] of trained.model.weights.variables) {
      if (/\.(film|o)\.weight$|^out\.weight$|conv2\.weight$/.test(name))
        v.assign(tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 7), 0.3));
    }
    const base = { prompts: ['a red sun'], emotions: [{ valence: -3, arousal: -3 }], seeds: [1] };
    const a = await trained.generate(base, { steps: 3 });
    const b = await trained.generate({ ...base, emotions: [{ valence: 3, arousal: 3 }] }, { steps: 3 });
    const c = await trained.generate({ ...base, prompts: ['a dark forest'] }, { steps: 3 });
    expect(maxDiff(a[0]!.data, b[0]!.data)).toBeGreaterThan(1e-3);
    expect(maxDiff(a[0]!.data, c[0]!.data)).toBeGreaterThan(1e-3);
    trained.dispose();
  });

  it('SDE sampling with noise level 0 equals ODE sampling', async () => {
    const ode = await g.generate(REQUEST, { steps: 5, shift: 2 });
    const sde = await g.generate(REQUEST, { steps: 5, shift: 2, sampler: 'sde', noiseLevel: 0 });
    expect(maxDiff(pixels(ode), pixels(sde))).toBe(0);
    const noisy = await g.generate(REQUEST, { steps: 5, shift: 2, sampler: 'sde', noiseLevel: 0.7 });
    expect(maxDiff(pixels(ode), pixels(noisy))).toBeGreaterThan(1e-3);
  });

  it('supports classifier-free guidance (scale 1 equals no guidance)', async () => {
    const plain = await g.generate(REQUEST, { steps: 3 });
    const one = await g.generate(REQUEST, { steps: 3, guidanceScale: 1 });
    const guided = await g.generate(REQUEST, { steps: 3, guidanceScale: 3 });
    expect(maxDiff(pixels(plain), pixels(one))).toBe(0);
    expect(pixels(guided).every(Number.isFinite)).toBe(true);
  });

  it('stores trajectories whose log-probs match a Gaussian density computed in plain JS', async () => {
    const traj = await g.sampleTrajectories(REQUEST, { steps: 4, noiseLevel: 0.7 });
    expect(traj.latents).toHaveLength(5);
    expect(traj.logProbs).toHaveLength(4);
    expect(traj.latents[0]).toHaveLength(3 * 8 * 8 * 3);
    expect(traj.logProbs[0]).toBeInstanceOf(Float32Array);
    const scores = g.scoreTrajectory(traj, { steps: [0, 1, 2, 3] });
    const means = scores.means.arraySync() as number[][][][][];
    for (let s = 0; s < 4; s++) {
      const next = traj.latents[s + 1]!;
      const std = scores.stds[s]!;
      for (let n = 0; n < 3; n++) {
        const flat = means[s]![n]!.flat(2);
        let total = 0;
        flat.forEach((m, i) => {
          const z = next[n * 192 + i]! - m;
          total += -(z * z) / (2 * std * std) - Math.log(std) - 0.5 * Math.log(2 * Math.PI);
        });
        const expected = total / 192;
        expect(Math.abs(traj.logProbs[s]![n]! - expected)).toBeLessThan(2e-3 * (1 + Math.abs(expected)));
      }
    }
    tf.dispose([scores.logProbs, scores.means]);
  });

  it('re-scores a just-sampled trajectory to the same log-probs (PPO ratio 1)', async () => {
    const traj = await g.sampleTrajectories(REQUEST, { steps: 4, guidanceScale: 2 });
    const scores = g.scoreTrajectory(traj, { steps: [0, 2, 3], samples: [2, 0] });
    const got = scores.logProbs.arraySync();
    [0, 2, 3].forEach((s, i) => {
      [2, 0].forEach((n, j) => {
        const ratio = Math.exp(got[i]![j]! - traj.logProbs[s]![n]!);
        expect(Math.abs(ratio - 1)).toBeLessThan(1e-3);
      });
    });
    expect(scores.means.shape).toEqual([3, 2, 8, 8, 3]);
    tf.dispose([scores.logProbs, scores.means]);
    expect(() => g.scoreTrajectory(traj, { steps: [4] })).toThrow(InvalidArgumentError);
    expect(() => g.scoreTrajectory(traj, { steps: [0], samples: [3] })).toThrow(InvalidArgumentError);
    expect(() => g.scoreTrajectory(traj, { steps: [] })).toThrow(InvalidArgumentError);
    const flat = await g.sampleTrajectories(REQUEST, { steps: 2, noiseLevel: 0 });
    expect(() => g.scoreTrajectory(flat, { steps: [0] })).toThrow(/noise level 0/);
  });

  it('rejects bad input with typed errors', async () => {
    await expect(g.generate({ ...REQUEST, prompts: ['', 'a', 'b'] })).rejects.toThrow(InvalidArgumentError);
    await expect(g.generate({ ...REQUEST, prompts: ['a b c d e f g', 'a', 'b'] })).rejects.toThrow(
      /limit is 6 tokens/,
    );
    await expect(
      g.generate({ ...REQUEST, emotions: [{ valence: 5, arousal: 0 }, ...REQUEST.emotions.slice(1)] }),
    ).rejects.toThrow(InvalidEmotionError);
    await expect(g.generate({ ...REQUEST, seeds: [1, 2] })).rejects.toThrow(/same length/);
    await expect(g.generate({ ...REQUEST, seeds: [1, 2, 0.5] })).rejects.toThrow(InvalidArgumentError);
    await expect(g.generate({ prompts: [], emotions: [], seeds: [] })).rejects.toThrow(InvalidArgumentError);
    await expect(g.generate(REQUEST, { steps: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(g.generate(REQUEST, { guidanceScale: Number.NaN })).rejects.toThrow(InvalidArgumentError);
    await expect(g.sampleTrajectories(REQUEST, { noiseLevel: -1 })).rejects.toThrow(InvalidArgumentError);
  });

  it('handles unknown words without throwing', async () => {
    const images = await g.generate(
      { prompts: ['a zebra quietly juggling'], emotions: [{ valence: 0, arousal: 0 }], seeds: [1] },
      { steps: 2 },
    );
    expect(images).toHaveLength(1);
  });

  it('keeps the tensor count flat over repeated sampling, errors and aborts included', async () => {
    await g.generate(REQUEST, { steps: 2 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await g.generate(REQUEST, { steps: 3, guidanceScale: 2 });
      await g.sampleTrajectories(REQUEST, { steps: 3 });
      await g.generate({ ...REQUEST, prompts: ['a', 'b', ''] }).catch(() => undefined);
      await g
        .generate({ ...REQUEST, emotions: [...REQUEST.emotions.slice(0, 2), { valence: 9, arousal: 0 }] })
        .catch(() => undefined);
    }
    const ctl = new AbortController();
    const progress: number[] = [];
    const run = g.generate(REQUEST, {
      steps: 5,
      signal: ctl.signal,
      onProgress: (p) => {
        progress.push(p.done);
        if (p.done === 2) ctl.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(progress).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('pretrains with the rectified-flow loss: deterministic and the loss falls', async () => {
    // Two fixed images: warm and bright for one caption, cold and dark for the other.
    const warm = {
      width: 8,
      height: 8,
      data: new Float32Array(192).map((_, i) => (i % 3 === 0 ? 0.9 : 0.3)),
    };
    const cold = {
      width: 8,
      height: 8,
      data: new Float32Array(192).map((_, i) => (i % 3 === 2 ? 0.6 : 0.05)),
    };
    const batch = {
      images: [warm, cold, warm, cold],
      prompts: ['a red sun', 'a dark sea', 'a red sun', 'a dark sea'],
      emotions: [
        { valence: 2, arousal: 1 },
        { valence: -2, arousal: -1 },
        { valence: 2, arousal: 1 },
        { valence: -2, arousal: -1 },
      ],
    };
    // The loss on a fixed draw of times and noise, without dropout, before and after training.
    const heldOut = (model: EmoFlowGenerator) =>
      tf.tidy(
        () =>
          flowMatchingLoss(model, batch, new SeededRandom(99), {
            textDropout: 0,
            emotionDropout: 0,
          }).dataSync()[0] as number,
      );
    const runs: { losses: number[]; before: number; after: number }[] = [];
    for (let run = 0; run < 2; run++) {
      const model = tinyGenerator({}, 5);
      const trainer = new FlowMatchingTrainer(model, new SeededRandom(1), { learningRate: 3e-3 });
      const before = heldOut(model);
      const losses: number[] = [];
      for (let i = 0; i < 60; i++) losses.push(trainer.step(batch));
      runs.push({ losses, before, after: heldOut(model) });
      trainer.dispose();
      model.dispose();
    }
    expect(runs[0]!.losses).toEqual(runs[1]!.losses);
    expect(runs[0]!.after).toBeLessThan(0.7 * runs[0]!.before);
  });
});

describe('embedded EmoFlow checkpoint', () => {
  it('loads from the package itself and generates 32×32 images', async () => {
    await ready({ device: 'wasm' });
    const g = await createEmbeddedGenerator();
    expect(g.config.imageSize).toBe(32);
    expect(g.model.parameterCount).toBeGreaterThan(300_000);
    const [img] = await g.generate(
      { prompts: ['a dog in a meadow'], emotions: [{ valence: 1, arousal: 0 }], seeds: [1] },
      { steps: 2 },
    );
    expect(img!.width).toBe(32);
    expect(img!.data.every(Number.isFinite)).toBe(true);
    g.dispose();
  });
});
