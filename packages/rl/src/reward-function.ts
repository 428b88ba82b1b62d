import type { Emotion, RgbImage } from '@emofeedback/core';
import {
  type CompositeReward,
  createCompositeReward,
  emotionComponent,
  type LocalEvaluator,
  qualityComponent,
} from '@emofeedback/reward';

/** Rewards of a batch of generated images, with every component for logging. */
export interface RewardBatch {
  /** The scalar reward per image; NaN where it could not be computed (a failed evaluation). */
  readonly rewards: readonly number[];
  /** Each component per image, by name (e.g. `emotion`, `quality`). */
  readonly components: Readonly<Record<string, readonly number[]>>;
}

/**
 * What GRPO maximises: a reward per generated image given its target emotion and prompt.
 * `@emofeedback/reward`'s composite reward (emotion + quality) is the default.
 */
export interface RewardFunction {
  readonly id: string;
  score(
    images: readonly RgbImage[],
    targets: readonly Emotion[],
    prompts: readonly string[],
  ): Promise<RewardBatch>;
}

/**
 * Adapts `@emofeedback/reward`'s composite reward to GRPO: the weighted total per image (NaN
 * where an evaluation failed, so GRPO leaves the image out) and each component's raw values.
 */
export function fromCompositeReward(composite: CompositeReward, id = 'composite'): RewardFunction {
  return {
    id,
    async score(images, targets) {
      const result = await composite.compute(images, targets);
      const rewards = Array.from(result.total, (v, i) => (result.valid[i] ? v : Number.NaN));
      const components: Record<string, number[]> = {};
      for (const [name, c] of Object.entries(result.components)) {
        components[name] = Array.from(c.raw, (v, i) => (c.valid[i] ? v : Number.NaN));
      }
      return { rewards, components };
    },
  };
}

/**
 * The EmoFeedback² reward on the embedded default: the negative L1 distance between the local
 * evaluator's reading and the target, plus a quality term (weight `qualityWeight`, default 0.5)
 * that scores images far from natural-image features lower, against reward hacking.
 */
export function defaultReward(
  evaluator: LocalEvaluator,
  options: { qualityWeight?: number } = {},
): RewardFunction {
  return fromCompositeReward(
    createCompositeReward({
      evaluator,
      components: [
        emotionComponent({ kind: 'l1' }),
        qualityComponent(evaluator, { weight: options.qualityWeight ?? 0.5 }),
      ],
    }),
    'emotion-l1+quality',
  );
}
