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
  type FlowMatchingBatch,
  type FlowMatchingOptions,
  FlowMatchingTrainer,
  flowMatchingLoss,
  sampleTimes,
} from './flow-matching.js';
export type {
  ScoreOptions,
  TrainableGenerator,
  Trajectory,
  TrajectoryOptions,
  TrajectoryScores,
} from './trainable.js';
