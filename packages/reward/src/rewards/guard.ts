import {
  emotion as checkEmotion,
  type Emotion,
  emotionGrid,
  type ImageBatch,
  InvalidArgumentError,
} from '@emofeedback/core';
import { GUARD_REFERENCE } from '../weights/guard-reference.generated.js';
import { GUARD_STAT_NAMES, guardStatisticsBatch } from './guard-stats.js';

/**
 * One mode of the generator's images (e.g. one sampler): the expected statistics and their spread
 * as functions of the target emotion, and the precision of what is left over once standardised.
 * The covariance at a target `t` is `S(t) · P⁻¹ · S(t)` with `S(t) = diag(exp(φ(t) · logScale))`:
 * images for some targets (e.g. pleasant ones) vary more than others, and the guard measures each
 * against the spread of its own target.
 */
export interface GuardComponent {
  /** What the component covers, e.g. `sde η=0.7` or `euler`. */
  readonly name: string;
  /**
   * `[6, k]` row-major: the expected statistics are `φ(target) · coefficients` with
   * `φ = [1, v, a, v², a², v·a]` on targets scaled to [-1, 1] (divided by 3).
   */
  readonly coefficients: readonly number[];
  /**
   * `[6, k]` row-major: the standard deviation of statistic `j`'s residual at a target is
   * `exp(φ(target) · logScale[:, j])` (same features as `coefficients`).
   */
  readonly logScale: readonly number[];
  /** `[k, k]` row-major inverse covariance of the standardised residuals (shrunk towards its diagonal). */
  readonly precision: readonly number[];
}

/**
 * What the reward-hacking guard measures images against: the statistics of a fixed, seeded
 * sample of the generator's own images (see `training/calibrate-guard.ts`).
 */
export interface GuardReference {
  readonly format: 'emofeedback-guard-reference@2';
  /** Which generator and sampling settings the sample came from, for the record. */
  readonly calibratedOn: string;
  /** Must equal {@link GUARD_STAT_NAMES}. */
  readonly statNames: readonly string[];
  readonly components: readonly GuardComponent[];
  /**
   * Mahalanobis distance up to which an image counts as ordinary (no penalty): a high quantile of
   * the calibration sample's distances.
   */
  readonly radius: number;
  /** Quantiles of the calibration sample's distances, for the record. */
  readonly distanceQuantiles: Readonly<Record<string, number>>;
  /**
   * Naturalness (the local evaluator's, standardised on photos) that the generator's images reach
   * or exceed 90% of the time: the default ceiling of the naturalness term, so that looking
   * "more natural" than ordinary generated images earns nothing.
   */
  readonly naturalnessCeiling: number;
}

/** The reference calibrated on the shipped generator (`createEmbeddedGenerator()`). */
export const DEFAULT_GUARD_REFERENCE: GuardReference = GUARD_REFERENCE;

/** Length of {@link guardFeatures}. */
export const GUARD_FEATURES = 6;
const FEATURES = GUARD_FEATURES;

/** The target features the expected statistics are linear in: `[1, v, a, v², a², v·a]`, scaled. */
export function guardFeatures(t: Emotion): number[] {
  const v = t.valence / 3;
  const a = t.arousal / 3;
  return [1, v, a, v * v, a * a, v * a];
}

/**
 * Checks a reference's shapes and values.
 * @throws InvalidArgumentError when it is malformed.
 */
export function validateGuardReference(reference: GuardReference): GuardReference {
  const bad = (msg: string) => new InvalidArgumentError('guardReference', msg);
  if (reference?.format !== 'emofeedback-guard-reference@2')
    throw bad(`unknown format '${String(reference?.format)}'.`);
  const k = GUARD_STAT_NAMES.length;
  if (reference.statNames.join(',') !== GUARD_STAT_NAMES.join(','))
    throw bad('its statistics do not match GUARD_STAT_NAMES; recalibrate it.');
  if (!(reference.components.length > 0)) throw bad('has no components.');
  for (const c of reference.components) {
    if (
      c.coefficients.length !== FEATURES * k ||
      c.logScale?.length !== FEATURES * k ||
      c.precision.length !== k * k
    )
      throw bad(`component '${c.name}' has arrays of the wrong length.`);
    if (![...c.coefficients, ...c.logScale, ...c.precision].every(Number.isFinite))
      throw bad(`component '${c.name}' holds non-finite values.`);
  }
  if (!(Number.isFinite(reference.radius) && reference.radius > 0)) throw bad('radius must be > 0.');
  if (!Number.isFinite(reference.naturalnessCeiling)) throw bad('naturalnessCeiling must be finite.');
  return reference;
}

/**
 * Mahalanobis distance of one image's statistics to the reference at a target (under the
 * covariance the reference expects at that target): the smallest over the reference's components
 * (the image only has to look like one mode of the generator).
 */
export function guardDistance(stats: ArrayLike<number>, target: Emotion, reference: GuardReference): number {
  const k = GUARD_STAT_NAMES.length;
  if (stats.length !== k)
    throw new InvalidArgumentError('stats', `expected ${k} values, got ${stats.length}.`);
  const phi = guardFeatures(target);
  const r = new Float64Array(k);
  let best = Number.POSITIVE_INFINITY;
  for (const c of reference.components) {
    for (let j = 0; j < k; j++) {
      let expected = 0;
      let logScale = 0;
      for (let f = 0; f < FEATURES; f++) {
        expected += (phi[f] as number) * (c.coefficients[f * k + j] as number);
        logScale += (phi[f] as number) * (c.logScale[f * k + j] as number);
      }
      r[j] = ((stats[j] as number) - expected) * Math.exp(-logScale);
    }
    let d2 = 0;
    for (let i = 0; i < k; i++) {
      let row = 0;
      for (let j = 0; j < k; j++) row += (c.precision[i * k + j] as number) * (r[j] as number);
      d2 += (r[i] as number) * row;
    }
    best = Math.min(best, Math.sqrt(Math.max(0, d2)));
  }
  return best;
}

/** The 5×5 target grid used when no target is given: the image must fit one of them. */
const ANY_TARGET: readonly Emotion[] = emotionGrid();

/**
 * Guard distances of a batch (see {@link guardDistance}). Without targets, each image is measured
 * against the target of the 5×5 grid {-3, -1.5, 0, 1.5, 3}² it fits best.
 * @param targets one per image, one for all, or none.
 * @throws InvalidImageError for a bad batch; InvalidArgumentError / InvalidEmotionError for bad targets.
 */
export async function guardDistances(
  images: ImageBatch,
  targets?: Emotion | readonly Emotion[],
  reference: GuardReference = DEFAULT_GUARD_REFERENCE,
): Promise<Float64Array> {
  validateGuardReference(reference);
  const stats = await guardStatisticsBatch(images);
  const n = stats.length;
  let perImage: (Emotion | undefined)[];
  if (targets === undefined) perImage = Array.from({ length: n }, () => undefined);
  else if (Array.isArray(targets)) {
    if (targets.length !== n)
      throw new InvalidArgumentError('targets', `has ${targets.length} entries for ${n} images.`);
    perImage = targets.map((t, i) => checkEmotion(t, `targets[${i}]`));
  } else {
    const t = checkEmotion(targets as Emotion, 'target');
    perImage = Array.from({ length: n }, () => t);
  }
  return Float64Array.from(stats, (s, i) => {
    const t = perImage[i];
    if (t) return guardDistance(s, t, reference);
    return Math.min(...ANY_TARGET.map((g) => guardDistance(s, g, reference)));
  });
}

/**
 * The guard's penalty for a distance: zero up to `radius`, then growing quadratically,
 * `weight · (d − radius)²`, capped at `cap` so that one broken image cannot swamp a batch.
 */
export function guardPenalty(distance: number, radius: number, weight: number, cap: number): number {
  if (!(distance > radius)) return 0;
  return Math.min(cap, weight * (distance - radius) ** 2);
}
