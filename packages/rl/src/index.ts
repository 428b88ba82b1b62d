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
  applyAdamW,
  type GrpoIterationArgs,
  type GrpoIterationMetrics,
  type GrpoIterationRunner,
  GrpoLossTotals,
  gradientCosine,
  grpoIteration,
  grpoIterationMetrics,
  storedLogProbs,
} from './grpo.js';
export { DEFAULT_GRPO, type GrpoConfig, grpoConfig } from './grpo-config.js';
export {
  type GrpoEngine,
  type GrpoGradients,
  type GrpoGradientTask,
  type GrpoLossSettings,
  type GrpoStepTerms,
  grpoStepGradients,
  mainThreadGrpoEngine,
} from './grpo-engine.js';
export {
  epochUpdates,
  type GrpoIterationPlan,
  type GrpoMicroBatch,
  planGrpoIteration,
  sampleAdvantages,
  type TrainingTarget,
} from './grpo-plan.js';
export { type JudgedErrors, judgedErrors } from './judged.js';
export { type PpoClipTerms, ppoClipLoss } from './ppo.js';
export { DEFAULT_HELD_OUT_PROMPTS, DEFAULT_TRAINING_PROMPTS, gridTargets } from './prompts.js';
export { QualityGuard, type QualityGuardOptions, type QualityWarning } from './quality-guard.js';
export {
  defaultReward,
  fromCompositeReward,
  type RewardBatch,
  type RewardFunction,
} from './reward-function.js';
export { EmoFeedbackTrainer, type EmoFeedbackTrainerOptions, type TrainerEvent } from './trainer.js';
