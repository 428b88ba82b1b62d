import { emotion as checkEmotion, type Emotion, InvalidArgumentError } from '@emofeedback/core';
import type { Evaluation } from '../evaluator.js';

/** Per-image reward values with a mask of the images that could be scored. */
export interface RewardValues {
  /**
   * One finite value per image. Where `valid[i]` is false the value is a placeholder `0`
   * that must not be used as a score: filter or mask with `valid`.
   */
  readonly values: Float64Array;
  /** False where the image could not be scored (a failed evaluation). */
  readonly valid: readonly boolean[];
}

/**
 * How predicted and target emotions are compared (d = Euclidean distance in the
 * valence-arousal plane, canonical units):
 * - `l1`: `−(|Δv| + |Δa|)`
 * - `l2`: `−d`
 * - `gaussian`: `exp(−d² / 2σ²)` in (0, 1]
 * - `threshold`: `1` when both `|Δv| ≤ ε` and `|Δa| ≤ ε`, else `0` (ε-accuracy)
 */
export type EmotionRewardKind = 'l1' | 'l2' | 'gaussian' | 'threshold';

/** Options of {@link emotionReward}. */
export interface EmotionRewardOptions {
  /** Default `gaussian`. */
  readonly kind?: EmotionRewardKind;
  /** Width of the Gaussian kernel, canonical units; default 1. */
  readonly sigma?: number;
  /** Tolerance of `threshold`, canonical units; default 0.5. */
  readonly epsilon?: number;
}

/** Broadcasts one target or checks one target per image. */
export function resolveTargets(targets: Emotion | readonly Emotion[], n: number): Emotion[] {
  if (Array.isArray(targets)) {
    if (targets.length !== n)
      throw new InvalidArgumentError(
        'targets',
        `has ${targets.length} entries for ${n} images; give one per image or one for all.`,
      );
    return targets.map((t, i) => checkEmotion(t, `targets[${i}]`));
  }
  const t = checkEmotion(targets as Emotion, 'target');
  return Array.from({ length: n }, () => t);
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0))
    throw new InvalidArgumentError(name, `must be a positive number, got ${v}.`);
  return v;
}

/**
 * Emotion reward: how close each image's evaluated emotion is to its target.
 * Failed evaluations are marked invalid, never scored as 0.
 * @param targets one target for all images, or one per evaluation.
 * @throws InvalidArgumentError / InvalidEmotionError for bad targets or options.
 */
export function emotionReward(
  evaluations: readonly Evaluation[],
  targets: Emotion | readonly Emotion[],
  options: EmotionRewardOptions = {},
): RewardValues {
  const kind = options.kind ?? 'gaussian';
  if (!['l1', 'l2', 'gaussian', 'threshold'].includes(kind))
    throw new InvalidArgumentError(
      'kind',
      `unknown emotion reward '${String(kind)}'; use l1, l2, gaussian or threshold.`,
    );
  const sigma = positive('sigma', options.sigma ?? 1);
  const epsilon = positive('epsilon', options.epsilon ?? 0.5);
  const t = resolveTargets(targets, evaluations.length);
  const values = new Float64Array(evaluations.length);
  const valid = evaluations.map((e, i) => {
    if (!e.ok || !Number.isFinite(e.valence) || !Number.isFinite(e.arousal)) return false;
    const target = t[i] as Emotion;
    const dv = e.valence - target.valence;
    const da = e.arousal - target.arousal;
    const d2 = dv * dv + da * da;
    values[i] =
      kind === 'l1'
        ? -(Math.abs(dv) + Math.abs(da))
        : kind === 'l2'
          ? -Math.sqrt(d2)
          : kind === 'gaussian'
            ? Math.exp(-d2 / (2 * sigma * sigma))
            : Math.abs(dv) <= epsilon && Math.abs(da) <= epsilon
              ? 1
              : 0;
    return true;
  });
  return { values, valid };
}
