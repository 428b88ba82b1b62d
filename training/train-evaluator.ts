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
 *    The reward model reads three layers of its backbone: the pooled feature vector and the spatial
 *    means of two mid-level blocks (see `compare-backbones.ts` for the comparison that chose them).
 * 4. Choose the ridge strength by 5-fold cross-validation on the training split (the mean of the
 *    valence and arousal Pearson r over CV predictions on the as-rated and 64 px variants; the
 *    reward model chooses one strength per axis, each by its own mean r).
 *    The reward model has two heads, one fitted on the photos and one on the silhouettes, mixed per
 *    image by a linear domain gate on the pooled features and image statistics (fitted on all the
 *    training rows); in cross-validation every fold fits its own heads and gate.
 * 5. Refit on the whole training split; fit the naturalness PCA on the training features (the
 *    pooled feature vector only).
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
import {
  cvPredictGatedPath,
  cvPredictPath,
  cvScore,
  fitGate,
  fitHead,
  fitHeads,
  type GateFit,
  type HeadFit,
  predictGate,
  predictGated,
  predictHead,
} from './lib/cv.js';
import { loadSamples, type Sample, SPLIT_SEED, validationMask } from './lib/data.js';
import { cachedFeatures, cachedStats, type Matrix, type Variant } from './lib/features.js';
import { hstack } from './lib/linalg.js';
import { fitPca } from './lib/pca.js';

interface RoleConfig {
  readonly id: string;
  readonly backbone: BackboneName;
  /** Backbone endpoints concatenated into the features; the PCA models the first one. */
  readonly endpoints: readonly string[];
  /** Endpoints of a second backbone, read after the first backbone's (format @2). */
  readonly secondBackbone?: { readonly backbone: BackboneName; readonly endpoints: readonly string[] };
  /** Whether the head format lists the endpoints (format @2) or uses the backbone's default. */
  readonly listEndpoints: boolean;
  /**
   * Photo and silhouette heads mixed by a domain gate (format @2), with the gate's ridge strength
   * and logistic scale; the gate reads the first endpoint and the image statistics.
   */
  readonly domainHeads?: { readonly gateLambda: number; readonly gateScale: number };
  /** Choose the ridge strength per axis (valence, arousal) instead of one for both. */
  readonly perAxisLambda: boolean;
  readonly transform: 'none' | 'sqrt';
  readonly useImageStats: boolean;
  readonly trainVariants: readonly Variant[];
  /** The variants whose mean CV Pearson r chooses the ridge strength. */
  readonly selectOn: readonly Variant[];
  readonly lambdas: readonly number[];
  readonly cvSeed: number;
  readonly pcaComponents: number;
  readonly file: string;
  readonly constName: string;
}

const ROLES: Record<string, RoleConfig> = {
  evaluator: {
    id: 'local:mobilenet-v2-140-multilayer/oasis-bass@2',
    backbone: 'mobilenet-v2-mid',
    endpoints: ['pool', 'block13', 'block16'],
    listEndpoints: true,
    domainHeads: { gateLambda: 100, gateScale: 4 },
    perAxisLambda: true,
    transform: 'sqrt',
    useImageStats: true,
    trainVariants: ['native', 'flip', 'px64', 'px32'],
    selectOn: ['native', 'px64'],
    lambdas: [300, 1000, 3000, 10000, 30000],
    cvSeed: 7,
    pcaComponents: 32,
    file: 'local-head.generated.ts',
    constName: 'LOCAL_HEAD',
  },
  judge: {
    id: 'local-judge:mobilenet-v2-100+140-early/oasis-bass@2',
    backbone: 'mobilenet-v2',
    // The pooled vector and the spatial means of five blocks (56 to 7 px) of the 1.0 network, and
    // the spatial means of the early blocks 3, 6 and 10 (56, 28, 14 px) of the 1.4 network, whose
    // pooled vector and blocks 13 and 16 the reward model reads: chosen by `compare-judges.ts`
    // (training split only) for their cross-validated r at 32 px, 64 px and as rated.
    endpoints: ['pool', 'block3', 'block6', 'block10', 'block13', 'block16'],
    secondBackbone: { backbone: 'mobilenet-v2-mid', endpoints: ['block3', 'block6', 'block10'] },
    listEndpoints: true,
    perAxisLambda: true,
    transform: 'sqrt',
    useImageStats: true,
    trainVariants: ['native', 'flip', 'px64', 'px32'],
    selectOn: ['native', 'px64', 'px32'],
    lambdas: [1000, 3000, 10000],
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
const variantsNeeded = [...new Set<Variant>([...cfg.trainVariants, 'native', 'px64', 'px32'])];
const inputs = new Map<Variant, Matrix>();
const gateInputs = new Map<Variant, Matrix>();
const backboneFeats = new Map<Variant, Matrix>();
const pcaFeats = new Map<Variant, Matrix>();
const statsByVariant = new Map<Variant, Matrix>();
const endpointSizes: number[] = [];
const secondSizes: number[] = [];
for (const v of variantsNeeded) {
  const own = (await cachedFeatures(cfg.backbone, cfg.endpoints, v, samples)).map(transform);
  const second = cfg.secondBackbone
    ? (await cachedFeatures(cfg.secondBackbone.backbone, cfg.secondBackbone.endpoints, v, samples)).map(
        transform,
      )
    : [];
  endpointSizes.splice(0, endpointSizes.length, ...own.map((m) => m.d));
  secondSizes.splice(0, secondSizes.length, ...second.map((m) => m.d));
  const parts = [...own, ...second];
  const feats = hstack(parts);
  const stats = await cachedStats(v, samples);
  backboneFeats.set(v, feats);
  pcaFeats.set(v, parts[0] as Matrix);
  statsByVariant.set(v, stats);
  inputs.set(v, cfg.useImageStats ? hstack([feats, stats]) : feats);
  gateInputs.set(v, hstack([parts[0] as Matrix, stats]));
}
const get = (v: Variant) => inputs.get(v) as Matrix;
const getGate = (v: Variant) => gateInputs.get(v) as Matrix;
const trainMats = cfg.trainVariants.map(get);
const dh = cfg.domainHeads;

// 4. Ridge strength by 5-fold CV on the training split only.
const cv = dh
  ? cvPredictGatedPath(
      trainMats,
      cfg.trainVariants.map(getGate),
      cfg.selectOn.map((v) => ({ x: get(v), gateX: getGate(v) })),
      samples,
      trainIdx,
      cfg.lambdas,
      dh.gateLambda,
      dh.gateScale,
      5,
      cfg.cvSeed,
    )
  : cvPredictPath(trainMats, cfg.selectOn.map(get), samples, trainIdx, cfg.lambdas, 5, cfg.cvSeed);
const best = { both: 0, valence: 0, arousal: 0 };
const bestScore = {
  both: Number.NEGATIVE_INFINITY,
  valence: Number.NEGATIVE_INFINITY,
  arousal: Number.NEGATIVE_INFINITY,
};
const cvTable: Record<string, unknown>[] = [];
cfg.lambdas.forEach((lambda, li) => {
  const scores = (cv[li] as Float64Array[]).map((p) => cvScore(p, samples, trainIdx));
  const oasis = (cv[li] as Float64Array[]).map((p) => cvScore(p, samples, trainIdx, 'oasis'));
  const mean = (axis: 'valence' | 'arousal') => scores.reduce((s, r) => s + r[axis], 0) / scores.length;
  const score = {
    both: (mean('valence') + mean('arousal')) / 2,
    valence: mean('valence'),
    arousal: mean('arousal'),
  };
  cvTable.push({
    lambda,
    ...Object.fromEntries(cfg.selectOn.map((v, i) => [v, scores[i]])),
    nativeOasis: oasis[0],
  });
  console.error(
    `  λ=${lambda}: CV r ${cfg.selectOn.map((v, i) => `${v} V ${scores[i]?.valence.toFixed(3)} A ${scores[i]?.arousal.toFixed(3)}`).join(', ')} (native OASIS V ${oasis[0]?.valence.toFixed(3)} A ${oasis[0]?.arousal.toFixed(3)})`,
  );
  for (const key of ['both', 'valence', 'arousal'] as const)
    if (score[key] > bestScore[key]) {
      bestScore[key] = score[key];
      best[key] = li;
    }
});
const lambdaOf = (li: number) => cfg.lambdas[li] as number;
const lambdas = cfg.perAxisLambda
  ? { valence: lambdaOf(best.valence), arousal: lambdaOf(best.arousal) }
  : { valence: lambdaOf(best.both), arousal: lambdaOf(best.both) };
const lambda = lambdas.valence === lambdas.arousal ? lambdas.valence : lambdas;
console.error(`chosen λ: valence ${lambdas.valence}, arousal ${lambdas.arousal}`);

// 5. Final fit, folded into raw-input weights.
/** One head per axis strength: valence from the first fit, arousal from the second. */
const fitAxes = (idx: readonly number[]): HeadFit => {
  if (lambdas.valence === lambdas.arousal) return fitHead(trainMats, samples, idx, lambdas.valence);
  const [hv, ha] = fitHeads(trainMats, samples, idx, [lambdas.valence, lambdas.arousal]) as [
    HeadFit,
    HeadFit,
  ];
  const w = Float64Array.from(hv.ridge.w, (v, j) => (j % 2 === 0 ? v : (ha.ridge.w[j] as number)));
  return {
    mean: hv.mean,
    std: hv.std,
    ridge: { w, b: Float64Array.of(hv.ridge.b[0] as number, ha.ridge.b[1] as number) },
  };
};
const headFits: HeadFit[] = dh
  ? [
      fitAxes(trainIdx.filter((i) => samples[i]?.dataset === 'oasis')),
      fitAxes(trainIdx.filter((i) => samples[i]?.dataset === 'bass')),
    ]
  : [fitAxes(trainIdx)];
const gate: GateFit | undefined = dh
  ? fitGate(cfg.trainVariants.map(getGate), samples, trainIdx, dh.gateLambda, dh.gateScale)
  : undefined;
const predict = (v: Variant, idx: readonly number[]): Float64Array =>
  gate
    ? predictGated(headFits[0] as HeadFit, headFits[1] as HeadFit, gate, get(v), getGate(v), idx)
    : predictHead(headFits[0] as HeadFit, get(v), idx);
const d = get('native').d;
const nOut = 2 * headFits.length;
const weights = new Float32Array(d * nOut);
const bias = new Float32Array(nOut);
headFits.forEach((head, h) => {
  for (let c = 0; c < 2; c++) {
    let b = head.ridge.b[c] as number;
    for (let j = 0; j < d; j++) {
      const w = (head.ridge.w[j * 2 + c] as number) / (head.std[j] as number);
      weights[j * nOut + h * 2 + c] = w;
      b -= w * (head.mean[j] as number);
    }
    bias[h * 2 + c] = b;
  }
});
// The gate reads the first endpoint and the statistics: place its weights at those inputs.
const gateWeights = new Float32Array(d);
let gateBias = 0;
if (gate) {
  const first = endpointSizes[0] as number;
  const gd = getGate('native').d;
  gateBias = gate.ridge.b[0] as number;
  for (let j = 0; j < gd; j++) {
    const w = (gate.ridge.w[j] as number) / (gate.std[j] as number);
    gateBias -= w * (gate.mean[j] as number);
    gateWeights[j < first ? j : d - (gd - j)] = gate.scale * w;
  }
  gateBias *= gate.scale;
}

// Naturalness PCA on the transformed first-endpoint features of every training variant.
const featSize = (pcaFeats.get('native') as Matrix).d;
const pcaRows = cfg.trainVariants.flatMap((v) => trainIdx.map((i) => ({ m: pcaFeats.get(v) as Matrix, i })));
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
const trainLl = trainIdx.map((i) => logLik(pcaFeats.get('native') as Matrix, i));
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
for (const v of ['native', 'px64', 'px32'] as const) {
  const p = predict(v, valIdx);
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
const v2 = cfg.listEndpoints || gate !== undefined;
const fullSize = (backboneFeats.get('native') as Matrix).d;
const lambdaText =
  typeof lambda === 'number' ? `λ=${lambda}` : `λ=${lambda.valence} (valence), ${lambda.arousal} (arousal)`;
const serialized: SerializedHead = {
  format: v2 ? 'emofeedback-local-head@2' : 'emofeedback-local-head@1',
  id: cfg.id,
  backbone: cfg.backbone,
  featureSize: fullSize,
  ...(v2
    ? {
        endpoints: cfg.endpoints.map((e, i) => [e, endpointSizes[i] as number] as const),
        ...(cfg.secondBackbone
          ? {
              secondBackbone: {
                backbone: cfg.secondBackbone.backbone,
                endpoints: cfg.secondBackbone.endpoints.map((e, i) => [e, secondSizes[i] as number] as const),
              },
            }
          : {}),
        pcaFeatureSize: featSize,
        domainGate: gate !== undefined,
      }
    : {}),
  featureTransform: cfg.transform,
  useImageStats: cfg.useImageStats,
  pcaComponents: cfg.pcaComponents,
  naturalness: { mean: llMean, std: llStd },
  imageStatLimits: limits,
  trainedOn: `OASIS (${trainIdx.filter((i) => samples[i]?.dataset === 'oasis').length}) + BASS (${trainIdx.filter((i) => samples[i]?.dataset === 'bass').length}) training split, seed ${SPLIT_SEED}; ${gate ? `photo and silhouette ridge heads with a domain gate, ${lambdaText}` : `ridge ${lambdaText}`} on ${cfg.trainVariants.join('/')} variants`,
  layout: [
    ['weights', weights.length],
    ['bias', bias.length],
    ...(gate
      ? ([
          ['gateWeights', gateWeights.length],
          ['gateBias', 1],
        ] as const)
      : []),
    ['pcaMean', featSize],
    ['pcaBasis', featSize * cfg.pcaComponents],
    ['pcaVariances', cfg.pcaComponents],
    ['residualVariance', 1],
  ],
  data: encodeFloat32Base64([
    weights,
    bias,
    ...(gate ? [gateWeights, Float32Array.of(gateBias)] : []),
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

/** How often the gate leans to the wrong domain on the validation images (a report only). */
function gateReport(g: GateFit) {
  const out: Record<string, { wrong: number; n: number }> = {};
  for (const v of ['native', 'px64'] as const) {
    const p = predictGate(g, getGate(v), valIdx);
    const wrong = valIdx.filter((i, j) => (p[j] as number) > 0.5 !== (samples[i]?.dataset === 'bass')).length;
    out[v] = { wrong, n: valIdx.length };
  }
  return out;
}

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
  ...(v2
    ? {
        endpoints: cfg.endpoints,
        ...(cfg.secondBackbone ? { secondBackbone: cfg.secondBackbone } : {}),
        /** Cross-validated Pearson r on the training split for every ridge strength. */
        cv: cvTable,
        ...(gate ? { gate: gateReport(gate) } : {}),
      }
    : {}),
};
writeFileSync(join(repo, 'training', 'results', `${roleName}.json`), `${JSON.stringify(results, null, 2)}\n`);
const f = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(3));
for (const [v, rows] of Object.entries(report)) {
  console.log(
    `\n${roleName} (${cfg.backbone}), validation, ${v === 'native' ? 'images as rated' : `images shrunk to ${v.slice(2)} px`}`,
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
