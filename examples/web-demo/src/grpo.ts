import { type EmoFlowGenerator, type Emotion, emotionDistance, type RgbImage } from '@emofeedback/core';
import type { EmotionEvaluator } from '@emofeedback/reward';
import { EmoFeedbackTrainer, type RewardFunction, type TrainerEvent } from '@emofeedback/rl';
import { IndexedDbCheckpointStore } from '@emofeedback/web';

/** GRPO settings the panel exposes. */
export interface GrpoSettings {
  readonly iterations: number;
  readonly groupSize: number;
  readonly steps: number;
  readonly learningRate: number;
}

/**
 * The reward of the demo: minus the distance between the evaluator's reading and the target on
 * the valence-arousal plane (NaN where an image could not be scored).
 */
export function emotionReward(evaluator: EmotionEvaluator): RewardFunction {
  return {
    id: `demo:-distance(${evaluator.id})`,
    async score(images: readonly RgbImage[], targets: readonly Emotion[]) {
      const evaluations = await evaluator.evaluate(images);
      const distance = evaluations.map((e, i) =>
        e.ok ? emotionDistance(e, targets[i] as Emotion) : Number.NaN,
      );
      return { rewards: distance.map((d) => -d), components: { distance } };
    },
  };
}

const DATABASE = 'emofeedback-demo-grpo';

/**
 * Fine-tunes the generator's LoRA adapters in the tab. One trainer per target and prompt: asking
 * again for the same pair continues the run; a new pair starts a fresh one (and clears the
 * IndexedDB checkpoints of the previous run).
 */
export class GrpoSession {
  private trainer: EmoFeedbackTrainer | null = null;
  private key = '';
  private listener: ((event: TrainerEvent) => void) | null = null;
  private readonly store = new IndexedDbCheckpointStore(DATABASE);

  constructor(
    private readonly generator: EmoFlowGenerator,
    private readonly evaluator: EmotionEvaluator,
  ) {}

  /** Runs `settings.iterations` more iterations on (prompt, target). */
  async train(
    prompt: string,
    target: Emotion,
    settings: GrpoSettings,
    onEvent: (event: TrainerEvent) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const key = JSON.stringify([prompt, target, settings.groupSize, settings.steps, settings.learningRate]);
    if (!this.trainer || key !== this.key) {
      this.trainer?.dispose();
      for (const name of await this.store.list()) await this.store.remove(name);
      if (!this.generator.adapters) this.generator.attachAdapters({ rank: 4 });
      this.generator.setAdaptersEnabled(true);
      this.trainer = new EmoFeedbackTrainer({
        generator: this.generator,
        evaluator: this.evaluator,
        reward: emotionReward(this.evaluator),
        targets: [{ prompt, emotion: target }],
        grpo: {
          groupsPerIteration: 1,
          groupSize: settings.groupSize,
          steps: settings.steps,
          trainWindow: [0, Math.min(3, settings.steps)],
          stepsPerIteration: 2,
          microBatch: settings.groupSize,
          learningRate: settings.learningRate,
        },
        seed: 0,
        checkpoints: { store: this.store, every: 1, keepLast: 2 },
        onEvent: (event) => this.listener?.(event),
      });
      this.key = key;
    }
    this.generator.setAdaptersEnabled(true);
    this.listener = onEvent;
    try {
      await this.trainer.train({
        iterations: this.trainer.iteration + settings.iterations,
        ...(signal ? { signal } : {}),
      });
    } finally {
      this.listener = null;
    }
  }

  /** Whether generation uses the trained adapters. */
  setAdaptersEnabled(enabled: boolean): void {
    this.generator.setAdaptersEnabled(enabled);
  }
}
