export {
  createEmoFlowGenerator,
  DEFAULT_SAMPLING,
  type EmoFlowGenerateOptions,
  EmoFlowGenerator,
  type EmoFlowGeneratorOptions,
  type SamplingDefaults,
  validateGenerationRequest,
} from './emoflow.js';
export {
  type Conditioning,
  concatConditioning,
  DEFAULT_VOCABULARY,
  type DropSpec,
  disposeConditioning,
  type EmoFlowConfig,
  EmoFlowModel,
  emoFlowConfig,
} from './emoflow-model.js';
export {
  drawFlowMatching,
  type FlowMatchingBatch,
  type FlowMatchingDraws,
  type FlowMatchingOptions,
  FlowMatchingTrainer,
  flowMatchingImages,
  flowMatchingLoss,
  flowMatchingLossWith,
  sampleTimes,
} from './flow-matching.js';
export type {
  ScoreOptions,
  TrainableGenerator,
  Trajectory,
  TrajectoryOptions,
  TrajectoryScores,
} from './trainable.js';
