import { DEFAULT_LEXICON } from './lexicon.generated.js';
import { LocalPromptCritic, type LocalPromptCriticOptions } from './local-critic.js';

/** The offline default critic: {@link LocalPromptCritic} with the measured lexicon. */
export function createLocalCritic(options: Partial<LocalPromptCriticOptions> = {}): LocalPromptCritic {
  return new LocalPromptCritic({ lexicon: DEFAULT_LEXICON, ...options });
}
