/** Cross-validated ridge heads on cached features (training split only). */
import { SeededRandom } from '@emofeedback/core';
import { pearson } from '@emofeedback/reward';
import type { Sample } from './data.js';
import type { Matrix } from './features.js';
import { columnStats, fitRidgePath, predictRidge, type Ridge, standardRows } from './linalg.js';

/** Fold index per sample (stratified by dataset), for the given sample indices. */
export function folds(
  samples: readonly Sample[],
  indices: readonly number[],
  k: number,
  seed: number,
): Map<number, number> {
  const rng = new SeededRandom(seed);
  const out = new Map<number, number>();
  for (const ds of ['oasis', 'bass'] as const) {
    const idx = rng.shuffle(indices.filter((i) => samples[i]?.dataset === ds));
    idx.forEach((i, j) => {
      out.set(i, j % k);
    });
  }
  return out;
}

export interface HeadFit {
  readonly mean: Float64Array;
  readonly std: Float64Array;
  readonly ridge: Ridge;
}

/**
 * Fits a head on `trainIdx` using the rows of every training variant (augmentation).
 * `variants` are feature matrices aligned with `samples`.
 */
export function fitHead(
  variants: readonly Matrix[],
  samples: readonly Sample[],
  trainIdx: readonly number[],
  lambda: number,
  datasetWeight: { oasis: number; bass: number } = { oasis: 1, bass: 1 },
): HeadFit {
  return fitHeads(variants, samples, trainIdx, [lambda], datasetWeight)[0] as HeadFit;
}

/** {@link fitHead} for several ridge strengths at once. */
export function fitHeads(
  variants: readonly Matrix[],
  samples: readonly Sample[],
  trainIdx: readonly number[],
  lambdas: readonly number[],
  datasetWeight: { oasis: number; bass: number } = { oasis: 1, bass: 1 },
): HeadFit[] {
  const d = (variants[0] as Matrix).d;
  // Standardise with statistics over every training row of every variant.
  const stacked: Matrix = {
    n: variants.length * samples.length,
    d,
    data: (() => {
      const all = new Float32Array(variants.length * samples.length * d);
      variants.forEach((v, j) => {
        all.set(v.data, j * samples.length * d);
      });
      return all;
    })(),
  };
  const rows = variants.flatMap((_, j) => trainIdx.map((i) => j * samples.length + i));
  const { mean, std } = columnStats(stacked, rows);
  const z = standardRows(stacked, rows, mean, std);
  const y = new Float64Array(rows.length * 2);
  const w = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    const s = samples[r % samples.length] as Sample;
    y[i * 2] = s.valence;
    y[i * 2 + 1] = s.arousal;
    w[i] = datasetWeight[s.dataset];
  });
  return fitRidgePath(z, rows.length, d, y, 2, lambdas, w).map((ridge) => ({ mean, std, ridge }));
}

export function predictHead(head: HeadFit, x: Matrix, idx: readonly number[]): Float64Array {
  const z = standardRows(x, idx, head.mean, head.std);
  const p = predictRidge(head.ridge, z, idx.length, x.d, 2);
  for (let i = 0; i < p.length; i++) p[i] = Math.max(-3, Math.min(3, p[i] as number));
  return p;
}

/** Cross-validated predictions for `trainIdx` (each from a head that did not see it). */
export function cvPredict(
  trainVariants: readonly Matrix[],
  evalVariant: Matrix,
  samples: readonly Sample[],
  trainIdx: readonly number[],
  lambda: number,
  k = 5,
  seed = 7,
  datasetWeight?: { oasis: number; bass: number },
): Float64Array {
  return cvPredictPath(
    trainVariants,
    [evalVariant],
    samples,
    trainIdx,
    [lambda],
    k,
    seed,
    datasetWeight,
  )[0]?.[0] as Float64Array;
}

/** Cross-validated predictions for every ridge strength (outer) and evaluation variant (inner). */
export function cvPredictPath(
  trainVariants: readonly Matrix[],
  evalVariants: readonly Matrix[],
  samples: readonly Sample[],
  trainIdx: readonly number[],
  lambdas: readonly number[],
  k = 5,
  seed = 7,
  datasetWeight?: { oasis: number; bass: number },
): Float64Array[][] {
  const f = folds(samples, trainIdx, k, seed);
  const out = lambdas.map(() =>
    evalVariants.map(() => new Float64Array(samples.length * 2).fill(Number.NaN)),
  );
  for (let fold = 0; fold < k; fold++) {
    const tr = trainIdx.filter((i) => f.get(i) !== fold);
    const te = trainIdx.filter((i) => f.get(i) === fold);
    const heads = fitHeads(trainVariants, samples, tr, lambdas, datasetWeight);
    heads.forEach((head, li) => {
      evalVariants.forEach((ev, vi) => {
        const p = predictHead(head, ev, te);
        const o = out[li]?.[vi] as Float64Array;
        te.forEach((i, j) => {
          o[i * 2] = p[j * 2] as number;
          o[i * 2 + 1] = p[j * 2 + 1] as number;
        });
      });
    });
  }
  return out;
}

/** Pearson r of predictions vs ratings over `idx`, per axis, optionally one dataset only. */
export function cvScore(
  pred: Float64Array,
  samples: readonly Sample[],
  idx: readonly number[],
  dataset?: string,
) {
  const sel = idx.filter((i) => !dataset || samples[i]?.dataset === dataset);
  const pv = sel.map((i) => pred[i * 2] as number);
  const pa = sel.map((i) => pred[i * 2 + 1] as number);
  return {
    valence: pearson(
      pv,
      sel.map((i) => (samples[i] as Sample).valence),
    ),
    arousal: pearson(
      pa,
      sel.map((i) => (samples[i] as Sample).arousal),
    ),
  };
}

/**
 * A linear domain gate: ridge regression of +1 (silhouette, BASS) / −1 (photo, OASIS) on the
 * standardised inputs, turned into a silhouette probability by `sigmoid(scale · score)`.
 */
export interface GateFit {
  readonly mean: Float64Array;
  readonly std: Float64Array;
  readonly ridge: Ridge;
  readonly scale: number;
}

/** Fits a {@link GateFit} on `trainIdx` using the rows of every training variant. */
export function fitGate(
  variants: readonly Matrix[],
  samples: readonly Sample[],
  trainIdx: readonly number[],
  lambda: number,
  scale: number,
): GateFit {
  const d = (variants[0] as Matrix).d;
  const n = samples.length;
  const stacked: Matrix = {
    n: variants.length * n,
    d,
    data: (() => {
      const all = new Float32Array(variants.length * n * d);
      variants.forEach((v, j) => {
        all.set(v.data, j * n * d);
      });
      return all;
    })(),
  };
  const rows = variants.flatMap((_, j) => trainIdx.map((i) => j * n + i));
  const { mean, std } = columnStats(stacked, rows);
  const z = standardRows(stacked, rows, mean, std);
  const y = Float64Array.from(rows, (r) => ((samples[r % n] as Sample).dataset === 'bass' ? 1 : -1));
  const ridge = fitRidgePath(z, rows.length, d, y, 1, [lambda])[0] as Ridge;
  return { mean, std, ridge, scale };
}

/** Silhouette probability of the rows `idx` of x. */
export function predictGate(gate: GateFit, x: Matrix, idx: readonly number[]): Float64Array {
  const z = standardRows(x, idx, gate.mean, gate.std);
  const s = predictRidge(gate.ridge, z, idx.length, x.d, 1);
  return s.map((v) => 1 / (1 + Math.exp(-gate.scale * v)));
}

/** Two heads (photo, silhouette) mixed by a gate: `(1 − g)·photo + g·silhouette`, rows `idx`. */
export function predictGated(
  photo: HeadFit,
  silhouette: HeadFit,
  gate: GateFit,
  x: Matrix,
  gateX: Matrix,
  idx: readonly number[],
): Float64Array {
  const p = predictHead(photo, x, idx);
  const s = predictHead(silhouette, x, idx);
  const g = predictGate(gate, gateX, idx);
  return p.map((v, j) => {
    const gj = g[j >> 1] as number;
    return v + gj * ((s[j] as number) - v);
  });
}

/**
 * Cross-validated predictions of gated photo/silhouette heads, for every ridge strength (outer)
 * and evaluation variant (inner). The photo head is fitted on the OASIS rows of the training
 * folds, the silhouette head on the BASS rows, and the gate on all of them.
 */
export function cvPredictGatedPath(
  trainVariants: readonly Matrix[],
  gateVariants: readonly Matrix[],
  evalVariants: readonly { x: Matrix; gateX: Matrix }[],
  samples: readonly Sample[],
  trainIdx: readonly number[],
  lambdas: readonly number[],
  gateLambda: number,
  gateScale: number,
  k = 5,
  seed = 7,
): Float64Array[][] {
  const f = folds(samples, trainIdx, k, seed);
  const out = lambdas.map(() =>
    evalVariants.map(() => new Float64Array(samples.length * 2).fill(Number.NaN)),
  );
  for (let fold = 0; fold < k; fold++) {
    const tr = trainIdx.filter((i) => f.get(i) !== fold);
    const te = trainIdx.filter((i) => f.get(i) === fold);
    const photo = fitHeads(
      trainVariants,
      samples,
      tr.filter((i) => samples[i]?.dataset === 'oasis'),
      lambdas,
    );
    const silhouette = fitHeads(
      trainVariants,
      samples,
      tr.filter((i) => samples[i]?.dataset === 'bass'),
      lambdas,
    );
    const gate = fitGate(gateVariants, samples, tr, gateLambda, gateScale);
    lambdas.forEach((_, li) => {
      evalVariants.forEach((ev, vi) => {
        const p = predictGated(photo[li] as HeadFit, silhouette[li] as HeadFit, gate, ev.x, ev.gateX, te);
        const o = out[li]?.[vi] as Float64Array;
        te.forEach((i, j) => {
          o[i * 2] = p[j * 2] as number;
          o[i * 2 + 1] = p[j * 2 + 1] as number;
        });
      });
    });
  }
  return out;
}
