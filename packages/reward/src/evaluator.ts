import type { ImageBatch } from '@emofeedback/core';

/**
 * Why an evaluator could not score one image. Remote evaluators report these instead of
 * throwing, so that one bad reply never kills a training run, and count them in their metrics.
 */
export type EvaluationFailureKind =
  | 'timeout'
  | 'rate_limited'
  | 'server_error'
  | 'network'
  | 'invalid_json'
  | 'schema'
  | 'refusal'
  | 'out_of_range'
  | 'other';

/** An image's score on the canonical [-3, 3] scale, with the evaluator's reasoning if it gives one. */
export interface ScoredEvaluation {
  readonly ok: true;
  readonly valence: number;
  readonly arousal: number;
  readonly rationale?: string;
}

/** An image the evaluator could not score, and why. Never silently a score of 0. */
export interface FailedEvaluation {
  readonly ok: false;
  readonly failure: EvaluationFailureKind;
  readonly message: string;
}

/** One evaluation per input image, in input order. */
export type Evaluation = ScoredEvaluation | FailedEvaluation;

export interface EvaluateOptions {
  /** Cancels outstanding work; already-finished images keep their results. */
  readonly signal?: AbortSignal;
}

/**
 * Reads images and says their valence and arousal: the "LVLM" of EmoFeedback². Batch-first
 * and async. Implementations: the local evaluators (a frozen backbone plus a trained head,
 * offline) and the LVLM evaluator (any Vercel AI SDK language model).
 */
export interface EmotionEvaluator {
  /** A stable identifier, e.g. `local:mobilenet-v2/oasis-bass@1`; written into reports. */
  readonly id: string;
  /** Scores every image of the batch. Rejects only on bad input (typed errors), never per image. */
  evaluate(images: ImageBatch, options?: EvaluateOptions): Promise<Evaluation[]>;
  /** Releases tensors or connections the evaluator holds. */
  dispose?(): void;
}
