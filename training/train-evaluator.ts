/**
 * Trains the head of a local evaluator and writes it into the package as a generated module.
 *
 *   cd training && npx tsx train-evaluator.ts --role evaluator   # reward model
 *   cd training && npx tsx train-evaluator.ts --role judge       # independent judge
 *
 * Deterministic: the split, the folds and the PCA start come from fixed seeds, and the ridge
 * solution is closed-form. Steps:
 * 1. Load OASIS (photos, 1-7) and BASS (silhouettes, 1-9) from `../shared/data`, ratings on [-3, 3].
 * 2. Hold out 20% of each dataset as the validation split (seed `SPLIT_SEED`); it is used only for
 *    the final report below, never for any choice.
 * 3. Extract frozen backbone features (cached in the temp folder) for every image as rated, mirrored,
 *    and shrunk to 64 px and 32 px (generated images are that small); the training rows use all four.
 * 4. Choose the ridge strength by 5-fold cross-validation on the training split (the mean of the
 *    valence and arousal Pearson r over CV predictions on the as-rated and 64 px variants).
 * 5. Refit on the whole training split; fit the naturalness PCA on the training features.
 * 6. Report MAE, Pearson r and CCC on the validation split (overall and per dataset, as rated and at
 *    64 px) beside a baseline that always predicts the training mean; write the metrics to
 *    `training/results/<role>.json` and the head to `packages/reward/src/weights/<role>-head.generated.ts`.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready } from '@emofeedback/core';
import {
  type AxisMetrics,
  axisMetrics,
  type BackboneName,
  createLocalEvaluatorFromHead,
  encodeFloat32Base64,
  IMAGE_STAT_NAMES,
  type SerializedHead,
} from '@emofeedback/reward';
import { cvPredictPath, cvScore, fitHead, predictHead } from './lib/cv.js';
import { loadSamples, type Sample, SPLIT_SEED, validationMask } from './lib/data.js';
import { cachedFeatures, cachedStats, type Matrix, type Variant } from './lib/features.js';
import { hstack } from './lib/linalg.js';
import { fitPca } from './lib/pca.js';

interface RoleConfig {
  readonly id: string;
  readonly backbone: BackboneName;
  readonly endpoints: readonly string[];
  readonly transform: 'none' | 'sqrt';
  readonly useImageStats: boolean;
  readonly trainVariants: readonly Variant[];
  readonly lambdas: readonly number[];
  readonly cvSeed: number;
  readonly pcaComponents: number;
  readonly file: string;
  readonly constName: string;
}

const ROLES: Record<string, RoleConfig> = {
  evaluator: {
    id: 'local:mobilenet-v2-140/oasis-bass@1',
    backbone: 'mobilenet-v2-mid',
    endpoints: ['pool'],
    transform: 'sqrt',
    useImageStats: true,
    trainVariants: ['native', 'flip', 'px64', 'px32'],
    lambdas: [300, 1000, 3000, 10000, 30000],
    cvSeed: 7,
    pcaComponents: 32,
    file: 'local-head.generated.ts',
    constName: 'LOCAL_HEAD',
  },
  judge: {
    id: 'local-judge:mobilenet-v2-100/oasis-bass@1',
    backbone: 'mobilenet-v2',
    endpoints: ['pool'],
    transform: 'sqrt',
    useImageStats: true,
    trainVariants: ['native', 'flip', 'px64'],
    lambdas: [300, 1000, 3000, 10000, 30000],
    cvSeed: 11,
    pcaComponents: 32,
    file: 'judge-head.generated.ts',
    constName: 'JUDGE_HEAD',
  },
};

const roleName = process.argv[process.argv.indexOf('--role') + 1] ?? 'evaluator';
const cfg = ROLES[roleName];
if (!cfg || !process.argv.includes('--role')) {
  console.error(`usage: npx tsx train-evaluator.ts --role ${Object.keys(ROLES).join('|')}`);
  process.exit(2);
}
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

await ready({ device: 'wasm' });
const samples = await loadSamples();
const isVal = validationMask(samples);
const trainIdx = samples.flatMap((_, i) => (isVal[i] ? [] : [i]));
const valIdx = samples.flatMap((_, i) => (isVal[i] ? [i] : []));
console.error(
  `${samples.length} images: ${trainIdx.length} train, ${valIdx.length} validation (seed ${SPLIT_SEED})`,
);

const transform = (m: Matrix): Matrix =>
  cfg.transform === 'sqrt' ? { ...m, data: m.data.map((v) => Math.sqrt(Math.max(0, v))) } : m;
const variantsNeeded = [...new Set<Variant>([...cfg.trainVariants, 'native', 'px64'])];
const inputs = new Map<Variant, Matrix>();
const backboneFeats = new Map<Variant, Matrix>();
const statsByVariant = new Map<Variant, Matrix>();
for (const v of variantsNeeded) {
  const parts = await cachedFeatures(cfg.backbone, cfg.endpoints, v, samples);
  const feats = transform(hstack(parts));
  const stats = await cachedStats(v, samples);
  backboneFeats.set(v, feats);
  statsByVariant.set(v, stats);
  inputs.set(v, cfg.useImageStats ? hstack([feats, stats]) : feats);
}
const get = (v: Variant) => inputs.get(v) as Matrix;
const trainMats = cfg.trainVariants.map(get);

// 4. Ridge strength by 5-fold CV on the training split only.
const cv = cvPredictPath(
  trainMats,
  [get('native'), get('px64')],
  samples,
  trainIdx,
  cfg.lambdas,
  5,
  cfg.cvSeed,
);
let best = 0;
let bestScore = Number.NEGATIVE_INFINITY;
cfg.lambdas.forEach((lambda, li) => {
  const scores = (cv[li] as Float64Array[]).map((p) => cvScore(p, samples, trainIdx));
  const score = scores.reduce((s, r) => s + r.valence + r.arousal, 0) / (2 * scores.length);
  console.error(
    `  λ=${lambda}: CV r native V ${scores[0]?.valence.toFixed(3)} A ${scores[0]?.arousal.toFixed(3)}, 64px V ${scores[1]?.valence.toFixed(3)} A ${scores[1]?.arousal.toFixed(3)}`,
  );
  if (score > bestScore) {
    bestScore = score;
    best = li;
  }
});
const lambda = cfg.lambdas[best] as number;
console.error(`chosen λ=${lambda}`);

// 5. Final fit, folded into raw-input weights.
const head = fitHead(trainMats, samples, trainIdx, lambda);
const d = get('native').d;
const weights = new Float32Array(d * 2);
const bias = new Float32Array(2);
for (let c = 0; c < 2; c++) {
  let b = head.ridge.b[c] as number;
  for (let j = 0; j < d; j++) {
    const w = (head.ridge.w[j * 2 + c] as number) / (head.std[j] as number);
    weights[j * 2 + c] = w;
    b -= w * (head.mean[j] as number);
  }
  bias[c] = b;
}

// Naturalness PCA on the transformed backbone features of every training variant.
const featSize = (backboneFeats.get('native') as Matrix).d;
const pcaRows = cfg.trainVariants.flatMap((v) =>
  trainIdx.map((i) => ({ m: backboneFeats.get(v) as Matrix, i })),
);
const pcaX = new Float32Array(pcaRows.length * featSize);
pcaRows.forEach(({ m, i }, r) => {
  pcaX.set(m.data.subarray(i * featSize, (i + 1) * featSize), r * featSize);
});
const pca = fitPca(pcaX, pcaRows.length, featSize, cfg.pcaComponents, 1234);
const logLik = (m: Matrix, i: number): number => {
  let inPlane = 0;
  let total = 0;
  let quad = 0;
  const k = cfg.pcaComponents;
  const proj = new Float64Array(k);
  for (let j = 0; j < featSize; j++) {
    const c = (m.data[i * featSize + j] as number) - (pca.mean[j] as number);
    total += c * c;
    for (let a = 0; a < k; a++) proj[a] = (proj[a] as number) + c * (pca.basis[j * k + a] as number);
  }
  for (let a = 0; a < k; a++) {
    inPlane += (proj[a] as number) ** 2;
    quad += (proj[a] as number) ** 2 / (pca.variances[a] as number);
  }
  return (-0.5 / featSize) * (quad + Math.max(0, total - inPlane) / pca.residualVariance);
};
const trainLl = trainIdx.map((i) => logLik(backboneFeats.get('native') as Matrix, i));
const llMean = trainLl.reduce((s, v) => s + v, 0) / trainLl.length;
const llStd = Math.sqrt(trainLl.reduce((s, v) => s + (v - llMean) ** 2, 0) / trainLl.length);
const percentile = (xs: number[], q: number) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};
const statCol = (name: string, v: Variant) => {
  const m = statsByVariant.get(v) as Matrix;
  const j = IMAGE_STAT_NAMES.indexOf(name);
  return trainIdx.map((i) => m.data[i * m.d + j] as number);
};
const limits = {
  highFreq: percentile(
    [...statCol('high_freq_energy', 'native'), ...statCol('high_freq_energy', 'px64')],
    0.99,
  ),
  clipped: percentile(
    [...statCol('clipped_fraction', 'native'), ...statCol('clipped_fraction', 'px64')],
    0.99,
  ),
};

// 6. Validation report.
const meanOf = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const trainMean = {
  valence: meanOf(trainIdx.map((i) => (samples[i] as Sample).valence)),
  arousal: meanOf(trainIdx.map((i) => (samples[i] as Sample).arousal)),
};
type Report = Record<string, Record<string, { model: AxisMetrics; baseline: AxisMetrics; n: number }>>;
const report: Report = {};
const valPreds = new Map<Variant, Float64Array>();
for (const v of ['native', 'px64'] as const) {
  const p = predictHead(head, get(v), valIdx);
  valPreds.set(v, p);
  report[v] = {};
  for (const subset of ['all', 'oasis', 'bass'] as const) {
    const sel = valIdx.flatMap((i, j) => (subset === 'all' || samples[i]?.dataset === subset ? [j] : []));
    for (const axis of ['valence', 'arousal'] as const) {
      const a = axis === 'valence' ? 0 : 1;
      const pred = sel.map((j) => p[j * 2 + a] as number);
      const truth = sel.map((j) => (samples[valIdx[j] as number] as Sample)[axis]);
      const base = sel.map(() => trainMean[axis]);
      (report[v] as Record<string, unknown>)[`${subset}/${axis}`] = {
        model: axisMetrics(pred, truth),
        baseline: axisMetrics(base, truth),
        n: sel.length,
      };
    }
  }
}

// Write the head.
const serialized: SerializedHead = {
  format: 'emofeedback-local-head@1',
  id: cfg.id,
  backbone: cfg.backbone,
  featureSize: featSize,
  featureTransform: cfg.transform,
  useImageStats: cfg.useImageStats,
  pcaComponents: cfg.pcaComponents,
  naturalness: { mean: llMean, std: llStd },
  imageStatLimits: limits,
  trainedOn: `OASIS (${trainIdx.filter((i) => samples[i]?.dataset === 'oasis').length}) + BASS (${trainIdx.filter((i) => samples[i]?.dataset === 'bass').length}) training split, seed ${SPLIT_SEED}; ridge λ=${lambda} on ${cfg.trainVariants.join('/')} variants`,
  layout: [
    ['weights', weights.length],
    ['bias', 2],
    ['pcaMean', featSize],
    ['pcaBasis', featSize * cfg.pcaComponents],
    ['pcaVariances', cfg.pcaComponents],
    ['residualVariance', 1],
  ],
  data: encodeFloat32Base64([
    weights,
    bias,
    Float32Array.from(pca.mean),
    Float32Array.from(pca.basis),
    Float32Array.from(pca.variances),
    Float32Array.of(pca.residualVariance),
  ]),
};
const { data, ...meta } = serialized;
const moduleText = `// Generated by training/train-evaluator.ts --role ${roleName}. Do not edit by hand.
import type { SerializedHead } from '../local/head.js';

/** ${roleName === 'evaluator' ? 'Head of the default local evaluator (reward model).' : 'Head of the default local judge.'} */
export const ${cfg.constName}: SerializedHead = {
${Object.entries(meta)
  .map(([k, v]) => `  ${k}: ${JSON.stringify(v)},`)
  .join('\n')}
  data:
    '${data}',
};
`;
const out = join(repo, 'packages', 'reward', 'src', 'weights', cfg.file);
writeFileSync(out, moduleText);

// Check the shipped path (backbone → evaluator) against the training pipeline on a few images.
const evaluator = await createLocalEvaluatorFromHead(serialized);
let maxDiff = 0;
for (const i of valIdx.slice(0, 8)) {
  const s = samples[i] as Sample;
  const scores = await evaluator.score([s.image]);
  const j = valIdx.indexOf(i);
  const p = valPreds.get('native') as Float64Array;
  maxDiff = Math.max(
    maxDiff,
    Math.abs((scores.valence[0] as number) - (p[j * 2] as number)),
    Math.abs((scores.arousal[0] as number) - (p[j * 2 + 1] as number)),
  );
}
evaluator.dispose();
console.error(`evaluator vs training pipeline, max |Δ| on 8 validation images: ${maxDiff.toExponential(2)}`);
if (maxDiff > 1e-3) throw new Error('the shipped evaluator disagrees with the training pipeline');

const results = {
  role: roleName,
  id: cfg.id,
  backbone: cfg.backbone,
  lambda,
  split: { seed: SPLIT_SEED, train: trainIdx.length, validation: valIdx.length },
  /** The validation images (dataset/file), so that tests can re-measure them. */
  validationFiles: valIdx.map((i) => (samples[i] as Sample).id),
  trainMean,
  validation: report,
  naturalness: serialized.naturalness,
  imageStatLimits: limits,
};
writeFileSync(join(repo, 'training', 'results', `${roleName}.json`), `${JSON.stringify(results, null, 2)}\n`);
const f = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(3));
for (const [v, rows] of Object.entries(report)) {
  console.log(
    `\n${roleName} (${cfg.backbone}), validation, ${v === 'native' ? 'images as rated' : 'images shrunk to 64 px'}`,
  );
  console.log('| subset | axis | n | MAE | Pearson r | CCC | baseline MAE | baseline CCC |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [key, r] of Object.entries(rows)) {
    const [subset, axis] = key.split('/');
    console.log(
      `| ${subset} | ${axis} | ${r.n} | ${f(r.model.mae)} | ${f(r.model.pearson)} | ${f(r.model.ccc)} | ${f(r.baseline.mae)} | ${f(r.baseline.ccc)} |`,
    );
  }
}
