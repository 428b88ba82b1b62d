export {
  colourAffect,
  LIGHT_AFFECT,
  PALETTE_HUE_AFFECT,
  SETTING_AFFECT,
  SUBJECT_AFFECT,
  sceneEmotion,
  WEATHER_AFFECT,
} from './affect.js';
export { describeScene } from './describe.js';
export { type RenderSceneOptions, renderScene, validateSceneSpec } from './render.js';
export {
  type SampleForEmotionOptions,
  type SampleSceneOptions,
  sampleScene,
  sampleSceneForEmotion,
} from './sample.js';
export * from './spec.js';
