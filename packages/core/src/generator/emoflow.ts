import type { Emotion } from '../emotion.js';
import { validateEmotions } from '../emotion-encoder.js';
import { InvalidArgumentError } from '../errors.js';
import type { RgbImage } from '../image.js';
import { tensorToImages } from '../image.js';
import type { LoraAdapters, LoraConfig } from '../lora.js';
import { stopGradient } from '../ops.js';
import { SeededRandom } from '../random.js';
import { sampleEuler, type VelocityFn } from '../samplers/euler.js';
import { type LogProbReduction, sampleSde, sdeStepWithLogProb } from '../samplers/sde.js';
import { timestepGrid } from '../samplers/timesteps.js';
import { tf } from '../tf.js';
import {
  type Conditioning,
  concatConditioning,
  disposeConditioning,
  type EmoFlowConfig,
  EmoFlowModel,
  emoFlowConfig,
} from './emoflow-model.js';
import type { GenerateOptions, GenerationRequest } from './generator.js';
import type {
  ScoreOptions,
  TrainableGenerator,
  Trajectory,
  TrajectoryOptions,
  TrajectoryScores,
} from './trainable.js';

/** Sampling settings used when a call does not give its own. Stored with checkpoints. */
export interface SamplingDefaults {
  readonly steps: number;
  /** Classifier-free guidance scale (1 = off). */
  readonly guidanceScale: number;
  /** SD3-style grid shift (1 = uniform). */
  readonly shift: number;
  /** SDE noise level for trajectories (Flow-GRPO: 0.7). */
  readonly noiseLevel: number;
  /** How log-probs are reduced over pixels. */
  readonly reduction: LogProbReduction;
}

/** 10 steps, guidance 1, uniform grid, noise level 0.7, mean-reduced log-probs. */
export const DEFAULT_SAMPLING: SamplingDefaults = {
  steps: 10,
  guidanceScale: 1,
  shift: 1,
  noiseLevel: 0.7,
  reduction: 'mean',
};

/** Options of {@link EmoFlowGenerator.generate}. */
export interface EmoFlowGenerateOptions extends GenerateOptions {
  /** `euler` (deterministic ODE, default) or `sde` (Flow-GRPO's stochastic sampler). */
  readonly sampler?: 'euler' | 'sde';
  /** SDE noise level (only for `sde`). */
  readonly noiseLevel?: number;
  /** SD3-style timestep shift. */
  readonly shift?: number;
}

/** Options of {@link createEmoFlowGenerator}. */
export interface EmoFlowGeneratorOptions {
  /** Sampling defaults (merged over {@link DEFAULT_SAMPLING}). */
  readonly sampling?: Partial<SamplingDefaults>;
  /** Attach LoRA adapters with these settings (they start as a no-op). */
  readonly lora?: Partial<LoraConfig>;
  /** The generator id written into reports; default `emoflow-<size>`. */
  readonly id?: string;
}

function checkNumber(name: string, v: unknown, min: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new InvalidArgumentError(
      name,
      `expected ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${String(v)}.`,
    );
  }
  return v;
}

/**
 * Validates a request: three arrays of the same non-zero length, integer seeds, valid emotions.
 * Prompts are checked by the tokenizer when encoded.
 * @throws InvalidArgumentError or InvalidEmotionError naming the offending entry.
 */
export function validateGenerationRequest(request: GenerationRequest): {
  prompts: string[];
  emotions: Emotion[];
  seeds: number[];
} {
  if (request === null || typeof request !== 'object') {
    throw new InvalidArgumentError('request', 'expected { prompts, emotions, seeds }.');
  }
  const { prompts, emotions, seeds } = request;
  for (const [name, arr] of [
    ['prompts', prompts],
    ['emotions', emotions],
    ['seeds', seeds],
  ] as const) {
    if (!Array.isArray(arr)) throw new InvalidArgumentError(`request.${name}`, 'expected an array.');
  }
  if (prompts.length === 0)
    throw new InvalidArgumentError('request', 'the batch is empty; give at least one prompt.');
  if (emotions.length !== prompts.length || seeds.length !== prompts.length) {
    throw new InvalidArgumentError(
      'request',
      `prompts, emotions and seeds must have the same length; got ${prompts.length}, ${emotions.length} and ${seeds.length}.`,
    );
  }
  seeds.forEach((s, i) => {
    if (!Number.isInteger(s))
      throw new InvalidArgumentError(`seeds[${i}]`, `expected an integer, got ${String(s)}.`);
  });
  prompts.forEach((p, i) => {
    if (typeof p !== 'string')
      throw new InvalidArgumentError(`prompts[${i}]`, `expected a string, got ${typeof p}.`);
  });
  return { prompts: [...prompts], emotions: validateEmotions(emotions), seeds: [...seeds] };
}

/**
 * The SDK's own text + emotion → image generator: an {@link EmoFlowModel} with the Euler and
 * Flow-GRPO SDE samplers. Image i depends only on (prompt i, emotion i, seed i): its noise comes
 * from its own seeded stream, so batching never changes an image.
 */
export class EmoFlowGenerator implements TrainableGenerator<EmoFlowConfig> {
  /** Identifier written into reports. */
  readonly id: string;
  /** The network (velocity model, encoders, adapters). */
  readonly model: EmoFlowModel;
  /** Sampling defaults for calls that do not set their own (a loaded checkpoint sets them). */
  sampling: SamplingDefaults;

  constructor(model: EmoFlowModel, options: EmoFlowGeneratorOptions = {}) {
    this.model = model;
    this.id = options.id ?? `emoflow-${model.config.imageSize}`;
    this.sampling = { ...DEFAULT_SAMPLING, ...options.sampling };
    if (options.lora) model.attachAdapters(options.lora);
  }

  /** The network's configuration (shapes, vocabulary, seed). */
  get config(): EmoFlowConfig {
    return this.model.config;
  }

  /** The attached LoRA adapters, or null. */
  get adapters(): LoraAdapters | null {
    return this.model.adapters;
  }

  /** Whether LoRA adapters are applied now (false when none are attached). */
  get adaptersEnabled(): boolean {
    return this.model.adapters?.enabled ?? false;
  }

  /** Attaches fresh LoRA adapters (B = 0: outputs unchanged until they are trained). */
  attachAdapters(config: Partial<LoraConfig> = {}): LoraAdapters {
    return this.model.attachAdapters(config);
  }

  /** Switches the adapters on or off; off runs the base network (the KL reference). */
  setAdaptersEnabled(enabled: boolean): void {
    if (this.model.adapters) this.model.adapters.enabled = enabled;
  }

  /** Runs `fn` on the base network, restoring the adapter state afterwards (also on errors). */
  withAdaptersDisabled<T>(fn: () => T): T {
    const adapters = this.model.adapters;
    if (!adapters) return fn();
    const before = adapters.enabled;
    adapters.enabled = false;
    try {
      return fn();
    } finally {
      adapters.enabled = before;
    }
  }

  /** The LoRA variables (empty without adapters); base weights are never returned. */
  trainableVariables(): tf.Variable[] {
    return [...(this.model.adapters?.variables.values() ?? [])];
  }

  /** Starting noise x_1 for each seed, and the per-seed streams that continue with SDE noise. */
  initialNoise(seeds: readonly number[]): { noise: tf.Tensor4D; streams: SeededRandom[] } {
    const S = this.config.imageSize;
    const size = S * S * 3;
    const streams = seeds.map((s) => new SeededRandom(s));
    const flat = new Float32Array(seeds.length * size);
    streams.forEach((r, i) => {
      flat.set(r.normalArray(size), i * size);
    });
    return { noise: tf.tensor4d(flat, [seeds.length, S, S, 3]), streams };
  }

  /**
   * Conditioning for a batch; with guidance ≠ 1 the batch is doubled to [cond; null] (null =
   * dropped prompt and emotion, as in condition-dropout training).
   */
  conditioning(
    prompts: readonly string[],
    emotions: readonly Emotion[],
    guidanceScale: number,
  ): Conditioning {
    const cond = this.model.encode(prompts, emotions);
    if (guidanceScale === 1) return cond;
    const all = prompts.map(() => true);
    const nul = this.model.encode(prompts, emotions, { text: all, emotion: all });
    const both = concatConditioning(cond, nul);
    disposeConditioning(cond);
    disposeConditioning(nul);
    return both;
  }

  /**
   * The guided velocity function for a prepared conditioning (see {@link conditioning}); with
   * `detachUnconditional` the unconditional velocity carries no gradient.
   */
  velocityFn(cond: Conditioning, guidanceScale: number, detachUnconditional = false): VelocityFn {
    return (x, t) =>
      tf.tidy(() => {
        if (guidanceScale === 1) return this.model.velocity(x, t, cond);
        const v = this.model.velocity(tf.concat([x, x], 0), t, cond);
        const n = x.shape[0];
        const [vc, split] = tf.split(v, [n, n], 0) as [tf.Tensor4D, tf.Tensor4D];
        const vu = detachUnconditional ? stopGradient(split) : split;
        return tf.add(vu, tf.mul(tf.sub(vc, vu), guidanceScale));
      });
  }

  /**
   * Generates one image per (prompt, emotion, seed). Default sampler: Euler ODE.
   * @throws InvalidArgumentError, InvalidEmotionError for bad input; `ABORTED` when cancelled.
   */
  async generate(request: GenerationRequest, options: EmoFlowGenerateOptions = {}): Promise<RgbImage[]> {
    const { prompts, emotions, seeds } = validateGenerationRequest(request);
    const steps = checkNumber('steps', options.steps ?? this.sampling.steps, 1, true);
    const guidance = checkNumber('guidanceScale', options.guidanceScale ?? this.sampling.guidanceScale, 0);
    const shift = options.shift ?? this.sampling.shift;
    const grid = timestepGrid(steps, shift);
    if (options.sampler === 'sde') {
      const traj = await this.sampleTrajectories(request, {
        steps,
        guidanceScale: guidance,
        shift,
        noiseLevel: options.noiseLevel ?? this.sampling.noiseLevel,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      return [...traj.images];
    }
    if (options.sampler !== undefined && options.sampler !== 'euler') {
      throw new InvalidArgumentError('sampler', `expected 'euler' or 'sde', got ${String(options.sampler)}.`);
    }
    const cond = this.conditioning(prompts, emotions, guidance);
    const { noise } = this.initialNoise(seeds);
    try {
      const x0 = await sampleEuler(this.velocityFn(cond, guidance), noise, grid, {
        ...(options.signal ? { signal: options.signal } : {}),
        onStep: (done, total) => options.onProgress?.({ done, total, stage: 'sampling' }),
      });
      return await this.toImages(x0);
    } finally {
      noise.dispose();
      disposeConditioning(cond);
    }
  }

  /**
   * Samples with Flow-GRPO's SDE, keeping every latent and per-step float32 log-probs.
   * @throws InvalidArgumentError, InvalidEmotionError for bad input; `ABORTED` when cancelled.
   */
  async sampleTrajectories(request: GenerationRequest, options: TrajectoryOptions = {}): Promise<Trajectory> {
    const { prompts, emotions, seeds } = validateGenerationRequest(request);
    const steps = checkNumber('steps', options.steps ?? this.sampling.steps, 1, true);
    const guidance = checkNumber('guidanceScale', options.guidanceScale ?? this.sampling.guidanceScale, 0);
    const noiseLevel = checkNumber('noiseLevel', options.noiseLevel ?? this.sampling.noiseLevel, 0);
    const grid = timestepGrid(steps, options.shift ?? this.sampling.shift);
    const S = this.config.imageSize;
    const cond = this.conditioning(prompts, emotions, guidance);
    const { noise, streams } = this.initialNoise(seeds);
    try {
      const sample = await sampleSde(this.velocityFn(cond, guidance), noise, grid, {
        noiseLevel,
        reduction: this.sampling.reduction,
        noiseFor: () => {
          const size = S * S * 3;
          const flat = new Float32Array(seeds.length * size);
          streams.forEach((r, i) => {
            flat.set(r.normalArray(size), i * size);
          });
          return tf.tensor4d(flat, [seeds.length, S, S, 3]);
        },
        ...(options.signal ? { signal: options.signal } : {}),
        onStep: (done, total) => options.onProgress?.({ done, total, stage: 'sampling' }),
      });
      const images = await this.toImages(sample.final);
      return {
        prompts,
        emotions,
        seeds,
        timesteps: grid,
        noiseLevel,
        guidanceScale: guidance,
        reduction: this.sampling.reduction,
        latentShape: [S, S, 3],
        latents: sample.latents,
        logProbs: sample.logProbs,
        images,
      };
    } finally {
      noise.dispose();
      disposeConditioning(cond);
    }
  }

  /**
   * Differentiable log-probs and transition means of stored transitions under the current
   * weights (see {@link TrainableGenerator.scoreTrajectory}).
   * @throws InvalidArgumentError for indices out of range or a trajectory sampled without noise.
   */
  scoreTrajectory(trajectory: Trajectory, options: ScoreOptions): TrajectoryScores {
    const steps = trajectory.timesteps.length - 1;
    const batch = trajectory.prompts.length;
    if (!(trajectory.noiseLevel > 0)) {
      throw new InvalidArgumentError(
        'trajectory',
        'was sampled with noise level 0; its transitions have no log-probs.',
      );
    }
    if (!Array.isArray(options?.steps) || options.steps.length === 0) {
      throw new InvalidArgumentError('steps', 'expected a non-empty array of step indices.');
    }
    options.steps.forEach((s, i) => {
      if (!Number.isInteger(s) || s < 0 || s >= steps) {
        throw new InvalidArgumentError(
          `steps[${i}]`,
          `expected an integer in [0, ${steps}), got ${String(s)}.`,
        );
      }
    });
    const samples = options.samples ?? trajectory.prompts.map((_, i) => i);
    if (samples.length === 0)
      throw new InvalidArgumentError('samples', 'expected at least one sample index.');
    samples.forEach((s, i) => {
      if (!Number.isInteger(s) || s < 0 || s >= batch) {
        throw new InvalidArgumentError(
          `samples[${i}]`,
          `expected an integer in [0, ${batch}), got ${String(s)}.`,
        );
      }
    });
    const [H, W, C] = trajectory.latentShape;
    const size = H * W * C;
    const pick = (latent: Float32Array) => {
      const out = new Float32Array(samples.length * size);
      samples.forEach((s, j) => {
        out.set(latent.subarray(s * size, (s + 1) * size), j * size);
      });
      return tf.tensor4d(out, [samples.length, H, W, C]);
    };
    const sigmaMax = trajectory.timesteps[1] as number;
    return tf.tidy(() => {
      const cond = this.conditioning(
        samples.map((s) => trajectory.prompts[s] as string),
        samples.map((s) => trajectory.emotions[s] as Emotion),
        trajectory.guidanceScale,
      );
      const velocity = this.velocityFn(cond, trajectory.guidanceScale, options.detachUnconditional);
      const logProbs: tf.Tensor1D[] = [];
      const means: tf.Tensor4D[] = [];
      const stds: number[] = [];
      for (const i of options.steps) {
        const x = pick(trajectory.latents[i] as Float32Array);
        const next = pick(trajectory.latents[i + 1] as Float32Array);
        const t = trajectory.timesteps[i] as number;
        const step = sdeStepWithLogProb(x, velocity(x, t, i), t, trajectory.timesteps[i + 1] as number, {
          sigmaMax,
          noiseLevel: trajectory.noiseLevel,
          next,
          reduction: trajectory.reduction,
        });
        logProbs.push(step.logProb);
        means.push(step.mean);
        stds.push(step.std);
      }
      return { logProbs: tf.stack(logProbs) as tf.Tensor2D, means: tf.stack(means), stds };
    });
  }

  /** Releases the model's weights and adapters. */
  dispose(): void {
    this.model.dispose();
  }

  private async toImages(x0: tf.Tensor4D): Promise<RgbImage[]> {
    const pixels = tf.tidy(() => tf.mul(tf.add(tf.clipByValue(x0, -1, 1), 1), 0.5) as tf.Tensor4D);
    x0.dispose();
    try {
      return await tensorToImages(pixels);
    } finally {
      pixels.dispose();
    }
  }
}

/** Creates a freshly initialised (untrained) generator from a partial config. */
export function createEmoFlowGenerator(
  config: Parameters<typeof emoFlowConfig>[0] = {},
  options: EmoFlowGeneratorOptions = {},
): EmoFlowGenerator {
  return new EmoFlowGenerator(new EmoFlowModel(emoFlowConfig(config)), options);
}
