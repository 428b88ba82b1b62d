import type { Emotion, SeededRandom } from '@emofeedback/core';
import { type GroupAdvantages, groupAdvantages } from './advantages.js';
import type { GrpoConfig } from './grpo-config.js';

/** One (prompt, target emotion) pair GRPO trains on. */
export interface TrainingTarget {
  readonly prompt: string;
  readonly emotion: Emotion;
}

/** One iteration's random draws, made in the order every GRPO engine relies on. */
export interface GrpoIterationPlan {
  /** The (prompt, target) of each group. */
  readonly groups: readonly TrainingTarget[];
  /** Per sample (groups × groupSize, group-major). */
  readonly prompts: readonly string[];
  readonly emotions: readonly Emotion[];
  readonly seeds: readonly number[];
  /** The trained timestep indices, ascending. */
  readonly trainSteps: readonly number[];
}

/** Draws an iteration's groups, seeds and trained steps from `rng`. */
export function planGrpoIteration(
  targets: readonly TrainingTarget[],
  config: GrpoConfig,
  rng: SeededRandom,
): GrpoIterationPlan {
  const groups = Array.from({ length: config.groupsPerIteration }, () => rng.choice(targets));
  const prompts = groups.flatMap((g) => Array.from({ length: config.groupSize }, () => g.prompt));
  const emotions = groups.flatMap((g) => Array.from({ length: config.groupSize }, () => g.emotion));
  const seeds = prompts.map(() => rng.nextUint32() >>> 1);
  const window = Array.from(
    { length: config.trainWindow[1] - config.trainWindow[0] },
    (_, i) => config.trainWindow[0] + i,
  );
  const trainSteps = rng
    .shuffle(window)
    .slice(0, Math.min(config.stepsPerIteration, window.length))
    .sort((a, b) => a - b);
  return { groups, prompts, emotions, seeds, trainSteps };
}

/** Per-sample advantages and the samples of the groups that are kept. */
export function sampleAdvantages(
  rewards: readonly number[],
  config: GrpoConfig,
): { advantages: number[]; kept: number[]; stats: GroupAdvantages } {
  const grouped = Array.from({ length: config.groupsPerIteration }, (_, g) =>
    rewards.slice(g * config.groupSize, (g + 1) * config.groupSize),
  );
  const stats = groupAdvantages(grouped, { clip: config.advantageClip, std: config.advantageStd });
  const advantages = stats.advantages.flat();
  const kept = advantages.map((_, i) => i).filter((i) => stats.kept[Math.floor(i / config.groupSize)]);
  return { advantages, kept, stats };
}

/** A micro-batch of an update: its samples, which half-batch they belong to, and their weight. */
export interface GrpoMicroBatch {
  readonly samples: readonly number[];
  /** 0 or 1: the update's samples split by group parity, for the half-batch gradient cosine. */
  readonly half: 0 | 1;
  /** The weight of this micro-batch's (per-sample mean) gradient in the update's gradient. */
  readonly weight: number;
}

/**
 * The Adam updates of one inner epoch: the kept samples (shuffled from `rng`, unless this is the
 * first epoch and `shuffleFirstEpoch` is off) cut into updates of
 * `microBatch × microBatchesPerUpdate` samples. Within an update, samples of even groups come
 * first and those of odd groups after, each half cut into micro-batches: the two halves share no
 * group, so their gradients are independent estimates of the same update.
 */
export function epochUpdates(
  kept: readonly number[],
  epoch: number,
  trainedSteps: number,
  config: GrpoConfig,
  rng: SeededRandom,
): GrpoMicroBatch[][] {
  const order = epoch === 0 && !config.shuffleFirstEpoch ? [...kept] : rng.shuffle(kept);
  const perUpdate = config.microBatch * config.microBatchesPerUpdate;
  const updates: GrpoMicroBatch[][] = [];
  for (let i = 0; i < order.length; i += perUpdate) {
    const chunk = order.slice(i, i + perUpdate);
    const update: GrpoMicroBatch[] = [];
    for (const half of [0, 1] as const) {
      const rows = chunk.filter((s) => Math.floor(s / config.groupSize) % 2 === half);
      for (let j = 0; j < rows.length; j += config.microBatch) {
        const samples = rows.slice(j, j + config.microBatch);
        update.push({ samples, half, weight: samples.length / (chunk.length * trainedSteps) });
      }
    }
    updates.push(update);
  }
  return updates;
}
