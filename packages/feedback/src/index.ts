export type {
  Candidate,
  Critique,
  CritiqueInput,
  CritiqueOptions,
  PromptCritic,
  RoundSummary,
} from './critic.js';
export { type DescriptorEffect, LocalPromptCritic, type LocalPromptCriticOptions } from './local-critic.js';
export {
  bestOfN,
  type FeedbackEvent,
  type FeedbackLoopOptions,
  type FeedbackTrace,
  loopSeeds,
  type RoundRecord,
  runFeedbackLoop,
  type StopReason,
} from './loop.js';
