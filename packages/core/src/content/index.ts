export {
  type ContentClassifier,
  type ContentClassifierOptions,
  type ContentPrediction,
  createContentClassifier,
} from './classifier.js';
export {
  CONTENT_INPUT_SIZE,
  type ContentParams,
  type ContentWeights,
  contentLogits,
  contentParamShapes,
  decodeContentWeights,
  encodeContentWeights,
  initContentParams,
  resizeForContent,
  standardiseImages,
} from './model.js';
export { CONTENT_WEIGHTS_ACCURACY } from './weights.generated.js';
