export type {
  Candidate,
  Critique,
  CritiqueInput,
  CritiqueOptions,
  PromptCritic,
  RoundSummary,
} from './critic.js';
export { createLocalCritic } from './default-critic.js';
export { DEFAULT_LEXICON, DEFAULT_LEXICON_SOURCE } from './lexicon.generated.js';
export {
  type DescriptorEffect,
  type DescriptorEffectAt,
  effectAt,
  LocalPromptCritic,
  type LocalPromptCriticOptions,
} from './local-critic.js';
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
export {
  type CriticImageOptions,
  createLvlmCritic,
  createOpenAICompatibleCritic,
  type LvlmCritic,
  LvlmCriticError,
  type LvlmCriticMetricsSnapshot,
  type LvlmCriticOptions,
  type OpenAICompatibleCriticOptions,
  type SubjectGuard,
  selectCriticImages,
} from './lvlm-critic.js';
export {
  type CriticImage,
  type CriticMessageBuilder,
  type CriticMessagePart,
  type CriticPromptContext,
  captionImage,
  contentWords,
  DEFAULT_CRITIC_SYSTEM,
  defaultCriticMessage,
  defaultSubjectReminder,
  formatEmotion,
  missingWords,
  normalizeWord,
  STOP_WORDS,
  type SubjectReminderBuilder,
} from './lvlm-critic-prompt.js';
