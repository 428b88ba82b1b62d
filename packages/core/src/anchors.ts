import type { Emotion } from './emotion.js';
import { InvalidArgumentError } from './errors.js';

/*
 * Named anchors for discrete emotions in valence-arousal space.
 *
 * Source of the coordinates: the angular positions of affect words in Russell (1980),
 * "A circumplex model of affect", Journal of Personality and Social Psychology 39(6):1161-1178,
 * direct circular scaling (Fig. 2): 0° is pleasure, 90° arousal, 180° displeasure, 270° sleepiness.
 * Each anchor is the word's angle at radius 2.5 on the canonical [-3, 3] scale (Russell's words
 * lie close to one circle; the radius is our choice). Where a category name is not one of
 * Russell's 28 words, the word used is given after the arrow; `disgust` has no Russell word and is
 * placed between 'annoyed' (123°) and 'distressed' (137.6°), which is our own placement.
 */
const RADIUS = 2.5;

const RUSSELL_DEGREES = {
  happy: 7.8,
  delighted: 24.9,
  excited: 48.6,
  astonished: 69.8,
  aroused: 73.8,
  tense: 92.8,
  alarmed: 96.5,
  angry: 99.0,
  afraid: 116.5,
  annoyed: 123.0,
  distressed: 137.6,
  frustrated: 141.2,
  miserable: 188.7,
  sad: 207.5,
  gloomy: 209.0,
  depressed: 210.0,
  bored: 241.9,
  droopy: 256.7,
  tired: 267.7,
  sleepy: 271.9,
  calm: 316.2,
  relaxed: 318.0,
  satisfied: 319.2,
  'at ease': 321.8,
  content: 323.3,
  serene: 328.6,
  glad: 345.3,
  pleased: 353.2,
} as const;

function onCircle(degrees: number): Emotion {
  const rad = (degrees * Math.PI) / 180;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return Object.freeze({ valence: round(RADIUS * Math.cos(rad)), arousal: round(RADIUS * Math.sin(rad)) });
}

/** Mikels et al. (2005) eight categories, as used by EmoSet and EmotiCrafter. */
export const MIKELS_EMOTIONS = Object.freeze({
  amusement: onCircle(RUSSELL_DEGREES.delighted), // → 'delighted'
  awe: onCircle(RUSSELL_DEGREES.astonished), // → 'astonished'
  contentment: onCircle(RUSSELL_DEGREES.content),
  excitement: onCircle(RUSSELL_DEGREES.excited),
  anger: onCircle(RUSSELL_DEGREES.angry),
  disgust: onCircle(130), // our placement, see above
  fear: onCircle(RUSSELL_DEGREES.afraid),
  sadness: onCircle(RUSSELL_DEGREES.sad),
});

/** Ekman's six basic emotions. */
export const EKMAN_EMOTIONS = Object.freeze({
  anger: MIKELS_EMOTIONS.anger,
  disgust: MIKELS_EMOTIONS.disgust,
  fear: MIKELS_EMOTIONS.fear,
  happiness: onCircle(RUSSELL_DEGREES.happy), // → 'happy'
  sadness: MIKELS_EMOTIONS.sadness,
  surprise: onCircle(RUSSELL_DEGREES.astonished), // → 'astonished'
});

/** Russell's (1980) 28 affect words themselves, plus `neutral` at the origin. */
export const RUSSELL_EMOTIONS: Readonly<Record<keyof typeof RUSSELL_DEGREES | 'neutral', Emotion>> =
  Object.freeze({
    neutral: Object.freeze({ valence: 0, arousal: 0 }),
    ...(Object.fromEntries(Object.entries(RUSSELL_DEGREES).map(([k, d]) => [k, onCircle(d)])) as Record<
      keyof typeof RUSSELL_DEGREES,
      Emotion
    >),
  });

/** Every named anchor, Mikels and Ekman names first, then Russell's words. */
export const NAMED_EMOTIONS: Readonly<Record<string, Emotion>> = Object.freeze({
  ...RUSSELL_EMOTIONS,
  ...EKMAN_EMOTIONS,
  ...MIKELS_EMOTIONS,
});

/**
 * Looks up a named emotion (case-insensitive), e.g. `namedEmotion('fear')`.
 * @throws InvalidArgumentError listing the known names.
 */
export function namedEmotion(name: string): Emotion {
  const found = NAMED_EMOTIONS[name.trim().toLowerCase()];
  if (!found) {
    throw new InvalidArgumentError(
      'emotion name',
      `'${name}' is not a known emotion; known: ${Object.keys(NAMED_EMOTIONS).join(', ')}.`,
    );
  }
  return found;
}
