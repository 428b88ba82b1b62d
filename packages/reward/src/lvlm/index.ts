export {
  createLvlmEvaluator,
  type LvlmEvaluator,
  type LvlmEvaluatorOptions,
} from './evaluator.js';
export {
  createOpenAICompatibleEvaluator,
  type OpenAICompatibleEvaluatorOptions,
} from './openai-compatible.js';
export { encodeImagePng, type LvlmImageOptions, upscaleFactor } from './png.js';
export {
  DEFAULT_LVLM_PROMPT,
  DEFAULT_LVLM_SYSTEM,
  type LvlmPrompt,
  type LvlmPromptContext,
  type LvlmRatingScale,
  lvlmScale,
  renderLvlmPrompt,
} from './prompt.js';
