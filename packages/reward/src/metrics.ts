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
