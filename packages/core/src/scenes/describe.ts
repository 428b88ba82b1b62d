import { SeededRandom } from '../random.js';
import { validateSceneSpec } from './render.js';
import {
  type SceneLight,
  type ScenePalette,
  type SceneSetting,
  type SceneSpec,
  type SceneWeather,
  SUBJECT_PLURALS,
} from './spec.js';

// Phrases avoid every other subject word ("sunny", "street", "fiery"...) so a caption names
// exactly one subject.

const SETTING_PHRASES: Readonly<
  Record<SceneSetting, { prep: string; article: string; noun: string; adjectives: readonly string[] }>
> = {
  meadow: { prep: 'in', article: 'a', noun: 'meadow', adjectives: ['green', 'grassy', 'quiet'] },
  beach: { prep: 'on', article: 'a', noun: 'beach', adjectives: ['sandy', 'wide', 'empty'] },
  forest: { prep: 'in', article: 'a', noun: 'forest', adjectives: ['pine', 'dense', 'deep'] },
  city: { prep: 'in', article: 'a', noun: 'city', adjectives: ['big', 'busy', 'modern'] },
  desert: { prep: 'in', article: 'the', noun: 'desert', adjectives: ['sandy', 'dry', 'endless'] },
  sea: { prep: 'on', article: 'the', noun: 'sea', adjectives: ['open', 'wide', 'calm'] },
  mountains: { prep: 'in', article: 'the', noun: 'mountains', adjectives: ['snowy', 'high', 'rocky'] },
  wasteland: { prep: 'in', article: 'a', noun: 'wasteland', adjectives: ['barren', 'desolate', 'dead'] },
};

const LIGHT_PHRASES: Readonly<Record<SceneLight, readonly string[]>> = {
  daylight: ['in bright daylight', 'in broad daylight', 'on a bright day'],
  'golden hour': ['at golden hour', 'in warm evening light', 'in golden light'],
  dusk: ['at dusk', 'in the twilight', 'at nightfall'],
  night: ['at night', 'in the dead of night', 'late at night'],
  'harsh light': ['under harsh flickering light', 'in harsh, glaring light', 'under flickering lights'],
};

const WEATHER_PHRASES: Readonly<Record<SceneWeather, readonly string[]>> = {
  clear: ['clear skies', 'clear weather', 'a clear sky'],
  rain: ['heavy rain', 'pouring rain', 'rainy weather'],
  fog: ['thick fog', 'foggy', 'misty air'],
  snow: ['falling snow', 'snowing', 'snowy weather'],
  storm: ['a thunderstorm with lightning', 'stormy, with lightning', 'storm and lightning'],
};

const PALETTE_PHRASES: Readonly<Record<ScenePalette, readonly string[]>> = {
  warm: ['warm colours', 'warm orange tones', 'warm hues'],
  cool: ['cool blue tones', 'cool colours', 'cold blue hues'],
  pastel: ['soft pastel colours', 'pastel tones', 'pale pastel hues'],
  vivid: ['vivid saturated colours', 'bright vivid colours', 'vibrant colours'],
  grey: ['cold grey colours', 'muted grey tones', 'washed-out grey colours'],
  dark: ['dark, shadowy colours', 'dark muted tones', 'deep dark colours'],
};

const NUMBERS = ['a', 'two', 'three'];

function article(word: string, next: string): string {
  if (word !== 'a') return word;
  return /^[aeiou]/.test(next) ? 'an' : 'a';
}

function subjectPhrase(spec: SceneSpec, rng: SeededRandom): string {
  const noun = spec.count === 1 ? spec.subject : SUBJECT_PLURALS[spec.subject];
  const size = spec.scale > 0.53 ? 'big' : spec.scale < 0.4 ? 'small' : '';
  const adj = size && spec.subject !== 'sun' && rng.uniform() < 0.5 ? `${size} ` : '';
  const head = spec.count === 1 ? 'a' : (NUMBERS[spec.count - 1] as string);
  const det = spec.count === 1 ? article(head, adj || noun) : head;
  return `${det} ${adj}${noun}`;
}

function settingPhrase(spec: SceneSpec, rng: SeededRandom): string {
  const p = SETTING_PHRASES[spec.setting];
  let adj = '';
  const u = rng.uniform();
  if (spec.brightness < 0.3 && u < 0.6) adj = 'dark';
  else if (u < 0.5) adj = rng.choice(p.adjectives);
  const rest = adj ? `${adj} ${p.noun}` : p.noun;
  return `${p.prep} ${article(p.article, rest)} ${rest}`;
}

/**
 * A plain-English caption of a scene with varied phrasing, e.g. "a spider in a dark forest at
 * night, heavy rain, cold grey colours". Always names the subject (its word, or its plural) and
 * the setting word from {@link SCENE_SUBJECTS} / {@link SCENE_SETTINGS}, and no other subject.
 *
 * @param rng picks the phrasing; without one, the phrasing is fixed by the spec's seed.
 */
export function describeScene(spec: SceneSpec, rng?: SeededRandom): string {
  validateSceneSpec(spec);
  const r = rng ?? new SeededRandom((spec.seed ^ 0x5bd1e995) | 0);
  const subject = subjectPhrase(spec, r);
  const setting = settingPhrase(spec, r);
  const light = r.choice(LIGHT_PHRASES[spec.light]);
  const weather = r.choice(WEATHER_PHRASES[spec.weather]);
  const palette = r.choice(PALETTE_PHRASES[spec.palette]);
  const template = r.int(0, 4);
  switch (template) {
    case 0:
      return `${subject} ${setting} ${light}, ${weather}, ${palette}`;
    case 1:
      return `${light.charAt(0).toUpperCase()}${light.slice(1)}: ${subject} ${setting}, ${weather}, in ${palette}`;
    case 2:
      return `a picture of ${subject} ${setting} ${light}, ${palette}, ${weather}`;
    default:
      return `${subject} ${setting}, ${weather} ${light}, painted in ${palette}`;
  }
}
