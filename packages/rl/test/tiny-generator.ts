import { createEmoFlowGenerator, type EmoFlowGenerator } from '@emofeedback/core';

/** A tiny generator config (8×8 images) so GRPO's mechanics are tested exactly and fast. */
export const TINY = {
  imageSize: 8,
  channels: [8, 8, 8] as [number, number, number],
  attentionDim: 8,
  heads: 2,
  condDim: 16,
  timeFeatures: 8,
  groups: 4,
  text: { vocabulary: ['a', 'red', 'sun', 'dark', 'sea'], hashBuckets: 8, maxTokens: 6, dim: 8 },
  emotion: { fourierFeatures: 2, hidden: 8, tokens: 2 },
};

/** The tiny generator with rank-2 adapters (seed 5), its base weights from `seed`. */
export const tinyGenerator = (seed = 3): EmoFlowGenerator =>
  createEmoFlowGenerator({ ...TINY, seed }, { lora: { rank: 2, seed: 5 } });
