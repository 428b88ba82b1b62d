import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmoFlowGenerator,
  InvalidArgumentError,
  LoraAdapters,
  loraConfig,
  ready,
  tf,
} from '../src/index.js';
import { maxDiff, perturbLoraB, pixels, REQUEST, tinyGenerator } from './generator-fixtures.js';

describe('LoRA adapters', () => {
  let base: EmoFlowGenerator;
  let baseImages: Float32Array;

  beforeAll(async () => {
    await ready({ device: 'wasm' });
    base = tinyGenerator();
    // Give the zero-initialised output projections weight so adapters there change the output.
    for (const [name, v] of base.model.weights.variables) {
      if (/\.(film|o)\.weight$|^out\.weight$|conv2\.weight$/.test(name))
        v.assign(tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 5), 0.3));
    }
    baseImages = pixels(await base.generate(REQUEST, { steps: 3 }));
  });
  afterAll(() => base.dispose());

  it('starts as a no-op: B is zero, outputs unchanged', async () => {
    base.attachAdapters({ rank: 2, alpha: 4, targets: ['attention', 'film', 'conditioning', 'emotion'] });
    const adapters = base.adapters!;
    expect(adapters.adaptedLayers.length).toBeGreaterThan(10);
    for (const [name, v] of adapters.variables) {
      if (name.endsWith('.lora_b')) expect(v.dataSync().every((x) => x === 0)).toBe(true);
      else expect(v.dataSync().some((x) => x !== 0)).toBe(true);
    }
    expect(maxDiff(pixels(await base.generate(REQUEST, { steps: 3 })), baseImages)).toBe(0);
  });

  it('exposes only adapter variables as trainable, and seeds A', () => {
    const vars = base.trainableVariables();
    expect(vars.length).toBe(base.adapters!.variables.size);
    const baseIds = new Set(base.model.baseVariables().map((v) => v.id));
    for (const v of vars) expect(baseIds.has(v.id)).toBe(false);
    const again = new LoraAdapters(base.model.weights.linears, base.adapters!.config);
    const a1 = [...base.adapters!.variables.values()][0]!.dataSync();
    const a2 = [...again.variables.values()][0]!.dataSync();
    expect(maxDiff(a1, a2)).toBe(0);
    again.dispose();
  });

  it('changes outputs once B is perturbed, while adapters-off still equals the base model', async () => {
    perturbLoraB(base);
    const on = pixels(await base.generate(REQUEST, { steps: 3 }));
    expect(maxDiff(on, baseImages)).toBeGreaterThan(1e-3);
    base.setAdaptersEnabled(false);
    expect(base.adaptersEnabled).toBe(false);
    expect(maxDiff(pixels(await base.generate(REQUEST, { steps: 3 })), baseImages)).toBe(0);
    base.setAdaptersEnabled(true);
    const traj = await base.sampleTrajectories(REQUEST, { steps: 3 });
    const ref = base.withAdaptersDisabled(() => base.scoreTrajectory(traj, { steps: [1] }));
    expect(base.adaptersEnabled).toBe(true);
    const cur = base.scoreTrajectory(traj, { steps: [1] });
    expect(maxDiff(ref.means.dataSync(), cur.means.dataSync())).toBeGreaterThan(1e-4);
    tf.dispose([ref.logProbs, ref.means, cur.logProbs, cur.means]);
  });

  it('gives gradients of re-scored log-probs to every adapter and none to base weights', async () => {
    const traj = await base.sampleTrajectories(REQUEST, { steps: 3 });
    const vars = base.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const s = base.scoreTrajectory(traj, { steps: [0, 2] });
      return tf.mean(s.logProbs) as tf.Scalar;
    }, vars);
    expect(Object.keys(grads)).toHaveLength(vars.length);
    const nonzero = Object.values(grads).filter((g) => g.dataSync().some((x) => x !== 0)).length;
    expect(nonzero).toBeGreaterThan(vars.length / 2);
    tf.dispose([value, ...Object.values(grads)]);
  });

  it('validates its configuration', () => {
    expect(() => loraConfig({ rank: 0 })).toThrow(InvalidArgumentError);
    expect(() => loraConfig({ alpha: -1 })).toThrow(InvalidArgumentError);
    expect(() => loraConfig({ targets: ['nope' as 'film'] })).toThrow(/unknown target/);
    expect(() => loraConfig({ targets: [] })).toThrow(InvalidArgumentError);
  });
});
