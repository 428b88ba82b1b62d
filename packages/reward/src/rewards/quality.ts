import { type ImageBatch, InvalidArgumentError } from '@emofeedback/core';
import type { LocalEvaluator, LocalScores } from '../local/evaluator.js';
import type { LocalHead } from '../local/head.js';
import type { RewardValues } from './emotion.js';

/** Options of {@link qualityFromScores} and {@link qualityReward}. */
export interface QualityRewardOptions {
  /** Lowest naturalness counted (a floor, so that one broken image cannot dominate a batch); default −10. */
  readonly floor?: number;
  /** Highest naturalness counted (no reward for being more typical than typical); default 1. */
  readonly ceiling?: number;
  /** Penalty per unit of relative excess high-frequency energy; default 2. */
  readonly highFreqWeight?: number;
  /** Penalty per unit of excess clipped fraction; default 4. */
  readonly clippingWeight?: number;
}

/** The quality reward and its parts, per image. */
export interface QualityValues extends RewardValues {
  /** Standardised PCA log-likelihood of the backbone features (training images: mean 0, sd 1). */
  readonly naturalness: Float64Array;
  /** `max(0, highFreq / limit − 1)`: high-frequency energy beyond what real images reach. */
  readonly highFreqExcess: Float64Array;
  /** `max(0, clipped − limit)`: share of saturated channel values beyond what real images have. */
  readonly clippedExcess: Float64Array;
}

/**
 * Quality reward from a local evaluator's scores:
 *
 * `clamp(naturalness, floor, ceiling) − highFreqWeight · highFreqExcess − clippingWeight · clippedExcess`
 *
 * - naturalness: how likely the image's backbone features are under a Gaussian (probabilistic
 *   PCA, 32 components) fitted to the features of the real training images, standardised over
 *   those images. Images that drift away from natural-image statistics (noise, flat colour
 *   fields, patterns) land far out in feature space and score very negative.
 * - highFreqExcess: mean |luma − 3×3 blur| on a 64 px thumbnail, relative to the 99th
 *   percentile of the training images: catches adversarial high-frequency texture.
 * - clippedExcess: fraction of channel values at 0 or 1 beyond the training 99th percentile:
 *   catches saturation blow-outs.
 *
 * Invalid (`valid[i] = false`, value 0) where the scores are missing (e.g. aborted).
 */
export function qualityFromScores(
  scores: LocalScores,
  head: LocalHead,
  options: QualityRewardOptions = {},
): QualityValues {
  const floor = options.floor ?? -10;
  const ceiling = options.ceiling ?? 1;
  if (!(Number.isFinite(floor) && Number.isFinite(ceiling) && floor < ceiling))
    throw new InvalidArgumentError('floor', `floor (${floor}) must be a number below ceiling (${ceiling}).`);
  const wHf = options.highFreqWeight ?? 2;
  const wClip = options.clippingWeight ?? 4;
  if (!(wHf >= 0 && wClip >= 0)) throw new InvalidArgumentError('weights', 'penalty weights must be ≥ 0.');
  const n = scores.naturalness.length;
  const values = new Float64Array(n);
  const naturalness = new Float64Array(n);
  const highFreqExcess = new Float64Array(n);
  const clippedExcess = new Float64Array(n);
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
    values[i] =
      Math.min(ceiling, Math.max(floor, nat)) -
      wHf * (highFreqExcess[i] as number) -
      wClip * (clippedExcess[i] as number);
    valid.push(true);
  }
  return { values, valid, naturalness, highFreqExcess, clippedExcess };
}

/**
 * Scores how natural each image looks (see {@link qualityFromScores}), to guard against reward
 * hacking: an image that drifts away from natural images scores lower.
 * @throws InvalidImageError for bad input.
 */
export async function qualityReward(
  evaluator: LocalEvaluator,
  images: ImageBatch,
  options: QualityRewardOptions = {},
): Promise<QualityValues> {
  return qualityFromScores(await evaluator.score(images), evaluator.head, options);
}
