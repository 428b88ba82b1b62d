import { type Emotion, InvalidArgumentError } from '@emofeedback/core';
import {
  GUARD_FEATURES,
  type GuardComponent,
  type GuardReference,
  guardDistance,
  guardFeatures,
} from './guard.js';
import { GUARD_STAT_NAMES } from './guard-stats.js';

/** One mode of the generator's images to calibrate on: statistics with the target each was made for. */
export interface GuardSample {
  readonly name: string;
  /** {@link guardStatistics} of each image. */
  readonly stats: readonly ArrayLike<number>[];
  readonly targets: readonly Emotion[];
}

/** Options of {@link fitGuardReference}. */
export interface FitGuardOptions {
  /** Share of the covariance moved onto its diagonal (keeps the precision well conditioned); default 0.05. */
  readonly shrinkage?: number;
  /** Quantile of the calibration distances that becomes the radius; default 0.85. */
  readonly radiusQuantile?: number;
  /** The naturalness ceiling to record (see {@link GuardReference.naturalnessCeiling}). */
  readonly naturalnessCeiling: number;
  readonly calibratedOn: string;
}

/** Solves `A X = B` by Gauss–Jordan elimination with partial pivoting (small, dense systems). */
function solve(a: number[][], b: number[][]): number[][] {
  const n = a.length;
  const A = a.map((r) => [...r]);
  const B = b.map((r) => [...r]);
  const m = B[0]?.length ?? 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r]?.[c] as number) > Math.abs(A[p]?.[c] as number)) p = r;
    [A[c], A[p]] = [A[p] as number[], A[c] as number[]];
    [B[c], B[p]] = [B[p] as number[], B[c] as number[]];
    const rowA = A[c] as number[];
    const rowB = B[c] as number[];
    const d = rowA[c] as number;
    if (!(Math.abs(d) > 1e-300))
      throw new InvalidArgumentError('samples', 'the calibration data are degenerate.');
    for (let j = 0; j < n; j++) rowA[j] = (rowA[j] as number) / d;
    for (let j = 0; j < m; j++) rowB[j] = (rowB[j] as number) / d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = A[r]?.[c] as number;
      const ra = A[r] as number[];
      const rb = B[r] as number[];
      for (let j = 0; j < n; j++) ra[j] = (ra[j] as number) - f * (rowA[j] as number);
      for (let j = 0; j < m; j++) rb[j] = (rb[j] as number) - f * (rowB[j] as number);
    }
  }
  return B;
}

function fitComponent(sample: GuardSample, shrinkage: number): GuardComponent {
  const k = GUARD_STAT_NAMES.length;
  const F = GUARD_FEATURES;
  const n = sample.stats.length;
  if (n !== sample.targets.length)
    throw new InvalidArgumentError(
      'samples',
      `'${sample.name}' has ${n} statistics for ${sample.targets.length} targets.`,
    );
  if (n < 4 * (F + k))
    throw new InvalidArgumentError('samples', `'${sample.name}' needs at least ${4 * (F + k)} images.`);
  // Least squares for the expected statistics given the target.
  const xtx = Array.from({ length: F }, () => new Array<number>(F).fill(0));
  const xty = Array.from({ length: F }, () => new Array<number>(k).fill(0));
  const phis = sample.targets.map(guardFeatures);
  sample.stats.forEach((s, i) => {
    if (s.length !== k) throw new InvalidArgumentError('samples', `statistics must have ${k} values.`);
    const phi = phis[i] as number[];
    for (let a = 0; a < F; a++) {
      const rowX = xtx[a] as number[];
      const rowY = xty[a] as number[];
      for (let b = 0; b < F; b++) rowX[b] = (rowX[b] as number) + (phi[a] as number) * (phi[b] as number);
      for (let j = 0; j < k; j++) rowY[j] = (rowY[j] as number) + (phi[a] as number) * (s[j] as number);
    }
  });
  const coef = solve(xtx, xty);
  const cov = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  sample.stats.forEach((s, i) => {
    const phi = phis[i] as number[];
    const r = Array.from(
      { length: k },
      (_, j) => (s[j] as number) - phi.reduce((acc, v, f) => acc + v * (coef[f]?.[j] as number), 0),
    );
    for (let a = 0; a < k; a++) {
      const row = cov[a] as number[];
      for (let b = 0; b < k; b++)
        row[b] = (row[b] as number) + ((r[a] as number) * (r[b] as number)) / (n - F);
    }
  });
  const shrunk = cov.map((row, a) => row.map((v, b) => (a === b ? v : (1 - shrinkage) * v)));
  const identity = Array.from({ length: k }, (_, a) =>
    Array.from({ length: k }, (_, b) => (a === b ? 1 : 0)),
  );
  const precision = solve(shrunk, identity);
  const round = (v: number) => Number(v.toPrecision(7));
  return { name: sample.name, coefficients: coef.flat().map(round), precision: precision.flat().map(round) };
}

/**
 * Fits a {@link GuardReference} to statistics of the generator's own images, one sample per mode
 * (sampler): per mode, the expected statistics as a quadratic function of the target and the
 * shrunk inverse covariance of the residuals; the radius is a quantile of the sample's distances.
 * Deterministic: the same samples give the same reference.
 * @throws InvalidArgumentError for too few images, mismatched lengths or degenerate data.
 */
export function fitGuardReference(samples: readonly GuardSample[], options: FitGuardOptions): GuardReference {
  const shrinkage = options.shrinkage ?? 0.05;
  const q = options.radiusQuantile ?? 0.85;
  if (!(shrinkage >= 0 && shrinkage < 1)) throw new InvalidArgumentError('shrinkage', 'must be in [0, 1).');
  if (!(q > 0 && q < 1)) throw new InvalidArgumentError('radiusQuantile', 'must be in (0, 1).');
  if (samples.length === 0) throw new InvalidArgumentError('samples', 'give at least one sample.');
  const draft: GuardReference = {
    format: 'emofeedback-guard-reference@1',
    calibratedOn: options.calibratedOn,
    statNames: GUARD_STAT_NAMES,
    components: samples.map((s) => fitComponent(s, shrinkage)),
    radius: 1,
    distanceQuantiles: {},
    naturalnessCeiling: options.naturalnessCeiling,
  };
  const d = samples
    .flatMap((s) => s.stats.map((x, i) => guardDistance(x, s.targets[i] as Emotion, draft)))
    .sort((a, b) => a - b);
  const at = (p: number) => Number((d[Math.round(p * (d.length - 1))] as number).toPrecision(5));
  return {
    ...draft,
    radius: at(q),
    distanceQuantiles: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
  };
}
