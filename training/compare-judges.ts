/**
 * Feature-set comparison for the independent judge, by 5-fold cross-validation on the TRAINING
 * split only (the validation split is never read here, and no generated image is): Pearson r per
 * axis on the photos (OASIS) and silhouettes (BASS), read as rated and shrunk to 64 and 32 px
 * (generated images are 32 px, so the small sizes decide).
 *
 *   cd training && npx tsx compare-judges.ts ['name;name']   # all candidates, or the named ones
 *
 * Every candidate uses the `mobilenet-v2` backbone (not the reward model's `mobilenet-v2-mid`),
 * the spatial means and standard deviations of its inverted-residual blocks, and the colour
 * statistics; heads are ridge regressions trained on the as-rated, mirrored, 64 px and 32 px copies.
 */
import { ready } from '@emofeedback/core';
import { cvPredictGatedPath, cvPredictPath, cvScore } from './lib/cv.js';
import { loadSamples, validationMask } from './lib/data.js';
import { cachedFeatures, cachedStats, type Matrix, type Variant } from './lib/features.js';
import { hstack } from './lib/linalg.js';

await ready({ device: 'wasm' });
const samples = await loadSamples();
const val = validationMask(samples);
const trainIdx = samples.flatMap((_, i) => (val[i] ? [] : [i]));
const fmt = (x: number) => x.toFixed(3);
const sqrt = (m: Matrix): Matrix => ({ ...m, data: m.data.map((v) => Math.sqrt(Math.max(0, v))) });
const repeat = (m: Matrix, k: number): Matrix => hstack(Array.from({ length: k }, () => m));

const BLOCKS = ['block3', 'block6', 'block10', 'block13', 'block16'];
const ENDPOINTS = ['pool', ...BLOCKS.flatMap((b) => [b, `${b}-std`])];
const VARIANTS: Variant[] = ['native', 'flip', 'px64', 'px32'];
const feats = new Map<Variant, Map<string, Matrix>>();
const stats = new Map<Variant, Matrix>();
const only = process.argv[2];
/** Early blocks of the other MobileNetV2 (1.4), upstream of the reward model's features. */
const MID_EARLY = ['block3', 'block6', 'block10'];
const withMid = !only || only.includes('mid');
for (const v of VARIANTS) {
  const mats = await cachedFeatures('mobilenet-v2', ENDPOINTS, v, samples);
  const map = new Map(ENDPOINTS.map((e, i) => [e, sqrt(mats[i] as Matrix)]));
  if (withMid) {
    const mid = await cachedFeatures('mobilenet-v2-mid', MID_EARLY, v, samples);
    MID_EARLY.forEach((e, i) => {
      map.set(`mid-${e}`, sqrt(mid[i] as Matrix));
    });
  }
  feats.set(v, map);
  stats.set(v, await cachedStats(v, samples));
}
const lambdas = [1000, 3000, 10000];
interface Candidate {
  readonly name: string;
  readonly endpoints: readonly string[];
  readonly trainVariants: readonly Variant[];
  /** Copies of the statistics columns (k copies weigh them like a ridge penalty divided by k). */
  readonly statsWeight: number;
  readonly gated?: boolean;
}
const candidates: Candidate[] = [
  {
    name: 'shipped @1: pool, native/flip/64',
    endpoints: ['pool'],
    trainVariants: ['native', 'flip', 'px64'],
    statsWeight: 1,
  },
  { name: 'pool, +32', endpoints: ['pool'], trainVariants: VARIANTS, statsWeight: 1 },
  { name: 'pool+means', endpoints: ['pool', ...BLOCKS], trainVariants: VARIANTS, statsWeight: 1 },
  { name: 'pool+means+stds', endpoints: ENDPOINTS, trainVariants: VARIANTS, statsWeight: 1 },
  {
    name: 'means 10-16',
    endpoints: ['pool', 'block10', 'block13', 'block16'],
    trainVariants: VARIANTS,
    statsWeight: 1,
  },
  { name: 'pool+means, stats×16', endpoints: ['pool', ...BLOCKS], trainVariants: VARIANTS, statsWeight: 16 },
  { name: 'pool+means+stds, stats×16', endpoints: ENDPOINTS, trainVariants: VARIANTS, statsWeight: 16 },
  {
    name: 'pool+means+mid early',
    endpoints: ['pool', ...BLOCKS, ...MID_EARLY.map((e) => `mid-${e}`)],
    trainVariants: VARIANTS,
    statsWeight: 1,
  },
  {
    name: 'mid early only',
    endpoints: MID_EARLY.map((e) => `mid-${e}`),
    trainVariants: VARIANTS,
    statsWeight: 1,
  },
  {
    name: 'pool+means, small only',
    endpoints: ['pool', ...BLOCKS],
    trainVariants: ['px64', 'px32'],
    statsWeight: 1,
  },
  {
    name: 'pool+means, gated',
    endpoints: ['pool', ...BLOCKS],
    trainVariants: VARIANTS,
    statsWeight: 1,
    gated: true,
  },
  {
    name: 'pool+means, stats×16, gated',
    endpoints: ['pool', ...BLOCKS],
    trainVariants: VARIANTS,
    statsWeight: 16,
    gated: true,
  },
  {
    name: 'pool+means+stds, gated',
    endpoints: ENDPOINTS,
    trainVariants: VARIANTS,
    statsWeight: 1,
    gated: true,
  },
];
const evalVariants: Variant[] = ['native', 'px64', 'px32'];
for (const c of candidates) {
  if (only && !only.split(';').includes(c.name)) continue;
  const x = (v: Variant) =>
    hstack([
      ...c.endpoints.map((e) => feats.get(v)?.get(e) as Matrix),
      repeat(stats.get(v) as Matrix, c.statsWeight),
    ]);
  const gateX = (v: Variant) => hstack([feats.get(v)?.get('pool') as Matrix, stats.get(v) as Matrix]);
  const t0 = Date.now();
  const cv = c.gated
    ? cvPredictGatedPath(
        c.trainVariants.map(x),
        c.trainVariants.map(gateX),
        evalVariants.map((v) => ({ x: x(v), gateX: gateX(v) })),
        samples,
        trainIdx,
        lambdas,
        100,
        4,
        5,
        11,
      )
    : cvPredictPath(c.trainVariants.map(x), evalVariants.map(x), samples, trainIdx, lambdas, 5, 11);
  lambdas.forEach((lambda, li) => {
    const cells = evalVariants.map((v, vi) => {
      const p = cv[li]?.[vi] as Float64Array;
      const o = cvScore(p, samples, trainIdx, 'oasis');
      const b = cvScore(p, samples, trainIdx, 'bass');
      return `${v} photo V ${fmt(o.valence)} A ${fmt(o.arousal)} sil V ${fmt(b.valence)} A ${fmt(b.arousal)}`;
    });
    console.log(`${c.name} d=${x('native').d} λ=${lambda}: ${cells.join(' | ')}`);
  });
  console.error(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
