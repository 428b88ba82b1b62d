import { beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  ready,
  SeededRandom,
  sampleEuler,
  sampleSde,
  sdeCoefficients,
  sdeStdDev,
  sdeStepWithLogProb,
  tf,
  timestepGrid,
} from '../src/index.js';
import { maxDiff } from './generator-fixtures.js';

// A smooth nonlinear velocity field standing in for a model.
const field = (x: tf.Tensor4D, t: number) =>
  tf.tidy(() => tf.add(tf.mul(tf.sin(x), 0.5 + t), tf.mul(x, -0.3)) as tf.Tensor4D);

describe('timestep grids', () => {
  it('runs from 1 to 0, uniform or shifted toward the noise end', () => {
    expect(timestepGrid(4)).toEqual([1, 0.75, 0.5, 0.25, 0]);
    const shifted = timestepGrid(4, 3);
    expect(shifted[0]).toBe(1);
    expect(shifted[4]).toBe(0);
    expect(shifted[2]).toBeCloseTo(1.5 / 2);
    for (let i = 1; i < 4; i++) expect(shifted[i]!).toBeGreaterThan(timestepGrid(4)[i]!);
  });

  it('rejects bad step counts and shifts', () => {
    expect(() => timestepGrid(0)).toThrow(InvalidArgumentError);
    expect(() => timestepGrid(2.5)).toThrow(InvalidArgumentError);
    expect(() => timestepGrid(4, 0)).toThrow(InvalidArgumentError);
  });
});

describe('Flow-GRPO SDE step', () => {
  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });

  it('uses sigma_max in the denominator at t = 1, as Flow-GRPO does', () => {
    expect(sdeStdDev(1, 0.9, 0.7)).toBeCloseTo(0.7 * Math.sqrt(1 / 0.1), 6);
    expect(sdeStdDev(0.5, 0.9, 0.7)).toBeCloseTo(0.7, 6);
    const k = sdeCoefficients(0.5, 0.4, 0.9, 0.7);
    expect(k.xCoef).toBeCloseTo(1 + (0.49 / 1) * -0.1, 6);
    expect(k.vCoef).toBeCloseTo((1 + (0.49 * 0.5) / 1) * -0.1, 6);
    expect(k.std).toBeCloseTo(0.7 * Math.sqrt(0.1), 6);
    expect(() => sdeCoefficients(0.4, 0.5, 0.9, 0.7)).toThrow(InvalidArgumentError);
    expect(() => sdeCoefficients(0.5, 0.4, 0.9, -1)).toThrow(InvalidArgumentError);
  });

  it('gives a log-prob equal to the Gaussian log-density computed in plain JavaScript', () => {
    const rng = new SeededRandom(5);
    const shape: [number, number, number, number] = [3, 4, 4, 3];
    const x = tf.tensor4d(rng.normalArray(144), shape);
    const v = tf.tensor4d(rng.normalArray(144), shape);
    const eps = tf.tensor4d(rng.normalArray(144), shape);
    const [t, tNext, sigmaMax, a] = [0.6, 0.45, 0.9, 0.7];
    for (const reduction of ['mean', 'sum'] as const) {
      const step = sdeStepWithLogProb(x, v, t, tNext, { sigmaMax, noiseLevel: a, noise: eps, reduction });
      const xs = x.dataSync();
      const vs = v.dataSync();
      const next = step.next.dataSync();
      const got = step.logProb.dataSync();
      const sd = a * Math.sqrt(t / (1 - t));
      const dt = tNext - t;
      const std = sd * Math.sqrt(-dt);
      for (let n = 0; n < 3; n++) {
        let total = 0;
        for (let i = n * 48; i < (n + 1) * 48; i++) {
          const mean =
            xs[i]! * (1 + ((sd * sd) / (2 * t)) * dt) + vs[i]! * (1 + (sd * sd * (1 - t)) / (2 * t)) * dt;
          const z = next[i]! - mean;
          total += -(z * z) / (2 * std * std) - Math.log(std) - 0.5 * Math.log(2 * Math.PI);
        }
        const expected = reduction === 'mean' ? total / 48 : total;
        expect(Math.abs(got[n]! - expected)).toBeLessThan(1e-4 * (1 + Math.abs(expected)));
      }
      // Re-scoring the drawn sample gives the same log-prob.
      const again = sdeStepWithLogProb(x, v, t, tNext, {
        sigmaMax,
        noiseLevel: a,
        next: step.next,
        reduction,
      });
      expect(maxDiff(again.logProb.dataSync(), got)).toBeLessThan(1e-5);
      tf.dispose([step.next, step.mean, step.logProb, again.next, again.mean, again.logProb]);
    }
    tf.dispose([x, v, eps]);
  });

  it('with noise level 0 equals the Euler ODE sampler', async () => {
    const rng = new SeededRandom(9);
    const x1 = tf.tensor4d(rng.normalArray(2 * 4 * 4 * 3), [2, 4, 4, 3]);
    const grid = timestepGrid(6, 2);
    const ode = await sampleEuler(field, x1, grid);
    const sde = await sampleSde(field, x1, grid, {
      noiseLevel: 0,
      noiseFor: () => tf.tensor4d(rng.normalArray(96), [2, 4, 4, 3]),
    });
    expect(maxDiff(ode.dataSync(), sde.final.dataSync())).toBe(0);
    expect(sde.latents).toHaveLength(7);
    expect(sde.logProbs).toHaveLength(6);
    tf.dispose([x1, ode, sde.final]);
  });

  it('keeps the tensor count flat and stops on abort', async () => {
    const x1 = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const grid = timestepGrid(5);
    const noiseFor = () => tf.ones([1, 4, 4, 3]) as tf.Tensor4D;
    (await sampleSde(field, x1, grid, { noiseLevel: 0.7, noiseFor })).final.dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      (await sampleSde(field, x1, grid, { noiseLevel: 0.7, noiseFor })).final.dispose();
      (await sampleEuler(field, x1, grid)).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    const ctl = new AbortController();
    ctl.abort();
    await expect(sampleEuler(field, x1, grid, { signal: ctl.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(tf.memory().numTensors).toBe(before);
    x1.dispose();
  });
});
