/**
 * Designed valence/arousal labels for procedural scenes.
 *
 * A scene's label is a sum of attribute effects, squashed into [-3, 3]:
 *
 * - Colour: Valdez & Mehrabian (1994), "Effects of color on emotions", Journal of Experimental
 *   Psychology: General 123(4):394-409, regressions on standardised brightness (B) and
 *   saturation (S): Pleasure = .69·B + .22·S, Arousal = −.31·B + .60·S. B and S are the spec's
 *   grading values standardised as (x − 0.5) / 0.25.
 * - Subjects: priors that follow the direction of published affective picture norms (IAPS,
 *   Lang et al. 2008; OASIS, Kurdi et al. 2017; NAPS, Marchewka et al. 2014): spiders, snakes
 *   and skulls unpleasant and arousing; graves unpleasant and calm; puppies, flowers and hearts
 *   pleasant; fire arousing. The magnitudes are our own design, not values read from the norms.
 * - Settings, light and weather: our own design, in the direction of the same norms and of
 *   common findings that storms and flicker arouse while fog, dusk and night calm; warm hues
 *   slightly more arousing than cool ones (Valdez & Mehrabian found hue effects much weaker
 *   than brightness and saturation, hence their small weights).
 */
import { EMOTION_MAX, type Emotion } from '../emotion.js';
import type {
  SceneLight,
  ScenePalette,
  SceneSetting,
  SceneSpec,
  SceneSubject,
  SceneWeather,
} from './spec.js';

type Effect = readonly [valence: number, arousal: number];

/** Subject priors [valence, arousal] before squashing. */
export const SUBJECT_AFFECT: Readonly<Record<SceneSubject, Effect>> = {
  flower: [1.8, -0.9],
  sun: [1.6, 0.7],
  tree: [1.0, -1.2],
  house: [0.8, -0.9],
  heart: [2.0, 1.2],
  dog: [2.0, 0.9],
  cat: [1.5, -0.5],
  boat: [0.9, -0.4],
  spider: [-2.0, 1.7],
  snake: [-1.9, 1.9],
  skull: [-2.1, 0.9],
  fire: [-0.6, 2.2],
  tombstone: [-1.8, -1.3],
};

/** Setting effects [valence, arousal]. */
export const SETTING_AFFECT: Readonly<Record<SceneSetting, Effect>> = {
  meadow: [0.7, -0.6],
  beach: [0.9, 0.1],
  forest: [0.2, -0.5],
  city: [-0.1, 0.7],
  desert: [-0.3, -0.1],
  sea: [0.5, 0.0],
  mountains: [0.6, 0.2],
  wasteland: [-1.1, -0.5],
};

/** Light effects [valence, arousal]. */
export const LIGHT_AFFECT: Readonly<Record<SceneLight, Effect>> = {
  daylight: [0.5, 0.3],
  'golden hour': [0.8, -0.3],
  dusk: [-0.1, -0.9],
  night: [-0.5, -0.7],
  'harsh light': [-0.8, 1.3],
};

/** Weather effects [valence, arousal]. */
export const WEATHER_AFFECT: Readonly<Record<SceneWeather, Effect>> = {
  clear: [0.4, -0.1],
  rain: [-0.6, -0.2],
  fog: [-0.3, -1.1],
  snow: [0.2, -0.6],
  storm: [-1.2, 1.8],
};

/** Hue effects of the palette [valence, arousal]; brightness and saturation are scored separately. */
export const PALETTE_HUE_AFFECT: Readonly<Record<ScenePalette, Effect>> = {
  warm: [0.1, 0.3],
  cool: [0.1, -0.3],
  pastel: [0.2, -0.2],
  vivid: [0, 0],
  grey: [-0.2, -0.2],
  dark: [0, 0],
};

/** Weight of the Valdez & Mehrabian colour term relative to the attribute priors. */
const COLOUR_WEIGHT = 0.9;
/** Width of the squashing: raw sums of about ±SQUASH map to about ±2.3 on the [-3, 3] scale. */
const SQUASH = 3.2;

/**
 * Valdez & Mehrabian (1994) colour effect for a spec: pleasure and arousal from standardised
 * brightness and saturation.
 */
export function colourAffect(brightness: number, saturation: number): Emotion {
  const zb = (brightness - 0.5) / 0.25;
  const zs = (saturation - 0.5) / 0.25;
  return { valence: 0.69 * zb + 0.22 * zs, arousal: -0.31 * zb + 0.6 * zs };
}

/**
 * The designed emotion of a scene on the canonical [-3, 3] scale: subject, setting, light,
 * weather and colour effects summed, then squashed with 3·tanh(x / 3.2) so it stays inside
 * the scale. More and bigger copies of the subject strengthen its effect. Sources are listed
 * at the top of this module and in `docs/scenes.md`.
 */
export function sceneEmotion(spec: SceneSpec): Emotion {
  const subject = SUBJECT_AFFECT[spec.subject];
  const setting = SETTING_AFFECT[spec.setting];
  const light = LIGHT_AFFECT[spec.light];
  const weather = WEATHER_AFFECT[spec.weather];
  const hue = PALETTE_HUE_AFFECT[spec.palette];
  const colour = colourAffect(spec.brightness, spec.saturation);
  // Closer (bigger) and more numerous subjects are more salient, so weigh their prior more.
  const intensity = (0.85 + 0.15 * spec.count) * (0.8 + (0.4 * (spec.scale - 0.36)) / 0.3);
  const raw = (k: 0 | 1, c: number) =>
    subject[k] * intensity + setting[k] + light[k] + weather[k] + hue[k] + COLOUR_WEIGHT * c;
  const squash = (x: number) => Math.round(EMOTION_MAX * Math.tanh(x / SQUASH) * 1000) / 1000;
  return {
    valence: squash(raw(0, colour.valence)),
    arousal: squash(raw(1, colour.arousal)),
  };
}
