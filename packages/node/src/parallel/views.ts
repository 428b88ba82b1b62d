import {
  EmoFeedbackError,
  type EmoFlowGenerator,
  InvalidArgumentError,
  type RgbImage,
  type TrainableGenerator,
} from '@emofeedback/core';
import type { EmotionEvaluator } from '@emofeedback/reward';
import type { LocalEvaluatorKind } from './protocol.js';
import type { ParallelSampler } from './sampler.js';

/**
 * A {@link TrainableGenerator} that samples trajectories with a {@link ParallelSampler} (syncing
 * the adapters first) and does everything else (re-scoring, gradients) with `generator`.
 * Pass it to `grpoIteration` or `EmoFeedbackTrainer` to sample GRPO groups on every core.
 */
export function withParallelSampling(
  generator: EmoFlowGenerator,
  sampler: ParallelSampler,
): TrainableGenerator<EmoFlowGenerator['config']> {
  return {
    get id() {
      return generator.id;
    },
    get config() {
      return generator.config;
    },
    get adaptersEnabled() {
      return generator.adaptersEnabled;
    },
    generate: async (request, options) => {
      await sampler.sync();
      return sampler.generate(request, options);
    },
    sampleTrajectories: async (request, options) => {
      await sampler.sync();
      return sampler.sampleTrajectories(request, options);
    },
    scoreTrajectory: (trajectory, options) => generator.scoreTrajectory(trajectory, options),
    trainableVariables: () => generator.trainableVariables(),
    setAdaptersEnabled: (enabled) => generator.setAdaptersEnabled(enabled),
    withAdaptersDisabled: (fn) => generator.withAdaptersDisabled(fn),
  };
}

/**
 * A shipped local evaluator (`reward` or `judge`) whose batches are scored by the sampler's
 * workers; the images may be any size the evaluator takes.
 */
export function parallelLocalEvaluator(
  sampler: ParallelSampler,
  evaluator: LocalEvaluatorKind = 'reward',
): EmotionEvaluator {
  return {
    id: `parallel:${evaluator}`,
    evaluate: async (images, options) => {
      if (options?.signal?.aborted) throw new EmoFeedbackError('ABORTED', 'Evaluation was aborted.');
      if (!Array.isArray(images)) {
        throw new InvalidArgumentError('images', 'expected an array of images (not a tensor).');
      }
      return sampler.evaluate(images as RgbImage[], evaluator);
    },
  };
}
