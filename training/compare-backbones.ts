/**
 * Backbone and feature-set comparison for the local evaluators, by 5-fold cross-validation on
 * the TRAINING split only (the validation split is never read here). Prints Pearson r per axis,
 * overall and on OASIS, for each candidate and ridge strength.
 *
 *   cd training && npx tsx compare-backbones.ts [backbone]
 *
 * InceptionV3 (also shipped by nsfwjs) is left out: it takes about 30 s for 64 images on the
 * wasm backend, six times the speed budget of the reward model.
 */
import { ready } from '@emofeedback/core';
import type { BackboneName } from '@emofeedback/reward';
import { cvPredict, cvScore } from './lib/cv.js';
import { loadSamples, validationMask } from './lib/data.js';
import { cachedFeatures, cachedStats, type Matrix } from './lib/features.js';
import { hstack } from './lib/linalg.js';

await ready({ device: 'wasm' });
const samples = await loadSamples();
const val = validationMask(samples);
const trainIdx = samples.flatMap((_, i) => (val[i] ? [] : [i]));

const only = process.argv[2];
const candidates: [BackboneName, string[], boolean][] = [
  ['mobilenet-v2', ['pool'], false],
  ['mobilenet-v2', ['pool', 'dense', 'probs'], false],
  ['mobilenet-v2', ['pool'], true],
  ['mobilenet-v2-mid', ['pool'], false],
  ['mobilenet-v2-mid', ['pool', 'probs'], false],
  ['mobilenet-v2-mid', ['pool'], true],
];
const stats = await cachedStats('native', samples);
const fmt = (x: number) => x.toFixed(3);
for (const [backbone, endpoints, withStats] of candidates) {
  if (only && backbone !== only) continue;
  const all = ['mobilenet-v2-mid'].includes(backbone) ? ['pool', 'probs'] : ['pool', 'dense', 'probs'];
  const mats = await cachedFeatures(backbone, all, 'native', samples);
  const parts = endpoints.map((e) => mats[all.indexOf(e)] as Matrix);
  const x = hstack(withStats ? [...parts, stats] : parts);
  for (const lambda of [30, 100, 300, 1000, 3000]) {
    const p = cvPredict([x], x, samples, trainIdx, lambda);
    const o = cvScore(p, samples, trainIdx);
    const oa = cvScore(p, samples, trainIdx, 'oasis');
    const ba = cvScore(p, samples, trainIdx, 'bass');
    console.log(
      `${backbone} ${endpoints.join('+')}${withStats ? '+stats' : ''} d=${x.d} λ=${lambda}: all V ${fmt(o.valence)} A ${fmt(o.arousal)} | oasis V ${fmt(oa.valence)} A ${fmt(oa.arousal)} | bass V ${fmt(ba.valence)} A ${fmt(ba.arousal)}`,
    );
  }
}
