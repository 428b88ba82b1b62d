import type { ImageBatch, RgbImage } from '@emofeedback/core';
import type { EmotionEvaluator, Evaluation } from '@emofeedback/reward';

/** Wraps an evaluator so that every scored batch is also reported to `onScored`. */
export function recordingEvaluator(
  inner: EmotionEvaluator,
  onScored: (images: readonly RgbImage[], evaluations: readonly Evaluation[]) => void,
): EmotionEvaluator {
  return {
    id: inner.id,
    async evaluate(images: ImageBatch, options) {
      const evaluations = await inner.evaluate(images, options);
      if (Array.isArray(images)) onScored(images as readonly RgbImage[], evaluations);
      return evaluations;
    },
  };
}
