import { createEmbeddedGenerator, type EmoFlowGenerator } from '@emofeedback/core';
import { LocalPromptCritic, type PromptCritic } from '@emofeedback/feedback';
import { createLocalEvaluator, type EmotionEvaluator } from '@emofeedback/reward';
import { sceneLexicon } from './lexicon.js';

/** What the demo runs: the shipped generator, the local evaluator and the offline critic. */
export interface Engine {
  /** The shipped generator (trainable: GRPO attaches LoRA adapters to it). */
  readonly generator: EmoFlowGenerator;
  readonly evaluator: EmotionEvaluator;
  readonly critic: PromptCritic;
  /** One line for the status bar. */
  readonly description: string;
}

/** Loads the models once the backend is chosen (their weights live on that backend). */
export async function loadEngine(): Promise<Engine> {
  const [generator, evaluator] = await Promise.all([createEmbeddedGenerator(), createLocalEvaluator()]);
  const critic = new LocalPromptCritic({ lexicon: sceneLexicon() });
  return {
    generator,
    evaluator,
    critic,
    description: `${generator.id} with ${evaluator.id} and ${critic.id}`,
  };
}
