import type { Emotion } from '../emotion.js';
import type { RgbImage } from '../image.js';
import type { LogProbReduction } from '../samplers/sde.js';
import type { tf } from '../tf.js';
import type { GenerateOptions, GenerationRequest, Generator } from './generator.js';

/** Options of {@link TrainableGenerator.sampleTrajectories}. */
export interface TrajectoryOptions extends Omit<GenerateOptions, 'steps'> {
  /** SDE steps (default: the generator's default). */
  readonly steps?: number;
  /** The SDE noise level `a` (Flow-GRPO: 0.7). Must be > 0 for log-probs to exist. */
  readonly noiseLevel?: number;
  /** SD3-style timestep shift of the grid (1 = uniform). */
  readonly shift?: number;
}

/**
 * A sampled SDE trajectory: everything needed to re-score it later under changed weights.
 * Arrays are plain (no tensors), so trajectories can be kept, shuffled and sliced freely.
 */
export interface Trajectory {
  readonly prompts: readonly string[];
  readonly emotions: readonly Emotion[];
  readonly seeds: readonly number[];
  /** The time grid, `steps + 1` values from 1 to 0. */
  readonly timesteps: readonly number[];
  readonly noiseLevel: number;
  readonly guidanceScale: number;
  readonly reduction: LogProbReduction;
  /** Shape of one latent, `[H, W, 3]`. */
  readonly latentShape: readonly [number, number, number];
  /** `steps + 1` arrays, each `[batch, H, W, 3]` flattened: x at timesteps[0] (noise) … x_0. */
  readonly latents: readonly Float32Array[];
  /** `steps` arrays of `[batch]` float32 log-probs of each transition latents[i] → latents[i+1]. */
  readonly logProbs: readonly Float32Array[];
  /** The final images, in [0, 1]. */
  readonly images: readonly RgbImage[];
}

/** Which transitions of a trajectory to re-score. */
export interface ScoreOptions {
  /** Step indices i (transition latents[i] → latents[i+1]), each in [0, steps). */
  readonly steps: readonly number[];
  /** Sample (row) indices to score; default all. */
  readonly samples?: readonly number[];
  /**
   * Under classifier-free guidance, treat the unconditional velocity as a constant of the
   * gradient (the values are unchanged), so that training moves only the conditional branch.
   * Default false.
   */
  readonly detachUnconditional?: boolean;
}

/**
 * Log-probs of stored transitions under the current weights. Tensors are differentiable
 * with respect to {@link TrainableGenerator.trainableVariables}; the caller disposes them
 * (or builds them inside `tf.tidy` / `tf.variableGrads`).
 */
export interface TrajectoryScores {
  /** `[steps.length, samples.length]` log-probs (PPO: ratio = exp(new − old)). */
  readonly logProbs: tf.Tensor2D;
  /** `[steps.length, samples.length, H, W, 3]` transition means (Flow-GRPO's KL term). */
  readonly means: tf.Tensor;
  /** Transition standard deviation of each scored step. */
  readonly stds: readonly number[];
}

/**
 * A generator whose adapter weights can be fine-tuned from rewards (Flow-GRPO): it samples SDE
 * trajectories with per-step log-probs, re-scores them differentiably, exposes its trainable
 * (LoRA) variables, and can run with adapters off as the frozen KL reference.
 */
export interface TrainableGenerator<Config = unknown> extends Generator {
  /** The network's configuration (written into checkpoints). */
  readonly config: Config;
  /** Samples with the SDE sampler, storing per-step latents and log-probs. */
  sampleTrajectories(request: GenerationRequest, options?: TrajectoryOptions): Promise<Trajectory>;
  /**
   * Re-scores stored transitions under the current weights (same conditioning, guidance and
   * noise level as when sampled). Unchanged weights give the stored log-probs back.
   * @throws InvalidArgumentError for step or sample indices out of range, or a noise level of 0.
   */
  scoreTrajectory(trajectory: Trajectory, options: ScoreOptions): TrajectoryScores;
  /** The variables fine-tuning may change: the LoRA adapters only. */
  trainableVariables(): tf.Variable[];
  /** Switches adapters on or off; off runs the base network (the KL reference). */
  setAdaptersEnabled(enabled: boolean): void;
  /** Whether adapters are applied now. */
  readonly adaptersEnabled: boolean;
  /** Runs `fn` with adapters off, restoring the previous state afterwards (also on errors). */
  withAdaptersDisabled<T>(fn: () => T): T;
}
