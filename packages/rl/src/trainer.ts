import {
  emotion as checkEmotion,
  type Emotion,
  InvalidArgumentError,
  SeededRandom,
  type TrainableGenerator,
  tf,
} from '@emofeedback/core';
import {
  type FeedbackEvent,
  type FeedbackTrace,
  type PromptCritic,
  runFeedbackLoop,
} from '@emofeedback/feedback';
import type { EmotionEvaluator, Evaluation } from '@emofeedback/reward';
import { CheckpointManager, type CheckpointStore } from './checkpoint-store.js';
import { type GrpoIterationMetrics, type GrpoIterationRunner, grpoIteration } from './grpo.js';
import { type GrpoConfig, grpoConfig } from './grpo-config.js';
import type { GrpoEngine } from './grpo-engine.js';
import type { TrainingTarget } from './grpo-plan.js';
import { type JudgedErrors, judgedErrors } from './judged.js';
import { QualityGuard, type QualityGuardOptions } from './quality-guard.js';
import type { RewardFunction } from './reward-function.js';
import { packTensors, unpackTensors } from './state-codec.js';

/** Events streamed by {@link EmoFeedbackTrainer.train}. */
export type TrainerEvent =
  | { readonly type: 'resume'; readonly iteration: number }
  | { readonly type: 'iteration'; readonly iteration: number; readonly metrics: GrpoIterationMetrics }
  | { readonly type: 'evaluation'; readonly iteration: number; readonly judged: JudgedErrors }
  | {
      /** The mean quality component fell more than `qualityGuard.maxDrop` below its first value. */
      readonly type: 'quality-warning';
      readonly iteration: number;
      readonly quality: number;
      readonly baseline: number;
      /** Relative drop, (baseline − quality) / |baseline|. */
      readonly drop: number;
      /** True when the trainer stops because of it (`qualityGuard.action: 'stop'`). */
      readonly stopped: boolean;
    }
  | { readonly type: 'checkpoint'; readonly iteration: number };

export interface EmoFeedbackTrainerOptions {
  /** The generator to fine-tune; only its trainable (LoRA) variables change. */
  readonly generator: TrainableGenerator;
  /** The reward model's evaluator (what the reward reads). */
  readonly evaluator: EmotionEvaluator;
  /** An independent evaluator for held-out evaluation (never the reward's). */
  readonly judge?: EmotionEvaluator;
  /** What GRPO maximises; built from `evaluator` by the caller (see `@emofeedback/reward`). */
  readonly reward: RewardFunction;
  /** The prompt critic for {@link EmoFeedbackTrainer.refine}. */
  readonly critic?: PromptCritic;
  /** The (prompt, target emotion) pairs RL trains on. */
  readonly targets: readonly TrainingTarget[];
  /** Held-out pairs judged every `every` iterations (and before the first). */
  readonly evaluation?: {
    readonly targets: readonly TrainingTarget[];
    readonly every: number;
    readonly seeds?: readonly number[];
  };
  readonly grpo?: Partial<GrpoConfig>;
  /**
   * Where sampling and gradients run; default the main thread. In Node, `workerGrpoEngine` from
   * `@emofeedback/node` uses every core with the same results.
   */
  readonly engine?: GrpoEngine;
  /**
   * Runs each GRPO iteration; default {@link grpoIteration}.
   * @deprecated pass an `engine` instead; kept for runners such as `parallelGrpoRunner`.
   */
  readonly runIteration?: GrpoIterationRunner;
  /** Watches the mean quality component against its value at the first iteration. */
  readonly qualityGuard?: QualityGuardOptions;
  /** Seed of every draw of the run (targets, image seeds, timestep choice). */
  readonly seed?: number;
  /** Where checkpoints go; `train()` resumes from the latest one found there. */
  readonly checkpoints?: {
    readonly store: CheckpointStore;
    readonly every: number;
    readonly keepLast?: number;
  };
  readonly onEvent?: (event: TrainerEvent) => void;
  /** Receives one JSON line per iteration and evaluation (e.g. append to a `.jsonl` file). */
  readonly metricsLog?: (line: string) => void | Promise<void>;
}

interface TrainerState {
  iteration: number;
  rng: [number, number, number, number, number | null];
  /** Adam's running β powers: restored exactly (setWeights recomputes them with pow, which rounds differently). */
  adamBetaPowers?: [number, number];
  /** The quality guard's baseline (the first iteration's mean quality). */
  qualityBaseline?: number | null;
}

interface AdamInternals {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

/**
 * The one import downstream code needs: reward-feedback RL (GRPO on the generator's flow SDE)
 * with `train()`, and self-promotion textual feedback on the fine-tuned generator with
 * `refine()`. Checkpoints are atomic and resumable: a run killed and resumed continues exactly
 * as an uninterrupted run with the same seed.
 */
export class EmoFeedbackTrainer {
  readonly config: GrpoConfig;
  private readonly optimizer: tf.Optimizer;
  private readonly rng: SeededRandom;
  private readonly manager: CheckpointManager | null;
  private iterationCount = 0;
  private resumed = false;
  private readonly guard: QualityGuard;

  constructor(private readonly options: EmoFeedbackTrainerOptions) {
    if (!options.targets?.length)
      throw new InvalidArgumentError('targets', 'RL needs at least one (prompt, emotion) target.');
    options.targets.forEach((t, i) => {
      if (!t.prompt?.trim()) throw new InvalidArgumentError(`targets[${i}].prompt`, 'is empty.');
      checkEmotion(t.emotion, `targets[${i}].emotion`);
    });
    if (
      options.evaluation &&
      !(Number.isInteger(options.evaluation.every) && options.evaluation.every >= 1)
    ) {
      throw new InvalidArgumentError(
        'evaluation.every',
        `expected a positive integer, got ${options.evaluation.every}.`,
      );
    }
    if (options.judge && options.judge === options.evaluator) {
      throw new InvalidArgumentError(
        'judge',
        'must be independent of the reward evaluator (pass a different evaluator).',
      );
    }
    if (options.generator.trainableVariables().length === 0) {
      throw new InvalidArgumentError('generator', 'has no trainable variables; attach LoRA adapters first.');
    }
    this.config = grpoConfig(options.grpo);
    this.optimizer = tf.train.adam(this.config.learningRate);
    this.rng = new SeededRandom(options.seed ?? 0);
    this.guard = new QualityGuard(options.qualityGuard);
    this.manager = options.checkpoints
      ? new CheckpointManager(options.checkpoints.store, options.checkpoints.keepLast ?? 3)
      : null;
  }

  /** Iterations completed so far (including those of a resumed run). */
  get iteration(): number {
    return this.iterationCount;
  }

  /**
   * Runs GRPO until `iterations` have completed in total (resuming from the latest checkpoint),
   * the signal aborts, or the quality guard stops the run (`stoppedBy: 'quality'`).
   */
  async train(args: { iterations: number; signal?: AbortSignal }): Promise<{
    iterations: number;
    history: GrpoIterationMetrics[];
    stoppedBy?: 'quality';
  }> {
    if (!Number.isInteger(args.iterations) || args.iterations < 0) {
      throw new InvalidArgumentError('iterations', `expected an integer ≥ 0, got ${args.iterations}.`);
    }
    if (!this.resumed) {
      this.resumed = true;
      const latest = await this.manager?.latest();
      if (latest !== null && latest !== undefined) {
        await this.restore(latest);
        this.options.onEvent?.({ type: 'resume', iteration: latest });
      }
    }
    const history: GrpoIterationMetrics[] = [];
    const evaluation = this.options.evaluation;
    if (evaluation && this.iterationCount === 0 && this.options.judge) await this.reportEvaluation(0);
    while (this.iterationCount < args.iterations) {
      if (args.signal?.aborted) break;
      // An abort (e.g. a time budget) discards the iteration in flight and rewinds its random
      // draws, so the trainer's state stays that of the last completed iteration.
      const rngBefore = this.rng.getState();
      let metrics: GrpoIterationMetrics;
      try {
        metrics = await (this.options.runIteration ?? grpoIteration)({
          generator: this.options.generator,
          reward: this.options.reward,
          optimizer: this.optimizer,
          targets: this.options.targets,
          config: this.config,
          rng: this.rng,
          ...(this.options.engine ? { engine: this.options.engine } : {}),
          ...(args.signal ? { signal: args.signal } : {}),
        });
      } catch (error) {
        if (args.signal?.aborted) {
          this.rng.setState(rngBefore);
          break;
        }
        throw error;
      }
      this.iterationCount++;
      history.push(metrics);
      this.options.onEvent?.({ type: 'iteration', iteration: this.iterationCount, metrics });
      await this.options.metricsLog?.(
        JSON.stringify({ type: 'iteration', iteration: this.iterationCount, ...metrics }),
      );
      if (evaluation && this.options.judge && this.iterationCount % evaluation.every === 0) {
        await this.reportEvaluation(this.iterationCount);
      }
      // Before the checkpoint, so that the baseline the guard records is saved with it.
      const warning = this.guard.check(metrics);
      if (warning) {
        const event = { type: 'quality-warning' as const, iteration: this.iterationCount, ...warning };
        this.options.onEvent?.(event);
        await this.options.metricsLog?.(JSON.stringify(event));
      }
      const every = this.options.checkpoints?.every;
      if (this.manager && every && this.iterationCount % every === 0) {
        await this.save();
        this.options.onEvent?.({ type: 'checkpoint', iteration: this.iterationCount });
      }
      if (warning?.stopped) return { iterations: this.iterationCount, history, stoppedBy: 'quality' };
    }
    return { iterations: this.iterationCount, history };
  }

  private async reportEvaluation(iteration: number): Promise<void> {
    const ev = this.options.evaluation;
    if (!ev || !this.options.judge) return;
    const judged = await this.judge(ev.targets, { seeds: ev.seeds });
    this.options.onEvent?.({ type: 'evaluation', iteration, judged });
    await this.options.metricsLog?.(JSON.stringify({ type: 'evaluation', iteration, ...judged }));
  }

  /**
   * Judged V-Error and A-Error of the generator (deterministic ODE sampling) on `targets`,
   * read by the judge (or another evaluator you pass).
   */
  async judge(
    targets: readonly TrainingTarget[],
    options: { seeds?: readonly number[]; evaluator?: EmotionEvaluator; batch?: number } = {},
  ): Promise<JudgedErrors> {
    const evaluator = options.evaluator ?? this.options.judge;
    if (!evaluator) throw new InvalidArgumentError('judge', 'no judge evaluator was configured.');
    const seeds = options.seeds ?? targets.map((_, i) => 1000 + i);
    const batch = options.batch ?? 25;
    const evaluations: Evaluation[] = [];
    for (let start = 0; start < targets.length; start += batch) {
      const chunk = targets.slice(start, start + batch);
      const images = await this.options.generator.generate({
        prompts: chunk.map((t) => t.prompt),
        emotions: chunk.map((t) => t.emotion),
        seeds: chunk.map((_, i) => seeds[(start + i) % seeds.length] as number),
      });
      evaluations.push(...(await evaluator.evaluate(images)));
    }
    return judgedErrors(
      evaluations,
      targets.map((t) => t.emotion),
    );
  }

  /** Self-promotion textual feedback on the (fine-tuned) generator. */
  async refine(args: {
    prompt: string;
    target: Emotion;
    rounds?: number;
    imagesPerRound?: number;
    seed?: number;
    critic?: PromptCritic;
    signal?: AbortSignal;
    onEvent?: (event: FeedbackEvent) => void;
  }): Promise<FeedbackTrace> {
    const critic = args.critic ?? this.options.critic;
    if (!critic)
      throw new InvalidArgumentError(
        'critic',
        'refine() needs a prompt critic (pass one here or to the trainer).',
      );
    return runFeedbackLoop({
      generator: this.options.generator,
      evaluator: this.options.evaluator,
      critic,
      prompt: args.prompt,
      target: args.target,
      rounds: args.rounds,
      imagesPerRound: args.imagesPerRound,
      seed: args.seed,
      signal: args.signal,
      onEvent: args.onEvent,
    });
  }

  /** Writes a checkpoint of the trainable weights, the optimizer and the random state now. */
  async save(): Promise<void> {
    if (!this.manager) throw new InvalidArgumentError('checkpoints', 'no checkpoint store was configured.');
    const variables = this.options.generator.trainableVariables();
    // Positional names: tfjs names unnamed variables by a process-wide counter, which differs
    // between the run that saves and the run that resumes.
    const weights = await packTensors(variables.map((v, i) => ({ name: `trainable/${i}`, tensor: v })));
    const optimizerWeights = await this.optimizer.getWeights();
    const optimizer = await packTensors(optimizerWeights.map((w) => ({ name: w.name, tensor: w.tensor })));
    const state: TrainerState & {
      weights: typeof weights.index;
      optimizer: typeof optimizer.index;
      config: GrpoConfig;
    } = {
      iteration: this.iterationCount,
      rng: this.rng.getState(),
      adamBetaPowers: this.betaPowers(),
      qualityBaseline: this.guard.baseline,
      weights: weights.index,
      optimizer: optimizer.index,
      config: this.config,
    };
    await this.manager.save(this.iterationCount, {
      'state.json': new TextEncoder().encode(JSON.stringify(state)),
      'weights.bin': weights.bytes,
      'optimizer.bin': optimizer.bytes,
    });
  }

  private async restore(iteration: number): Promise<void> {
    const manager = this.manager as CheckpointManager;
    const state = JSON.parse(
      new TextDecoder().decode(await manager.read(iteration, 'state.json')),
    ) as TrainerState & {
      weights: Parameters<typeof unpackTensors>[0];
      optimizer: Parameters<typeof unpackTensors>[0];
    };
    const weights = unpackTensors(state.weights, await manager.read(iteration, 'weights.bin'), 'weights.bin');
    const optimizer = unpackTensors(
      state.optimizer,
      await manager.read(iteration, 'optimizer.bin'),
      'optimizer.bin',
    );
    const variables = this.options.generator.trainableVariables();
    try {
      if (weights.size !== variables.length) {
        throw new InvalidArgumentError(
          'checkpoint',
          `holds ${weights.size} trainable tensors; the generator has ${variables.length} (another LoRA configuration?).`,
        );
      }
      variables.forEach((v, i) => {
        const w = weights.get(`trainable/${i}`);
        if (!w || w.shape.join() !== v.shape.join()) {
          throw new InvalidArgumentError(
            'checkpoint',
            `trainable tensor ${i} has shape [${w?.shape ?? 'missing'}]; the generator's is [${v.shape}].`,
          );
        }
      });
      variables.forEach((v, i) => {
        v.assign(weights.get(`trainable/${i}`) as tf.Tensor);
      });
      await this.optimizer.setWeights([...optimizer.entries()].map(([name, tensor]) => ({ name, tensor })));
      const adam = this.optimizer as unknown as AdamInternals;
      if (state.adamBetaPowers && adam.accBeta1 && adam.accBeta2) {
        adam.accBeta1.assign(tf.scalar(state.adamBetaPowers[0]));
        adam.accBeta2.assign(tf.scalar(state.adamBetaPowers[1]));
      }
    } finally {
      // the optimizer's variables keep their own references to the restored values
      tf.dispose([...weights.values(), ...optimizer.values()]);
    }
    this.rng.setState(state.rng);
    this.iterationCount = state.iteration;
    this.guard.baseline = state.qualityBaseline ?? null;
  }

  private betaPowers(): [number, number] | undefined {
    const adam = this.optimizer as unknown as AdamInternals;
    if (!adam.accBeta1 || !adam.accBeta2) return undefined;
    return [adam.accBeta1.dataSync()[0] as number, adam.accBeta2.dataSync()[0] as number];
  }

  /** Releases the optimizer's state. */
  dispose(): void {
    this.optimizer.dispose();
  }
}
