import { InvalidEmotionError } from './errors.js';

/** Lower bound of the canonical valence/arousal scale. */
export const EMOTION_MIN = -3;
/** Upper bound of the canonical valence/arousal scale. */
export const EMOTION_MAX = 3;

/**
 * A point in valence-arousal space on the canonical scale [-3, 3], the scale EmotiCrafter and
 * EmoFeedback² use. Valence runs from unpleasant (-3) to pleasant (3); arousal from calm (-3)
 * to excited (3).
 */
export interface Emotion {
  readonly valence: number;
  readonly arousal: number;
}

/** An emotion as scored by an evaluator, optionally with its reasoning. */
export interface EmotionReading extends Emotion {
  readonly rationale?: string;
}

/**
 * Checks that `value` is a finite number inside [-3, 3] and returns it.
 * @throws InvalidEmotionError naming `field` and the offending value.
 */
export function validateAxis(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidEmotionError(field, value, `a finite number in [${EMOTION_MIN}, ${EMOTION_MAX}]`);
  }
  if (value < EMOTION_MIN || value > EMOTION_MAX) {
    throw new InvalidEmotionError(field, value, `a number in [${EMOTION_MIN}, ${EMOTION_MAX}]`);
  }
  return value;
}

/**
 * Validates an emotion on the canonical scale and returns a frozen copy.
 * @param name how the emotion is called in error messages, e.g. `targets[3]`.
 * @throws InvalidEmotionError for missing, non-finite or out-of-range fields.
 */
export function emotion(value: { valence: unknown; arousal: unknown }, name = 'emotion'): Emotion {
  if (value === null || typeof value !== 'object') {
    throw new InvalidEmotionError(name, value, 'an object { valence, arousal }');
  }
  return Object.freeze({
    valence: validateAxis(`${name}.valence`, value.valence),
    arousal: validateAxis(`${name}.arousal`, value.arousal),
  });
}

/** Clamps both axes into [-3, 3]; non-finite values become 0 (the scale's neutral point). */
export function clampEmotion(value: Emotion): Emotion {
  const clamp = (x: number) => (Number.isFinite(x) ? Math.min(EMOTION_MAX, Math.max(EMOTION_MIN, x)) : 0);
  return { valence: clamp(value.valence), arousal: clamp(value.arousal) };
}

/** Per-axis absolute errors between a prediction and a target. */
export function emotionErrors(predicted: Emotion, target: Emotion): { valence: number; arousal: number } {
  return {
    valence: Math.abs(predicted.valence - target.valence),
    arousal: Math.abs(predicted.arousal - target.arousal),
  };
}

/** Euclidean distance in valence-arousal space. */
export function emotionDistance(a: Emotion, b: Emotion): number {
  return Math.hypot(a.valence - b.valence, a.arousal - b.arousal);
}

/** The 5×5 evaluation grid {-3, -1.5, 0, 1.5, 3}² that EmotiCrafter evaluates on. */
export function emotionGrid(levels: readonly number[] = [-3, -1.5, 0, 1.5, 3]): Emotion[] {
  const grid: Emotion[] = [];
  for (const valence of levels) {
    for (const arousal of levels) grid.push(emotion({ valence, arousal }, 'grid point'));
  }
  return grid;
}
