import { type Emotion, type ImageBatch, InvalidArgumentError } from '@emofeedback/core';
import type { LocalEvaluator, LocalScores } from '../local/evaluator.js';
import type { LocalHead } from '../local/head.js';
import type { RewardValues } from './emotion.js';
import { DEFAULT_GUARD_REFERENCE, type GuardReference, guardDistances, guardPenalty } from './guard.js';

/** Options of {@link qualityFromScores} and {@link qualityReward}. */
export interface QualityRewardOptions {
  /** Lowest naturalness counted (a floor, so that one broken image cannot dominate a batch); default −10. */
  readonly floor?: number;
  /**
   * Highest naturalness counted (no reward for being more typical than typical); default: the
   * guard reference's `naturalnessCeiling` (what the generator's own images reach 90% of the
   * time), or 1 without a guard.
   */
  readonly ceiling?: number;
  /** Penalty per unit of relative excess high-frequency energy; default 2. */
  readonly highFreqWeight?: number;
  /** Penalty per unit of excess clipped fraction; default 4. */
  readonly clippingWeight?: number;
  /**
   * What the reward-hacking guard compares images with; default {@link DEFAULT_GUARD_REFERENCE}
   * (the shipped generator's own images); `null` turns the guard off.
   */
  readonly guardReference?: GuardReference | null;
  /** Guard penalty per squared unit of distance beyond the reference's radius; default 1.5. */
  readonly guardWeight?: number;
  /** Largest guard penalty per image; default 20. */
  readonly guardCap?: number;
}

/** The quality reward and its parts, per image. */
export interface QualityValues extends RewardValues {
  /** Standardised PCA log-likelihood of the backbone features (training images: mean 0, sd 1). */
  readonly naturalness: Float64Array;
  /** `max(0, highFreq / limit − 1)`: high-frequency energy beyond what real images reach. */
  readonly highFreqExcess: Float64Array;
  /** `max(0, clipped − limit)`: share of saturated channel values beyond what real images have. */
  readonly clippedExcess: Float64Array;
  /** Distance of the image's statistics to the generator's own images (NaN: not measured). */
  readonly guardDistance: Float64Array;
  /** The guard's penalty, `min(cap, weight · max(0, distance − radius)²)` (0: not measured). */
  readonly guardPenalty: Float64Array;
}

/**
 * Quality reward from a local evaluator's scores and the guard's distances:
 *
 * `1 + clamp(naturalness, floor, ceiling) − ceiling − highFreqWeight · highFreqExcess
 *  − clippingWeight · clippedExcess − guardPenalty`
 *
 * An ordinary generated image scores about 1; an image edited without regard to content (a
 * constant field, a colour cast, a brightness, saturation or contrast change, noise, a pattern,
 * blur, clipping) scores lower, by more than the emotion reward such an edit can gain.
 *
 * - naturalness: how likely the image's backbone features are under a Gaussian (probabilistic
 *   PCA, 32 components) fitted to the features of the real training images, standardised over
 *   those images. Counted only below `ceiling`: being "more natural" than the generator's own
 *   images earns nothing (else darkening or desaturating, which raise it, would pay).
 * - highFreqExcess: mean |luma − 3×3 blur| on a 64 px thumbnail, relative to the 99th
 *   percentile of the training images: catches adversarial high-frequency texture.
 * - clippedExcess: fraction of channel values at 0 or 1 beyond the training 99th percentile:
 *   catches saturation blow-outs.
 * - guardPenalty: the reward-hacking guard. Colour, contrast, clipping and texture statistics of
 *   the image are compared with those of the generator's own images at the same target (a
 *   Mahalanobis distance, see `guardDistances`); zero within the reference's radius, growing
 *   quadratically beyond it. Needs `distances` (one per score); without them it is 0.
 *
 * Invalid (`valid[i] = false`, value 0) where the scores are missing (e.g. aborted).
 * @throws InvalidArgumentError for bad options or a distance count that does not match.
 */
export function qualityFromScores(
  scores: LocalScores,
  head: LocalHead,
  options: QualityRewardOptions = {},
  distances?: ArrayLike<number>,
): QualityValues {
  const reference = options.guardReference === undefined ? DEFAULT_GUARD_REFERENCE : options.guardReference;
  const floor = options.floor ?? -10;
  const ceiling = options.ceiling ?? reference?.naturalnessCeiling ?? 1;
  if (!(Number.isFinite(floor) && Number.isFinite(ceiling) && floor < ceiling))
    throw new InvalidArgumentError('floor', `floor (${floor}) must be a number below ceiling (${ceiling}).`);
  const wHf = options.highFreqWeight ?? 2;
  const wClip = options.clippingWeight ?? 4;
  const wGuard = options.guardWeight ?? 1.5;
  const cap = options.guardCap ?? 20;
  if (!(wHf >= 0 && wClip >= 0 && wGuard >= 0 && cap >= 0))
    throw new InvalidArgumentError('weights', 'penalty weights and the guard cap must be ≥ 0.');
  const n = scores.naturalness.length;
  if (distances !== undefined && distances.length !== n)
    throw new InvalidArgumentError('distances', `expected ${n} guard distances, got ${distances.length}.`);
  const values = new Float64Array(n);
  const naturalness = new Float64Array(n);
  const highFreqExcess = new Float64Array(n);
  const clippedExcess = new Float64Array(n);
  const guardDistance = new Float64Array(n).fill(Number.NaN);
  const guardPen = new Float64Array(n);
  const valid: boolean[] = [];
  const { highFreq: hfLimit, clipped: clipLimit } = head.imageStatLimits;
  for (let i = 0; i < n; i++) {
    const nat = scores.naturalness[i] as number;
    const hf = scores.highFreq[i] as number;
    const cl = scores.clipped[i] as number;
    if (!Number.isFinite(nat) || !Number.isFinite(hf) || !Number.isFinite(cl)) {
      valid.push(false);
      continue;
    }
    naturalness[i] = nat;
    highFreqExcess[i] = Math.max(0, hf / Math.max(hfLimit, 1e-6) - 1);
    clippedExcess[i] = Math.max(0, cl - clipLimit);
    if (reference && distances) {
      const d = distances[i] as number;
      guardDistance[i] = d;
      // A distance that could not be measured counts as far out, never as ordinary.
      guardPen[i] = Number.isFinite(d) ? guardPenalty(d, reference.radius, wGuard, cap) : cap;
    }
    values[i] =
      1 +
      Math.min(ceiling, Math.max(floor, nat)) -
      ceiling -
      wHf * (highFreqExcess[i] as number) -
      wClip * (clippedExcess[i] as number) -
      (guardPen[i] as number);
    valid.push(true);
  }
  return { values, valid, naturalness, highFreqExcess, clippedExcess, guardDistance, guardPenalty: guardPen };
}

/**
 * Scores how natural each image looks (see {@link qualityFromScores}), to guard against reward
 * hacking: an image that drifts away from natural images, or from the generator's own images
 * at its target, scores lower.
 * @param targets the emotion each image was generated for (one for all, or one per image);
 *   without them the guard measures each image against the grid target it fits best.
 * @throws InvalidImageError for bad input; InvalidEmotionError / InvalidArgumentError for bad targets.
 */
export async function qualityReward(
  evaluator: LocalEvaluator,
  images: ImageBatch,
  options: QualityRewardOptions = {},
  targets?: Emotion | readonly Emotion[],
): Promise<QualityValues> {
  const reference = options.guardReference === undefined ? DEFAULT_GUARD_REFERENCE : options.guardReference;
  const distances = reference ? await guardDistances(images, targets, reference) : undefined;
  return qualityFromScores(await evaluator.score(images), evaluator.head, options, distances);
}
