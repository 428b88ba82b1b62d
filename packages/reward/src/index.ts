export type {
  EmotionEvaluator,
  EvaluateOptions,
  Evaluation,
  EvaluationFailureKind,
  FailedEvaluation,
  ScoredEvaluation,
} from './evaluator.js';
