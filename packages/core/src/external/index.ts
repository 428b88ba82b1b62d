export { base64ToBytes, decodeImage, resizeImage } from './decode.js';
export {
  defaultEmotionPrompt,
  type EmotionPromptTemplate,
  emotionPhrase,
  nearestAffectWord,
} from './emotion-prompt.js';
export {
  fromImageModel,
  type ImageModelCallOptions,
  type ImageModelGeneratorOptions,
  type ImageModelLike,
  redactSecrets,
} from './image-model.js';
