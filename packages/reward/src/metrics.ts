import { InvalidArgumentError } from '@emofeedback/core';

function checkPair(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  if (predicted.length !== target.length)
    throw new InvalidArgumentError(
      'predicted',
      `has ${predicted.length} values but target has ${target.length}; they must pair up.`,
    );
  if (predicted.length === 0) throw new InvalidArgumentError('predicted', 'is empty.');
  for (let i = 0; i < predicted.length; i++) {
    if (!Number.isFinite(predicted[i]))
      throw new InvalidArgumentError(`predicted[${i}]`, `is not finite (${predicted[i]}).`);
    if (!Number.isFinite(target[i]))
      throw new InvalidArgumentError(`target[${i}]`, `is not finite (${target[i]}).`);
  }
  return predicted.length;
}

function meanOf(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] as number;
  return s / x.length;
}

/**
 * Mean absolute error `Σ|pᵢ − tᵢ| / n`.
 * @throws InvalidArgumentError for empty or unequal-length inputs or non-finite values.
 */
export function mae(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  const n = checkPair(predicted, target);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs((predicted[i] as number) - (target[i] as number));
  return s / n;
}

/**
 * Root mean squared error `√(Σ(pᵢ − tᵢ)² / n)`.
 * @throws InvalidArgumentError for empty or unequal-length inputs or non-finite values.
 */
export function rmse(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  const n = checkPair(predicted, target);
  let s = 0;
  for (let i = 0; i < n; i++) s += ((predicted[i] as number) - (target[i] as number)) ** 2;
  return Math.sqrt(s / n);
}

/**
 * Pearson correlation coefficient. Returns `NaN` when either input is constant (the correlation
 * is undefined), so a degenerate evaluator never looks perfectly or zero correlated by accident.
 * @throws InvalidArgumentError for empty or unequal-length inputs or non-finite values.
 */
export function pearson(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  const n = checkPair(predicted, target);
  const mp = meanOf(predicted);
  const mt = meanOf(target);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dp = (predicted[i] as number) - mp;
    const dt = (target[i] as number) - mt;
    sxy += dp * dt;
    sxx += dp * dp;
    syy += dt * dt;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/**
 * Lin's concordance correlation coefficient
 * `2·cov(p, t) / (var(p) + var(t) + (mean(p) − mean(t))²)` with population (1/n) moments:
 * 1 only when predictions equal targets, penalising both scatter and bias. `NaN` when both
 * inputs are the same constant.
 * @throws InvalidArgumentError for empty or unequal-length inputs or non-finite values.
 */
export function ccc(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  const n = checkPair(predicted, target);
  const mp = meanOf(predicted);
  const mt = meanOf(target);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dp = (predicted[i] as number) - mp;
    const dt = (target[i] as number) - mt;
    sxy += dp * dt;
    sxx += dp * dp;
    syy += dt * dt;
  }
  const denominator = sxx / n + syy / n + (mp - mt) ** 2;
  if (denominator === 0) return Number.NaN;
  return (2 * sxy) / n / denominator;
}

/** Agreement of predictions with ratings on one axis. */
export interface AxisMetrics {
  /** Mean absolute error (canonical units). */
  readonly mae: number;
  /** Pearson correlation (`NaN` if either side is constant). */
  readonly pearson: number;
  /** Lin's concordance correlation coefficient. */
  readonly ccc: number;
}

/** {@link mae}, {@link pearson} and {@link ccc} of one axis at once. */
export function axisMetrics(predicted: ArrayLike<number>, target: ArrayLike<number>): AxisMetrics {
  return { mae: mae(predicted, target), pearson: pearson(predicted, target), ccc: ccc(predicted, target) };
}

/** Average ranks, 1-based (ties share their mean rank). */
function ranks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort(
    (a, b) => (x[a] as number) - (x[b] as number),
  );
  const r = new Float64Array(x.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1] as number] === x[order[i] as number]) j++;
    for (let k = i; k <= j; k++) r[order[k] as number] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/**
 * Spearman's rank correlation (Pearson r of the average ranks). `NaN` when either side is constant.
 * @throws InvalidArgumentError for empty or unequal-length inputs or non-finite values.
 */
export function spearman(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  checkPair(predicted, target);
  return pearson(ranks(predicted), ranks(target));
}

/** A point estimate with its two-sided 95% confidence interval. */
export interface Interval {
  readonly value: number;
  readonly low: number;
  readonly high: number;
}

/** Standard normal 97.5% quantile. */
const Z975 = 1.959963984540054;

/** Student-t 97.5% quantile for `df` degrees of freedom (Cornish–Fisher; < 0.5% off for df ≥ 3). */
function t975(df: number): number {
  const z = Z975;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
  );
}

/**
 * Spearman's ρ with a 95% interval from Fisher's z and the Fieller–Hartley–Pearson standard error
 * `√(1.06 / (n − 3))`. Needs n ≥ 4; the interval is `NaN` when ρ is.
 */
export function spearmanInterval(predicted: ArrayLike<number>, target: ArrayLike<number>): Interval {
  const n = checkPair(predicted, target);
  if (n < 4) throw new InvalidArgumentError('predicted', `needs at least 4 pairs for an interval, got ${n}.`);
  const rho = spearman(predicted, target);
  const z = Math.atanh(Math.max(-0.999999, Math.min(0.999999, rho)));
  const half = Z975 * Math.sqrt(1.06 / (n - 3));
  return { value: rho, low: Math.tanh(z - half), high: Math.tanh(z + half) };
}

/**
 * Least-squares slope of `reading` against `target` with a 95% t interval. On a balanced grid of
 * targets this is the slope of the mean reading per target level: 1 is a reading that follows the
 * target in full, 0 a reading that ignores it (however small its error looks). `NaN` when the
 * targets are all equal. Needs n ≥ 3.
 */
export function slopeInterval(reading: ArrayLike<number>, target: ArrayLike<number>): Interval {
  const n = checkPair(reading, target);
  if (n < 3)
    throw new InvalidArgumentError('reading', `needs at least 3 pairs for a slope interval, got ${n}.`);
  const my = meanOf(reading);
  const mx = meanOf(target);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = (target[i] as number) - mx;
    sxy += dx * ((reading[i] as number) - my);
    sxx += dx * dx;
  }
  if (sxx === 0) return { value: Number.NaN, low: Number.NaN, high: Number.NaN };
  const slope = sxy / sxx;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const fit = my + slope * ((target[i] as number) - mx);
    sse += ((reading[i] as number) - fit) ** 2;
  }
  const half = t975(n - 2) * Math.sqrt(sse / (n - 2) / sxx);
  return { value: slope, low: slope - half, high: slope + half };
}

/**
 * Mean of the paired differences `after − before` with a 95% t interval (positive: `after` is
 * larger), e.g. a score on the same images before and after training. Pairs where either side is
 * not finite are left out; `NaN` with fewer than 2 pairs.
 * @throws InvalidArgumentError when the two sides differ in length.
 */
export function pairedDifference(
  before: ArrayLike<number>,
  after: ArrayLike<number>,
): Interval & { readonly n: number } {
  if (before.length !== after.length)
    throw new InvalidArgumentError(
      'after',
      `has ${after.length} values but before has ${before.length}; they must pair up.`,
    );
  const d: number[] = [];
  for (let i = 0; i < before.length; i++) {
    const x = (after[i] as number) - (before[i] as number);
    if (Number.isFinite(x)) d.push(x);
  }
  const n = d.length;
  if (n < 2) return { value: Number.NaN, low: Number.NaN, high: Number.NaN, n };
  const mean = meanOf(d);
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = t975(n - 1) * (sd / Math.sqrt(n));
  return { value: mean, low: mean - half, high: mean + half, n };
}

/** How readings on one axis follow their targets: error, rank agreement and slope. */
export interface TargetAgreement {
  /** Mean absolute error (canonical units); compressed readings can score well here. */
  readonly mae: number;
  /** Spearman's ρ between target and reading, with its 95% interval. */
  readonly spearman: Interval;
  /** Slope of the reading against the target, with its 95% interval. */
  readonly slope: Interval;
  readonly n: number;
}

/**
 * {@link mae}, {@link spearmanInterval} and {@link slopeInterval} of readings against their targets
 * on one axis: what a judged error on a target grid should always be reported with.
 * @throws InvalidArgumentError for fewer than 4 pairs, unequal lengths or non-finite values.
 */
export function targetAgreement(reading: ArrayLike<number>, target: ArrayLike<number>): TargetAgreement {
  return {
    mae: mae(reading, target),
    spearman: spearmanInterval(reading, target),
    slope: slopeInterval(reading, target),
    n: reading.length,
  };
}

/** Formats an interval as `0.52 [0.41, 0.63]`. */
export function formatInterval(x: Interval, digits = 2): string {
  return `${x.value.toFixed(digits)} [${x.low.toFixed(digits)}, ${x.high.toFixed(digits)}]`;
}
