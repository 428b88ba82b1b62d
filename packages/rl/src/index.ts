export { type GroupAdvantageOptions, type GroupAdvantages, groupAdvantages } from './advantages.js';
export {
  CheckpointManager,
  type CheckpointStore,
  checkpointIteration,
  checkpointName,
  MemoryCheckpointStore,
} from './checkpoint-store.js';
export { ExponentialMovingAverage } from './ema.js';
export {
  DEFAULT_GRPO,
  epochMicroBatches,
  type GrpoConfig,
  type GrpoIterationArgs,
  type GrpoIterationMetrics,
  type GrpoIterationPlan,
  type GrpoIterationRunner,
  GrpoLossTotals,
  type GrpoStepTerms,
  grpoConfig,
  grpoIteration,
  grpoIterationMetrics,
  grpoStepGradients,
  planGrpoIteration,
  sampleAdvantages,
  storedLogProbs,
  type TrainingTarget,
} from './grpo.js';
export { type PpoClipTerms, ppoClipLoss } from './ppo.js';
export { DEFAULT_HELD_OUT_PROMPTS, DEFAULT_TRAINING_PROMPTS, gridTargets } from './prompts.js';
export {
  defaultReward,
  fromCompositeReward,
  type RewardBatch,
  type RewardFunction,
} from './reward-function.js';
export {
  EmoFeedbackTrainer,
  type EmoFeedbackTrainerOptions,
  type JudgedErrors,
  judgedErrors,
  type TrainerEvent,
} from './trainer.js';
