import { type Emotion, emotion, emotionDistance } from '../emotion.js';
import { InvalidArgumentError } from '../errors.js';
import type { SeededRandom } from '../random.js';
import { sceneEmotion } from './affect.js';
import {
  PALETTE_RANGES,
  SCENE_LIGHTS,
  SCENE_PALETTES,
  SCENE_SETTINGS,
  SCENE_SUBJECTS,
  SCENE_WEATHERS,
  type SceneLight,
  type ScenePalette,
  type SceneSetting,
  type SceneSpec,
  type SceneSubject,
  type SceneWeather,
  SINGLE_SUBJECTS,
} from './spec.js';

/** Fixes some attributes of sampled scenes; the rest are drawn uniformly. */
export interface SampleSceneOptions {
  readonly subject?: SceneSubject;
  readonly setting?: SceneSetting;
  readonly light?: SceneLight;
  readonly weather?: SceneWeather;
  readonly palette?: ScenePalette;
  /** 1 to 3 copies of the subject (sun and fire are always single). */
  readonly count?: number;
}

function pick<T extends string>(
  rng: SeededRandom,
  list: readonly T[],
  fixed: T | undefined,
  name: string,
): T {
  if (fixed === undefined) return rng.choice(list);
  if (!list.includes(fixed))
    throw new InvalidArgumentError(name, `'${String(fixed)}' is not one of ${list.join(', ')}.`);
  return fixed;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Draws a random scene. Deterministic: the same generator state and options give the same
 * spec. Every attribute is uniform over its list unless fixed in `options`.
 *
 * @throws InvalidArgumentError for an unknown attribute value or a bad count.
 */
export function sampleScene(rng: SeededRandom, options: SampleSceneOptions = {}): SceneSpec {
  const subject = pick(rng, SCENE_SUBJECTS, options.subject, 'subject');
  const setting = pick(rng, SCENE_SETTINGS, options.setting, 'setting');
  const light = pick(rng, SCENE_LIGHTS, options.light, 'light');
  const weather = pick(rng, SCENE_WEATHERS, options.weather, 'weather');
  const palette = pick(rng, SCENE_PALETTES, options.palette, 'palette');
  const range = PALETTE_RANGES[palette];
  const saturation = round3(rng.uniform(range.saturation[0], range.saturation[1]));
  const brightness = round3(rng.uniform(range.brightness[0], range.brightness[1]));
  const single = SINGLE_SUBJECTS.includes(subject);
  const u = rng.uniform();
  let count = single ? 1 : u < 0.6 ? 1 : u < 0.85 ? 2 : 3;
  if (options.count !== undefined) {
    if (!Number.isInteger(options.count) || options.count < 1 || options.count > 3) {
      throw new InvalidArgumentError('count', `expected 1, 2 or 3, got ${String(options.count)}.`);
    }
    count = single ? 1 : options.count;
  }
  const sky = subject === 'sun';
  const scale = round3(sky ? rng.uniform(0.36, 0.5) : rng.uniform(0.42, 0.66));
  const x = round3(rng.uniform(0.35, 0.65));
  const y = round3(sky ? rng.uniform(0.26, 0.34) : rng.uniform(0.54, 0.64));
  const seed = rng.int(0, 2 ** 31 - 1);
  return {
    version: 1,
    subject,
    setting,
    light,
    weather,
    palette,
    saturation,
    brightness,
    count,
    x,
    y,
    scale,
    seed,
  };
}

/** Options for {@link sampleSceneForEmotion}. */
export interface SampleForEmotionOptions extends SampleSceneOptions {
  /** Random scenes to draw and compare; default 512. */
  readonly candidates?: number;
  /**
   * Any candidate whose designed label is within this distance of the target may be chosen
   * (at random, for variety); default 0.4. When none is that close, the nearest wins.
   */
  readonly tolerance?: number;
}

/**
 * Draws a scene whose designed label ({@link sceneEmotion}) lies near `target`: samples
 * candidates and picks one within `tolerance`, else the nearest. Useful for emotion-balanced
 * training data and for checking a critic on known targets.
 *
 * @throws InvalidEmotionError for a target outside [-3, 3].
 */
export function sampleSceneForEmotion(
  target: Emotion,
  rng: SeededRandom,
  options: SampleForEmotionOptions = {},
): SceneSpec {
  const goal = emotion(target, 'target');
  const n = options.candidates ?? 512;
  const tolerance = options.tolerance ?? 0.4;
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('candidates', `expected a positive integer, got ${n}.`);
  let best: SceneSpec | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const close: SceneSpec[] = [];
  for (let i = 0; i < n; i++) {
    const spec = sampleScene(rng, options);
    const d = emotionDistance(sceneEmotion(spec), goal);
    if (d <= tolerance) close.push(spec);
    if (d < bestDistance) {
      bestDistance = d;
      best = spec;
    }
  }
  return close.length > 0 ? rng.choice(close) : (best as SceneSpec);
}
