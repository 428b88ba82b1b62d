/**
 * Backbone and feature-set comparison for the local evaluators, by 5-fold cross-validation on
 * the TRAINING split only (the validation split is never read here). Prints Pearson r per axis,
 * overall and per dataset, for each candidate and ridge strength.
 *
 *   cd training && npx tsx compare-backbones.ts            # every candidate (slow: many minutes)
 *   cd training && npx tsx compare-backbones.ts layers     # one group: backbones | layers | heads
 *
 * Groups:
 * - `backbones`: the pooled features of the two MobileNetV2 backbones, with and without the
 *   classifier outputs and the image statistics (one head, trained on the as-rated images).
 * - `layers`: the mid-level blocks of `mobilenet-v2-mid` (spatial mean and standard deviation of
 *   the ReLU6 expansion activations) beside the pooled vector, one head, trained on the as-rated and
 *   mirrored images (the spatial means of blocks 13 and 16 carry the most valence, most of all on
 *   photos).
 * - `heads`: one head against photo and silhouette heads mixed by a domain gate, on all four
 *   training variants, scored as `train-evaluator.ts` scores (as rated and at 64 px).
 *
 * InceptionV3 (also shipped by nsfwjs) is left out: it takes about 30 s for 64 images on the
 * wasm backend, six times the speed budget of the reward model.
 */
import { ready } from '@emofeedback/core';
import type { BackboneName } from '@emofeedback/reward';
import { cvPredictGatedPath, cvPredictPath, cvScore } from './lib/cv.js';
import { loadSamples, type Sample, validationMask } from './lib/data.js';
import { cachedFeatures, cachedStats, type Matrix, type Variant } from './lib/features.js';
import { hstack } from './lib/linalg.js';

await ready({ device: 'wasm' });
const samples = await loadSamples();
const val = validationMask(samples);
const trainIdx = samples.flatMap((_, i) => (val[i] ? [] : [i]));
const only = process.argv[2];
const fmt = (x: number) => x.toFixed(3);
const sqrt = (m: Matrix): Matrix => ({ ...m, data: m.data.map((v) => Math.sqrt(Math.max(0, v))) });
const line = (p: Float64Array, s: readonly Sample[]) => {
  const o = cvScore(p, s, trainIdx);
  const oa = cvScore(p, s, trainIdx, 'oasis');
  const ba = cvScore(p, s, trainIdx, 'bass');
  return `all V ${fmt(o.valence)} A ${fmt(o.arousal)} | oasis V ${fmt(oa.valence)} A ${fmt(oa.arousal)} | bass V ${fmt(ba.valence)} A ${fmt(ba.arousal)}`;
};

const BLOCKS = ['block3', 'block6', 'block10', 'block13', 'block16', 'top'];
const MID_ENDPOINTS = ['pool', ...BLOCKS.flatMap((b) => [b, `${b}-std`])];
const midFeatures = async (variant: Variant) => {
  const mats = await cachedFeatures('mobilenet-v2-mid', MID_ENDPOINTS, variant, samples);
  return new Map(MID_ENDPOINTS.map((e, i) => [e, sqrt(mats[i] as Matrix)]));
};
const pick = (m: Map<string, Matrix>, endpoints: readonly string[], stats: Matrix) =>
  hstack([...endpoints.map((e) => m.get(e) as Matrix), stats]);

if (!only || only === 'backbones') {
  const candidates: [BackboneName, string[], boolean][] = [
    ['mobilenet-v2', ['pool'], false],
    ['mobilenet-v2', ['pool', 'dense', 'probs'], false],
    ['mobilenet-v2', ['pool'], true],
    ['mobilenet-v2-mid', ['pool'], false],
    ['mobilenet-v2-mid', ['pool', 'probs'], false],
    ['mobilenet-v2-mid', ['pool'], true],
  ];
  const stats = await cachedStats('native', samples);
  for (const [backbone, endpoints, withStats] of candidates) {
    const all = backbone === 'mobilenet-v2-mid' ? ['pool', 'probs'] : ['pool', 'dense', 'probs'];
    const mats = await cachedFeatures(backbone, all, 'native', samples);
    const parts = endpoints.map((e) => mats[all.indexOf(e)] as Matrix);
    const x = hstack(withStats ? [...parts, stats] : parts);
    for (const lambda of [30, 100, 300, 1000, 3000]) {
      const p = cvPredict1(x, lambda);
      console.log(
        `${backbone} ${endpoints.join('+')}${withStats ? '+stats' : ''} d=${x.d} λ=${lambda}: ${line(p, samples)}`,
      );
    }
  }
}

function cvPredict1(x: Matrix, lambda: number): Float64Array {
  return cvPredictPath([x], [x], samples, trainIdx, [lambda])[0]?.[0] as Float64Array;
}

if (!only || only === 'layers') {
  const native = await midFeatures('native');
  const flip = await midFeatures('flip');
  const [sN, sF] = [await cachedStats('native', samples), await cachedStats('flip', samples)];
  const sets: string[][] = [
    ['pool'],
    ...BLOCKS.flatMap((b) => [[b], [`${b}-std`], ['pool', b, `${b}-std`]]),
    ['pool', 'block13', 'block16'],
    ['pool', 'block13', 'block13-std', 'block16', 'block16-std'],
    ['block13', 'block16'],
    ['pool', 'block10', 'block13', 'block16'],
    ['pool', ...BLOCKS.flatMap((b) => [b, `${b}-std`])],
  ];
  const lambdas = [300, 1000, 3000, 10000, 30000];
  for (const set of sets) {
    const xN = pick(native, set, sN);
    const p = cvPredictPath([xN, pick(flip, set, sF)], [xN], samples, trainIdx, lambdas);
    lambdas.forEach((lambda, li) => {
      console.log(
        `${set.join('+')}+stats d=${xN.d} λ=${lambda}: ${line(p[li]?.[0] as Float64Array, samples)}`,
      );
    });
  }
}

if (!only || only === 'heads') {
  const variants: Variant[] = ['native', 'flip', 'px64', 'px32'];
  const feats = new Map<Variant, Map<string, Matrix>>();
  const stats = new Map<Variant, Matrix>();
  for (const v of variants) {
    feats.set(v, await midFeatures(v));
    stats.set(v, await cachedStats(v, samples));
  }
  const lambdas = [300, 1000, 3000, 10000, 30000];
  const gateX = (v: Variant) => pick(feats.get(v) as Map<string, Matrix>, ['pool'], stats.get(v) as Matrix);
  for (const set of [['pool'], ['pool', 'block13', 'block16'], ['pool', 'block10', 'block13', 'block16']]) {
    const x = (v: Variant) => pick(feats.get(v) as Map<string, Matrix>, set, stats.get(v) as Matrix);
    const one = cvPredictPath(variants.map(x), [x('native'), x('px64')], samples, trainIdx, lambdas);
    const gated = cvPredictGatedPath(
      variants.map(x),
      variants.map(gateX),
      (['native', 'px64'] as const).map((v) => ({ x: x(v), gateX: gateX(v) })),
      samples,
      trainIdx,
      lambdas,
      100,
      4,
    );
    for (const [name, cv] of [
      ['one head', one],
      ['gated heads', gated],
    ] as const)
      lambdas.forEach((lambda, li) => {
        const [n, p64] = cv[li] as Float64Array[];
        const s64 = cvScore(p64 as Float64Array, samples, trainIdx);
        console.log(
          `${set.join('+')}+stats, ${name}, λ=${lambda}: native ${line(n as Float64Array, samples)} || 64 px V ${fmt(s64.valence)} A ${fmt(s64.arousal)}`,
        );
      });
  }
}
