import { match } from 'ts-pattern';
import { type Emotion, emotion } from './emotion.js';
import { InvalidEmotionError, UnknownScaleError } from './errors.js';

/**
 * Rating scales found in affective image data sets, all mapped linearly onto the canonical
 * [-3, 3] scale:
 * - `canonical`: [-3, 3] (EmotiCrafter, EmoFeedback²).
 * - `likert7`: 1-7 Likert (OASIS). `x' = x - 4`.
 * - `sam9`: 1-9 Self-Assessment Manikin (BASS, IAPS, Emotion6). `x' = (x - 5) * 0.75`.
 * - `signed-unit`: [-1, 1]. `x' = 3x`.
 * - `unit`: [0, 1]. `x' = 6x - 3`.
 */
export type EmotionScale = 'canonical' | 'likert7' | 'sam9' | 'signed-unit' | 'unit';

/** Every scale name the converters accept. */
export const EMOTION_SCALES: readonly EmotionScale[] = [
  'canonical',
  'likert7',
  'sam9',
  'signed-unit',
  'unit',
];

/** The closed interval a scale's values live in. */
export function scaleRange(scale: EmotionScale | string): readonly [number, number] {
  return match(parseScale(scale))
    .with('canonical', () => [-3, 3] as const)
    .with('likert7', () => [1, 7] as const)
    .with('sam9', () => [1, 9] as const)
    .with('signed-unit', () => [-1, 1] as const)
    .with('unit', () => [0, 1] as const)
    .exhaustive();
}

/**
 * Checks a scale name.
 * @throws UnknownScaleError listing the known scales.
 */
export function parseScale(scale: string): EmotionScale {
  if ((EMOTION_SCALES as readonly string[]).includes(scale)) return scale as EmotionScale;
  throw new UnknownScaleError(String(scale), EMOTION_SCALES);
}

function checkOnScale(field: string, value: number, scale: EmotionScale): void {
  const [lo, hi] = scaleRange(scale);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi) {
    throw new InvalidEmotionError(field, value, `a finite number in [${lo}, ${hi}] on the '${scale}' scale`);
  }
}

/** Converts one axis value from `scale` to the canonical [-3, 3] scale. */
export function axisToCanonical(value: number, scale: EmotionScale | string, field = 'value'): number {
  const s = parseScale(scale);
  checkOnScale(field, value, s);
  const [lo, hi] = scaleRange(s);
  return ((value - lo) / (hi - lo)) * 6 - 3;
}

/** Converts one canonical axis value to `scale`. */
export function axisFromCanonical(value: number, scale: EmotionScale | string, field = 'value'): number {
  const s = parseScale(scale);
  checkOnScale(field, value, 'canonical');
  const [lo, hi] = scaleRange(s);
  return lo + ((value + 3) / 6) * (hi - lo);
}

/** Converts an emotion rated on `scale` to the canonical scale. */
export function toCanonical(
  value: { valence: number; arousal: number },
  scale: EmotionScale | string,
): Emotion {
  return emotion({
    valence: axisToCanonical(value.valence, scale, 'valence'),
    arousal: axisToCanonical(value.arousal, scale, 'arousal'),
  });
}

/** Converts a canonical emotion to `scale`. */
export function fromCanonical(
  value: Emotion,
  scale: EmotionScale | string,
): { valence: number; arousal: number } {
  return {
    valence: axisFromCanonical(value.valence, scale, 'valence'),
    arousal: axisFromCanonical(value.arousal, scale, 'arousal'),
  };
}
