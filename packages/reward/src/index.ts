export {
  type AxisCorrection,
  type CalibrateOptions,
  type CalibrationReport,
  calibrate,
  fitLinearCorrection,
  type LinearCorrection,
  type RatedImageInput,
  withLinearCorrection,
} from './calibration.js';
export type {
  EmotionEvaluator,
  EvaluateOptions,
  Evaluation,
  EvaluationFailureKind,
  FailedEvaluation,
  ScoredEvaluation,
} from './evaluator.js';
export {
  acquireBackbone,
  BACKBONES,
  type Backbone,
  type BackboneLease,
  type BackboneName,
} from './local/backbone.js';
export {
  createLocalEvaluatorFromHead,
  type LocalEvaluator,
  type LocalEvaluatorOptions,
  type LocalScoreOptions,
  type LocalScores,
} from './local/evaluator.js';
export { createLocalEvaluator, createLocalJudge } from './local/factories.js';
export {
  decodeHead,
  encodeFloat32Base64,
  type FeatureTransform,
  type LocalHead,
  type SerializedHead,
} from './local/head.js';
export { IMAGE_STAT_NAMES, imageStatistics, STATS_SIZE } from './local/image-stats.js';
export * from './lvlm/index.js';
export {
  type AxisMetrics,
  axisMetrics,
  ccc,
  formatInterval,
  type Interval,
  mae,
  pairedDifference,
  pearson,
  rmse,
  slopeInterval,
  spearman,
  spearmanInterval,
  type TargetAgreement,
  targetAgreement,
} from './metrics.js';
export * from './remote/index.js';
export {
  type ComponentResult,
  type CompositeReward,
  type CompositeRewardOptions,
  type CompositeRewardResult,
  createCompositeReward,
  emotionComponent,
  qualityComponent,
  type RewardComponent,
  type RewardContext,
  type RewardNormalization,
} from './rewards/composite.js';
export {
  type EmotionRewardKind,
  type EmotionRewardOptions,
  emotionReward,
  type RewardValues,
} from './rewards/emotion.js';
export {
  DEFAULT_GUARD_REFERENCE,
  type GuardComponent,
  type GuardReference,
  guardDistance,
  guardDistances,
  guardFeatures,
  guardPenalty,
  validateGuardReference,
} from './rewards/guard.js';
export { type FitGuardOptions, fitGuardReference, type GuardSample } from './rewards/guard-fit.js';
export {
  GUARD_SIZE,
  GUARD_STAT_NAMES,
  guardStatistics,
  guardStatisticsBatch,
} from './rewards/guard-stats.js';
export {
  type QualityRewardOptions,
  type QualityValues,
  qualityFromScores,
  qualityReward,
} from './rewards/quality.js';
