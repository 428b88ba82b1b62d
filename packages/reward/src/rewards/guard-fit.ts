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
  /**
   * Optional group of each image (e.g. the index of its prompt): images of one group are held out
   * together when the radius is cross-validated. Default: each image its own group.
   */
  readonly groups?: readonly number[];
}

/** Options of {@link fitGuardReference}. */
export interface FitGuardOptions {
  /** Share of the covariance moved onto its diagonal (keeps the precision well conditioned); default 0.05. */
  readonly shrinkage?: number;
  /**
   * Quantile of the cross-validated calibration distances that becomes the radius; default 0.85.
   * Out-of-fold distances are what a new prompt's images get: the in-sample ones are smaller, as
   * the fit has seen the images.
   */
  readonly radiusQuantile?: number;
  /** Folds of the cross-validation (by group, `group mod folds`); default 5. */
  readonly folds?: number;
  /**
   * How much the residuals' spread depends on the target: the share of the maximum-likelihood
   * log-quadratic scale per statistic that is kept (the rest shrinks towards one pooled scale);
   * default 0.5, which generalises best to new prompts. 0 pools the spread over targets.
   */
  readonly scaleByTarget?: number;
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

/**
 * The log variance of positive values `sq` (squared residuals) as a function of the target
 * features: the Gaussian maximum-likelihood fit by Fisher scoring (a gamma GLM with log link),
 * which makes the mean of `sq / variance` exactly 1. Only the intercept when `byTarget` is false.
 */
function fitLogVariance(
  phis: readonly number[][],
  sq: readonly number[],
  xtx: number[][],
  byTarget: boolean,
) {
  const F = GUARD_FEATURES;
  const g = new Array<number>(F).fill(0);
  g[0] = Math.log(sq.reduce((acc, v) => acc + v, 0) / sq.length);
  for (let it = 0; byTarget && it < 100; it++) {
    const score = new Array<number>(F).fill(0);
    sq.forEach((v, i) => {
      const phi = phis[i] as number[];
      const u = Math.max(v, 1e-30) * Math.exp(-dot(phi, g)) - 1;
      for (let f = 0; f < F; f++) score[f] = (score[f] as number) + (phi[f] as number) * u;
    });
    const step = solve(
      xtx,
      score.map((v) => [v]),
    );
    let size = 0;
    for (let f = 0; f < F; f++) {
      // Damped: the log variance moves by at most 1 per coefficient and iteration.
      const d = Math.max(-1, Math.min(1, step[f]?.[0] as number));
      g[f] = (g[f] as number) + d;
      size = Math.max(size, Math.abs(d));
    }
    if (size < 1e-10) break;
  }
  return g;
}

const dot = (a: readonly number[], b: readonly number[]) =>
  a.reduce((acc, v, i) => acc + v * (b[i] as number), 0);
const column = (m: readonly number[][], j: number) => m.map((row) => row[j] as number);

/** Fits one component; `keep` is the share of the target-dependent log scale kept. */
function fitComponent(sample: GuardSample, shrinkage: number, keep: number): GuardComponent {
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
  const residuals = sample.stats.map((s, i) => {
    const phi = phis[i] as number[];
    return Array.from(
      { length: k },
      (_, j) => (s[j] as number) - phi.reduce((acc, v, f) => acc + v * (coef[f]?.[j] as number), 0),
    );
  });
  // Per statistic, the log standard deviation of the residuals given the target.
  const logScale = Array.from({ length: F }, () => new Array<number>(k).fill(0));
  for (let j = 0; j < k; j++) {
    const g = fitLogVariance(
      phis,
      residuals.map((r) => (r[j] as number) ** 2),
      xtx,
      keep > 0,
    );
    for (let f = 0; f < F; f++) (logScale[f] as number[])[j] = ((f === 0 ? 1 : keep) * (g[f] as number)) / 2;
  }
  const standardised = () =>
    residuals.map((res, i) => {
      const phi = phis[i] as number[];
      return res.map((v, j) => v * Math.exp(-dot(phi, column(logScale, j))));
    });
  const cov = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const r of standardised()) {
    for (let a = 0; a < k; a++) {
      const row = cov[a] as number[];
      for (let b = 0; b < k; b++)
        row[b] = (row[b] as number) + ((r[a] as number) * (r[b] as number)) / (n - F);
    }
  }
  const shrunk = cov.map((row, a) => row.map((v, b) => (a === b ? v : (1 - shrinkage) * v)));
  const identity = Array.from({ length: k }, (_, a) =>
    Array.from({ length: k }, (_, b) => (a === b ? 1 : 0)),
  );
  const precision = solve(shrunk, identity);
  if (keep > 0) {
    // The correlations differ between targets too: one more common log scale per target makes
    // the mean squared distance the same at every target, so that no target is penalised more.
    const d2 = standardised().map((z) =>
      z.reduce((acc, zi, a) => acc + zi * dot(z, precision[a] as number[]), 0),
    );
    const g = fitLogVariance(phis, d2, xtx, true);
    for (let f = 0; f < F; f++) {
      const row = logScale[f] as number[];
      for (let j = 0; j < k; j++) row[j] = (row[j] as number) + (f === 0 ? 0 : (keep * (g[f] as number)) / 2);
    }
  }
  const round = (v: number) => Number(v.toPrecision(7));
  return {
    name: sample.name,
    coefficients: coef.flat().map(round),
    logScale: logScale.flat().map(round),
    precision: precision.flat().map(round),
  };
}

/**
 * Fits a {@link GuardReference} to statistics of the generator's own images, one sample per mode
 * (sampler): per mode, the expected statistics as a quadratic function of the target, the spread
 * of each statistic as a log-quadratic function of the target (see
 * {@link FitGuardOptions.scaleByTarget}) and the shrunk inverse covariance of the standardised
 * residuals; the radius is a quantile of the distances cross-validated by group (prompt).
 * Deterministic: the same samples give the same reference.
 * @throws InvalidArgumentError for too few images, mismatched lengths, bad options or degenerate data.
 */
export function fitGuardReference(samples: readonly GuardSample[], options: FitGuardOptions): GuardReference {
  const shrinkage = options.shrinkage ?? 0.05;
  const q = options.radiusQuantile ?? 0.85;
  if (!(shrinkage >= 0 && shrinkage < 1)) throw new InvalidArgumentError('shrinkage', 'must be in [0, 1).');
  if (!(q > 0 && q < 1)) throw new InvalidArgumentError('radiusQuantile', 'must be in (0, 1).');
  if (samples.length === 0) throw new InvalidArgumentError('samples', 'give at least one sample.');
  const folds = options.folds ?? 5;
  const scaleByTarget = options.scaleByTarget ?? 0.5;
  if (!(scaleByTarget >= 0 && scaleByTarget <= 1))
    throw new InvalidArgumentError('scaleByTarget', 'must be in [0, 1].');
  if (!(Number.isInteger(folds) && folds >= 2))
    throw new InvalidArgumentError('folds', 'must be an integer ≥ 2.');
  const fit = (part: readonly GuardSample[]): GuardReference => ({
    format: 'emofeedback-guard-reference@2',
    calibratedOn: options.calibratedOn,
    statNames: GUARD_STAT_NAMES,
    components: part.map((s) => fitComponent(s, shrinkage, scaleByTarget)),
    radius: 1,
    distanceQuantiles: {},
    naturalnessCeiling: options.naturalnessCeiling,
  });
  const reference = fit(samples);
  const foldOf = (s: GuardSample, i: number) => (((s.groups?.[i] ?? i) % folds) + folds) % folds;
  for (const s of samples)
    if (s.groups && s.groups.length !== s.stats.length)
      throw new InvalidArgumentError(
        'samples',
        `'${s.name}' has ${s.groups.length} groups for ${s.stats.length} images.`,
      );
  const d: number[] = [];
  for (let f = 0; f < folds; f++) {
    const keep = (s: GuardSample) => s.stats.map((_, i) => foldOf(s, i) !== f);
    const trained = fit(
      samples.map((s) => {
        const k = keep(s);
        return {
          name: s.name,
          stats: s.stats.filter((_, i) => k[i]),
          targets: s.targets.filter((_, i) => k[i]),
        };
      }),
    );
    for (const s of samples)
      s.stats.forEach((x, i) => {
        if (foldOf(s, i) === f) d.push(guardDistance(x, s.targets[i] as Emotion, trained));
      });
  }
  d.sort((a, b) => a - b);
  const at = (p: number) => Number((d[Math.round(p * (d.length - 1))] as number).toPrecision(5));
  return {
    ...reference,
    radius: at(q),
    distanceQuantiles: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
  };
}
