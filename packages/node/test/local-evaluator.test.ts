import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createEmbeddedGenerator,
  emotionGrid,
  InvalidImageError,
  type RgbImage,
  ready,
  SeededRandom,
  tf,
} from '@emofeedback/core';
import {
  calibrate,
  createLocalEvaluator,
  createLocalJudge,
  type LocalEvaluator,
  qualityReward,
  type ScoredEvaluation,
  slopeInterval,
  spearman,
} from '@emofeedback/reward';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRatedDataset, readImage } from '../src/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const data = resolve(repo, '..', 'shared', 'data');

const rng = new SeededRandom(42);
const noiseImage = (size: number, r = rng): RgbImage => ({
  width: size,
  height: size,
  data: r.uniformArray(size * size * 3),
});

/** A smooth, photo-like test image: soft gradients and a blurred blob, no sharp noise. */
function smoothImage(size: number, seed: number): RgbImage {
  const r = new SeededRandom(seed);
  const [cx, cy, a, b, c] = [r.uniform(0.2, 0.8), r.uniform(0.2, 0.8), r.uniform(), r.uniform(), r.uniform()];
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const u = x / size;
      const v = y / size;
      const blob = Math.exp(-((u - cx) ** 2 + (v - cy) ** 2) * 12);
      const i = (y * size + x) * 3;
      data[i] = 0.2 + 0.5 * a * v + 0.3 * blob;
      data[i + 1] = 0.3 + 0.4 * b * u + 0.2 * blob;
      data[i + 2] = 0.25 + 0.5 * c * (1 - v);
    }
  return { width: size, height: size, data };
}

let evaluator: LocalEvaluator;

beforeAll(async () => {
  await ready({ device: 'wasm' });
  evaluator = await createLocalEvaluator();
});
afterAll(() => evaluator?.dispose());

describe('createLocalEvaluator', () => {
  it('has a stable id and scores every image with finite values in [-3, 3]', async () => {
    expect(evaluator.id).toMatch(/^local:/);
    const images = [noiseImage(64), smoothImage(64, 1), smoothImage(64, 2)];
    const out = await evaluator.evaluate(images);
    expect(out).toHaveLength(3);
    for (const e of out) {
      expect(e.ok).toBe(true);
      const s = e as ScoredEvaluation;
      expect(Number.isFinite(s.valence) && Number.isFinite(s.arousal)).toBe(true);
      expect(Math.abs(s.valence)).toBeLessThanOrEqual(3);
      expect(Math.abs(s.arousal)).toBeLessThanOrEqual(3);
    }
    // Different images get different scores (the head is not a constant).
    expect((out[0] as ScoredEvaluation).valence).not.toBeCloseTo((out[1] as ScoredEvaluation).valence, 4);
  });

  it('is deterministic, and batch scores equal one-by-one scores', async () => {
    const images = [smoothImage(48, 3), smoothImage(48, 4)];
    const a = await evaluator.evaluate(images);
    const b = await evaluator.evaluate(images);
    expect(b).toEqual(a);
    const single = await evaluator.evaluate([images[1] as RgbImage]);
    expect((single[0] as ScoredEvaluation).valence).toBeCloseTo((a[1] as ScoredEvaluation).valence, 4);
  });

  it('works on a batch of tiny 32×32 images and on a tensor batch', async () => {
    const images = Array.from({ length: 20 }, (_, i) => smoothImage(32, 10 + i));
    const out = await evaluator.evaluate(images);
    expect(out.every((e) => e.ok)).toBe(true);
    const tensor = tf.tensor4d(
      Float32Array.from(images.flatMap((im) => Array.from(im.data))),
      [20, 32, 32, 3],
    );
    const fromTensor = await evaluator.evaluate(tensor);
    tensor.dispose();
    expect((fromTensor[7] as ScoredEvaluation).arousal).toBeCloseTo((out[7] as ScoredEvaluation).arousal, 4);
  });

  it('keeps the tensor count flat across repeated calls', async () => {
    const images = [smoothImage(64, 5), noiseImage(64)];
    await evaluator.evaluate(images);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await evaluator.evaluate(images);
      await evaluator.score(images);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad input with typed errors naming it', async () => {
    await expect(evaluator.evaluate([])).rejects.toThrow(InvalidImageError);
    await expect(evaluator.evaluate([smoothImage(32, 1), smoothImage(48, 1)])).rejects.toThrow(/images\[1\]/);
    const nan = smoothImage(32, 1);
    nan.data[5] = Number.NaN;
    await expect(evaluator.evaluate([nan])).rejects.toThrow(/images\[0\].*not finite/);
    const wrong = tf.zeros([2, 8, 8, 4]) as tf.Tensor4D;
    await expect(evaluator.evaluate(wrong)).rejects.toThrow(InvalidImageError);
    wrong.dispose();
  });

  it('marks unscored images as failures when aborted, never as scores', async () => {
    const controller = new AbortController();
    controller.abort();
    const out = await evaluator.evaluate([smoothImage(32, 1)], { signal: controller.signal });
    expect(out[0]?.ok).toBe(false);
  });
});

describe('createLocalJudge', () => {
  it('is a distinct, independently trained evaluator', async () => {
    const judge = await createLocalJudge();
    try {
      expect(judge.id).toMatch(/^local-judge:/);
      expect(judge.id).not.toBe(evaluator.id);
      expect(judge.backbone).not.toBe(evaluator.backbone);
      const images = [smoothImage(64, 7), smoothImage(64, 8)];
      const [a, b] = [await judge.evaluate(images), await judge.evaluate(images)];
      expect(b).toEqual(a);
      for (const e of a) {
        expect(e.ok).toBe(true);
        expect(Math.abs((e as ScoredEvaluation).valence)).toBeLessThanOrEqual(3);
      }
      const mine = await evaluator.evaluate(images);
      expect((a[0] as ScoredEvaluation).valence).not.toBeCloseTo((mine[0] as ScoredEvaluation).valence, 3);
    } finally {
      judge.dispose();
    }
  });
});

describe('the judge sees the shipped generator', () => {
  it('its readings follow the 5×5 target grid on 5 prompts (ρ ≥ 0.5 valence, ≥ 0.4 arousal, slopes above 0)', {
    timeout: 240_000,
  }, async () => {
    const generator = await createEmbeddedGenerator();
    const judge = await createLocalJudge();
    try {
      const grid = emotionGrid();
      const prompts = [
        'a dog in a green meadow',
        'a house in a big city',
        'a boat on the open sea',
        'a cat in a quiet meadow',
        'a tree in a pine forest',
      ];
      const readings: ScoredEvaluation[] = [];
      const targets = prompts.flatMap(() => grid);
      for (const [p, prompt] of prompts.entries()) {
        const images = await generator.generate({
          prompts: grid.map(() => prompt),
          emotions: grid,
          seeds: grid.map((_, i) => 5000 + 100 * p + i),
        });
        for (const e of await judge.evaluate(images)) readings.push(e as ScoredEvaluation);
      }
      expect(readings.every((e) => e.ok)).toBe(true);
      const axis = (k: 'valence' | 'arousal') => ({
        rho: spearman(
          readings.map((e) => e[k]),
          targets.map((t) => t[k]),
        ),
        slope: slopeInterval(
          readings.map((e) => e[k]),
          targets.map((t) => t[k]),
        ),
      });
      const v = axis('valence');
      const a = axis('arousal');
      // Measured on these prompts and seeds: valence ρ 0.58, arousal ρ 0.52 (the previous judge read
      // the same kind of grid at 0.23 and 0.43); docs/evaluator.md has the figures with intervals.
      expect(v.rho).toBeGreaterThanOrEqual(0.5);
      expect(a.rho).toBeGreaterThanOrEqual(0.4);
      expect(v.slope.low).toBeGreaterThan(0);
      expect(a.slope.low).toBeGreaterThan(0);
    } finally {
      generator.dispose();
      judge.dispose();
    }
  });
});

describe('quality reward', () => {
  it('scores degenerate images (noise, flat saturated colour, checkerboard) below natural photos', async () => {
    const photos = await Promise.all(
      ['Acorns_1.jpg', 'Alcohol_1.jpg', 'Acorns_3.jpg'].map((f) =>
        readImage(join(data, 'oasis-train', 'images', f), { resize: { width: 64, height: 64 } }),
      ),
    );
    const flat: RgbImage = { width: 64, height: 64, data: new Float32Array(64 * 64 * 3) };
    for (let p = 0; p < 64 * 64; p++) flat.data.set([1, 0, 1], p * 3);
    const checker: RgbImage = { width: 64, height: 64, data: new Float32Array(64 * 64 * 3) };
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++) checker.data.fill((x + y) % 2, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
    const q = await qualityReward(evaluator, [...photos, noiseImage(64), flat, checker]);
    expect(q.valid.every(Boolean)).toBe(true);
    const worstPhoto = Math.min(...Array.from(q.values.slice(0, 3)));
    for (const i of [3, 4, 5]) expect(q.values[i]).toBeLessThan(worstPhoto);
    // Noise and the checkerboard are caught by high-frequency energy too.
    expect(q.highFreqExcess[3]).toBeGreaterThan(0);
    expect(q.highFreqExcess[5]).toBeGreaterThan(0);
    expect(q.highFreqExcess[0]).toBe(0);
  });
});

describe('on real validation images', () => {
  it('reproduces the documented OASIS validation metrics', async () => {
    const results = JSON.parse(readFileSync(join(repo, 'training', 'results', 'evaluator.json'), 'utf8'));
    const oasis = (results.validationFiles as string[]).filter((id) => id.startsWith('oasis/'));
    const all = await loadRatedDataset(join(data, 'oasis-train'), { scale: 'likert7' });
    const wanted = new Set(oasis.map((id) => id.slice('oasis/'.length)));
    const rated = all.items.filter((item) => wanted.has(item.file));
    expect(rated).toHaveLength(oasis.length);
    const report = await calibrate(evaluator, rated, { batchSize: 32 });
    expect(report.failed).toBe(0);
    const doc = results.validation.native;
    expect(report.valence.pearson).toBeCloseTo(doc['oasis/valence'].model.pearson, 3);
    expect(report.arousal.pearson).toBeCloseTo(doc['oasis/arousal'].model.pearson, 3);
    expect(report.valence.mae).toBeCloseTo(doc['oasis/valence'].model.mae, 3);
    expect(report.valence.pearson).toBeGreaterThan(0.3);
    expect(report.arousal.pearson).toBeGreaterThan(0.3);
    expect(report.valence.mae).toBeLessThan(doc['oasis/valence'].baseline.mae);
    expect(report.arousal.mae).toBeLessThan(doc['oasis/arousal'].baseline.mae);
  });
});
