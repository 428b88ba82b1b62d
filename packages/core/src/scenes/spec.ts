/**
 * The vocabulary of procedural scenes: subjects, settings, light, weather and palettes, with the
 * words captions use for them. A {@link SceneSpec} is a plain JSON object built from these lists.
 */

/** What a scene is about. Each has its own silhouette and colours. */
export const SCENE_SUBJECTS = [
  'flower',
  'sun',
  'tree',
  'house',
  'heart',
  'dog',
  'cat',
  'boat',
  'spider',
  'snake',
  'skull',
  'fire',
  'tombstone',
] as const;
/** One of {@link SCENE_SUBJECTS}. */
export type SceneSubject = (typeof SCENE_SUBJECTS)[number];

/** Where a scene takes place (the background). */
export const SCENE_SETTINGS = [
  'meadow',
  'beach',
  'forest',
  'city',
  'desert',
  'sea',
  'mountains',
  'wasteland',
] as const;
/** One of {@link SCENE_SETTINGS}. */
export type SceneSetting = (typeof SCENE_SETTINGS)[number];

/** The light: sky colours and overall exposure. */
export const SCENE_LIGHTS = ['daylight', 'golden hour', 'dusk', 'night', 'harsh light'] as const;
/** One of {@link SCENE_LIGHTS}. */
export type SceneLight = (typeof SCENE_LIGHTS)[number];

/** The weather, drawn as an overlay. */
export const SCENE_WEATHERS = ['clear', 'rain', 'fog', 'snow', 'storm'] as const;
/** One of {@link SCENE_WEATHERS}. */
export type SceneWeather = (typeof SCENE_WEATHERS)[number];

/** The colour grading applied to the whole picture. */
export const SCENE_PALETTES = ['warm', 'cool', 'pastel', 'vivid', 'grey', 'dark'] as const;
/** One of {@link SCENE_PALETTES}. */
export type ScenePalette = (typeof SCENE_PALETTES)[number];

/**
 * Everything needed to draw one scene. Plain JSON: store it, send it to a worker, re-render it.
 * The same spec always renders the same pixels at a given size.
 */
export interface SceneSpec {
  /** Format version of this object. */
  readonly version: 1;
  readonly subject: SceneSubject;
  readonly setting: SceneSetting;
  readonly light: SceneLight;
  readonly weather: SceneWeather;
  readonly palette: ScenePalette;
  /** Colour saturation of the grading in [0, 1]; 0.5 leaves colours as drawn, 0 is grey. */
  readonly saturation: number;
  /** Brightness of the grading in [0, 1]; 0.5 leaves exposure as drawn. */
  readonly brightness: number;
  /** How many copies of the subject, 1 to 3. */
  readonly count: number;
  /** Horizontal centre of the subject group in [0, 1] of the image width. */
  readonly x: number;
  /** Vertical centre of the subject in [0, 1] of the image height (0 is the top). */
  readonly y: number;
  /** Subject size as a fraction of the image height, about 0.3 to 0.6. */
  readonly scale: number;
  /** Seeds the small details: rain streaks, stars, grass, flicker. */
  readonly seed: number;
}

/** The ranges of saturation and brightness each palette draws from. */
export const PALETTE_RANGES: Readonly<
  Record<ScenePalette, { saturation: readonly [number, number]; brightness: readonly [number, number] }>
> = {
  warm: { saturation: [0.45, 0.75], brightness: [0.45, 0.75] },
  cool: { saturation: [0.45, 0.75], brightness: [0.4, 0.7] },
  pastel: { saturation: [0.2, 0.4], brightness: [0.72, 0.95] },
  vivid: { saturation: [0.78, 1], brightness: [0.5, 0.8] },
  grey: { saturation: [0, 0.12], brightness: [0.3, 0.65] },
  dark: { saturation: [0.2, 0.55], brightness: [0.1, 0.3] },
};

/** Plural forms for captions; each contains its singular, so captions always name the subject word. */
export const SUBJECT_PLURALS: Readonly<Record<SceneSubject, string>> = {
  flower: 'flowers',
  sun: 'suns',
  tree: 'trees',
  house: 'houses',
  heart: 'hearts',
  dog: 'dogs',
  cat: 'cats',
  boat: 'boats',
  spider: 'spiders',
  snake: 'snakes',
  skull: 'skulls',
  fire: 'fires',
  tombstone: 'tombstones',
};

/** Subjects drawn only once per scene (two suns would be odd). */
export const SINGLE_SUBJECTS: readonly SceneSubject[] = ['sun', 'fire'];
