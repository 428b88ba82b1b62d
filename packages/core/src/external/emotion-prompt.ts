/**
 * Emotion → text, for image models that only take a prompt.
 *
 * The mapping: the direction of (valence, arousal) picks the nearest affect word of Russell's
 * (1980) circumplex (the same angles as {@link RUSSELL_EMOTIONS}); the distance from the
 * neutral centre picks an intensity word; two axis phrases then spell out pleasantness and
 * energy, because image models follow plain descriptions more reliably than rare affect words.
 */
import { RUSSELL_EMOTIONS } from '../anchors.js';
import { type Emotion, emotion } from '../emotion.js';

/** The circumplex words used, as adjectives of "mood" (Russell's words, minus a few that read badly). */
const ANCHOR_WORDS = [
  'happy',
  'delighted',
  'excited',
  'astonished',
  'tense',
  'alarmed',
  'angry',
  'afraid',
  'annoyed',
  'distressed',
  'frustrated',
  'miserable',
  'sad',
  'gloomy',
  'depressed',
  'bored',
  'tired',
  'sleepy',
  'calm',
  'relaxed',
  'content',
  'serene',
  'glad',
  'pleased',
] as const;

/** Below this distance from (0, 0) the emotion reads as neutral. */
const NEUTRAL_RADIUS = 0.6;

function angleOf(e: Emotion): number {
  return Math.atan2(e.arousal, e.valence);
}

/** The circumplex word whose direction is closest to `e`'s. */
export function nearestAffectWord(e: Emotion): string {
  const a = angleOf(e);
  let best: string = ANCHOR_WORDS[0];
  let bestGap = Number.POSITIVE_INFINITY;
  for (const word of ANCHOR_WORDS) {
    const anchor = RUSSELL_EMOTIONS[word];
    let gap = Math.abs(angleOf(anchor) - a);
    if (gap > Math.PI) gap = 2 * Math.PI - gap;
    if (gap < bestGap) {
      bestGap = gap;
      best = word;
    }
  }
  return best;
}

function intensityWord(radius: number): string {
  if (radius < 1.5) return 'slightly';
  if (radius < 2.3) return 'clearly';
  return 'intensely';
}

function valencePhrase(v: number): string {
  if (v >= 2.25) return 'very pleasant';
  if (v >= 0.75) return 'pleasant';
  if (v > -0.75) return 'neither pleasant nor unpleasant';
  if (v > -2.25) return 'unpleasant';
  return 'very unpleasant';
}

function arousalPhrase(a: number): string {
  if (a >= 2.25) return 'highly energetic and intense';
  if (a >= 0.75) return 'energetic';
  if (a > -0.75) return 'moderately calm';
  if (a > -2.25) return 'calm and quiet';
  return 'very calm and still';
}

/**
 * A short English description of an emotion, e.g. `{ valence: 2.5, arousal: 1 }` →
 * "an intensely delighted mood, very pleasant and energetic".
 *
 * @throws InvalidEmotionError for values outside [-3, 3].
 */
export function emotionPhrase(value: Emotion): string {
  const e = emotion(value);
  const radius = Math.hypot(e.valence, e.arousal);
  if (radius < NEUTRAL_RADIUS) return 'a neutral mood, neither pleasant nor unpleasant, moderately calm';
  const word = nearestAffectWord(e);
  const intensity = intensityWord(radius);
  const article = /^[aeiou]/.test(intensity) ? 'an' : 'a';
  return `${article} ${intensity} ${word} mood, ${valencePhrase(e.valence)} and ${arousalPhrase(e.arousal)}`;
}

/** Turns a user prompt and a target emotion into the text an image model receives. */
export type EmotionPromptTemplate = (prompt: string, emotion: Emotion) => string;

/** The default template: `"<prompt>, evoking <emotionPhrase>"`. */
export const defaultEmotionPrompt: EmotionPromptTemplate = (prompt, e) =>
  `${prompt.trim()}, evoking ${emotionPhrase(e)}`;
