import { InvalidArgumentError } from '../errors.js';
import { tf } from '../tf.js';
import { type SamplerOptions, throwIfAborted, type VelocityFn, yieldToEventLoop } from './euler.js';

/**
 * How per-pixel Gaussian log-densities are reduced to one log-prob per sample. `mean` (the
 * default) follows Flow-GRPO: it keeps log-probs and PPO ratios on a scale that does not grow
 * with the image size; `sum` gives the exact log-density of the whole transition.
 */
export type LogProbReduction = 'mean' | 'sum';

const LOG_SQRT_2PI = Math.log(Math.sqrt(2 * Math.PI));

/**
 * The SDE's diffusion coefficient at time `t` (Flow-GRPO's `std_dev_t`):
 * `a·sqrt(t / (1 − t'))` with t' = t except at t = 1, where t' = `sigmaMax` (the second grid
 * value), as Flow-GRPO's `where(sigma == 1, sigma_max, sigma)` avoids dividing by zero.
 */
export function sdeStdDev(t: number, sigmaMax: number, noiseLevel: number): number {
  const denom = 1 - (t === 1 ? sigmaMax : t);
  return noiseLevel * Math.sqrt(t / denom);
}

/** The scalar coefficients of one SDE step from `t` to `tNext`. */
export interface SdeCoefficients {
  /** std_dev_t. */
  readonly stdDev: number;
  /** Multiplier of x in the mean: 1 + std²/(2t)·dt. */
  readonly xCoef: number;
  /** Multiplier of v in the mean: (1 + std²·(1−t)/(2t))·dt. */
  readonly vCoef: number;
  /** Standard deviation of the transition: std_dev_t·sqrt(−dt). */
  readonly std: number;
}

/**
 * Coefficients of Flow-GRPO's `sde_step_with_logprob` for one step (dt = tNext − t < 0).
 * @throws InvalidArgumentError unless 1 ≥ t > tNext ≥ 0 and the noise level is ≥ 0.
 */
export function sdeCoefficients(
  t: number,
  tNext: number,
  sigmaMax: number,
  noiseLevel: number,
): SdeCoefficients {
  if (!(t <= 1 && t > tNext && tNext >= 0)) {
    throw new InvalidArgumentError(
      'timesteps',
      `expected 1 ≥ t > t_next ≥ 0, got t = ${t}, t_next = ${tNext}.`,
    );
  }
  if (!(Number.isFinite(noiseLevel) && noiseLevel >= 0)) {
    throw new InvalidArgumentError('noiseLevel', `expected a number ≥ 0, got ${String(noiseLevel)}.`);
  }
  const dt = tNext - t;
  const s = sdeStdDev(t, sigmaMax, noiseLevel);
  return {
    stdDev: s,
    xCoef: 1 + ((s * s) / (2 * t)) * dt,
    vCoef: (1 + (s * s * (1 - t)) / (2 * t)) * dt,
    std: s * Math.sqrt(-dt),
  };
}

/** One SDE transition, with its log-prob. */
export interface SdeStep {
  /** The next latent `x_next` (the given one when re-scoring). */
  readonly next: tf.Tensor4D;
  /** The transition mean (Flow-GRPO's `prev_sample_mean`). */
  readonly mean: tf.Tensor4D;
  /** `[n]` log-probability of `next` under N(mean, std²), reduced per sample. */
  readonly logProb: tf.Tensor1D;
  /** The transition standard deviation std_dev_t·sqrt(−dt). */
  readonly std: number;
}

/**
 * Flow-GRPO's SDE step with log-prob. Either draws `x_next = mean + std·noise` (pass `noise`)
 * or scores a given `x_next` (pass `next`), e.g. a stored trajectory, for the PPO ratio.
 * With noise level 0 the step is the Euler step and the log-prob (undefined for a point mass)
 * is reported as 0. Differentiable in `v` (and `x`).
 */
export function sdeStepWithLogProb(
  x: tf.Tensor4D,
  v: tf.Tensor4D,
  t: number,
  tNext: number,
  options: {
    sigmaMax: number;
    noiseLevel: number;
    noise?: tf.Tensor4D;
    next?: tf.Tensor4D;
    reduction?: LogProbReduction;
  },
): SdeStep {
  const k = sdeCoefficients(t, tNext, options.sigmaMax, options.noiseLevel);
  const reduction = options.reduction ?? 'mean';
  return tf.tidy(() => {
    const mean = tf.add(tf.mul(x, k.xCoef), tf.mul(v, k.vCoef)) as tf.Tensor4D;
    let next: tf.Tensor4D;
    if (options.next) next = tf.clone(options.next);
    else if (options.noise && k.std > 0) next = tf.add(mean, tf.mul(options.noise, k.std));
    else next = tf.clone(mean);
    const n = x.shape[0];
    if (k.std === 0) return { next, mean, logProb: tf.zeros([n]) as tf.Tensor1D, std: 0 };
    const z = tf.sub(next, mean);
    const per = tf.sub(tf.mul(tf.square(z), -1 / (2 * k.std * k.std)), Math.log(k.std) + LOG_SQRT_2PI);
    const flat = tf.reshape(per, [n, -1]);
    const logProb = (reduction === 'mean' ? tf.mean(flat, 1) : tf.sum(flat, 1)) as tf.Tensor1D;
    return { next, mean, logProb, std: k.std };
  });
}

/** Options of {@link sampleSde}. */
export interface SdeSamplerOptions extends SamplerOptions {
  /** The SDE noise level `a` (Flow-GRPO uses 0.7). 0 gives the Euler ODE sampler. */
  readonly noiseLevel: number;
  /** Fresh standard-normal noise for step `step` (the caller keeps it seeded). */
  readonly noiseFor: (step: number) => tf.Tensor4D;
  readonly reduction?: LogProbReduction;
  /** Keep every latent x_t (for re-scoring later); default true. */
  readonly keepLatents?: boolean;
}

/** A sampled SDE trajectory, as plain arrays. */
export interface SdeSample {
  /** The final sample x_0 (caller disposes). */
  readonly final: tf.Tensor4D;
  /** `steps + 1` latents `[n, H, W, C]` flattened, x at grid[0] first (empty when not kept). */
  readonly latents: Float32Array[];
  /** `steps` arrays of `[n]` log-probs. */
  readonly logProbs: Float32Array[];
}

/**
 * Stochastic sampling with Flow-GRPO's SDE: each step draws `x_next ~ N(mean, std²)` and records
 * its log-prob. The marginals match the ODE's, so the SDE explores around the same images.
 */
export async function sampleSde(
  velocity: VelocityFn,
  noise: tf.Tensor4D,
  grid: readonly number[],
  options: SdeSamplerOptions,
): Promise<SdeSample> {
  const steps = grid.length - 1;
  const sigmaMax = grid[1] as number;
  const keep = options.keepLatents ?? true;
  const latents: Float32Array[] = [];
  const logProbs: Float32Array[] = [];
  let x = tf.clone(noise);
  try {
    if (keep) latents.push((x.dataSync() as Float32Array).slice());
    for (let i = 0; i < steps; i++) {
      throwIfAborted(options.signal);
      const prev = x;
      const t = grid[i] as number;
      const tNext = grid[i + 1] as number;
      const lp = tf.tidy(() => {
        const eps = options.noiseFor(i);
        const step = sdeStepWithLogProb(prev, velocity(prev, t, i), t, tNext, {
          sigmaMax,
          noiseLevel: options.noiseLevel,
          noise: eps,
          ...(options.reduction ? { reduction: options.reduction } : {}),
        });
        x = tf.keep(step.next);
        return step.logProb;
      });
      prev.dispose();
      logProbs.push((lp.dataSync() as Float32Array).slice());
      lp.dispose();
      if (keep) latents.push((x.dataSync() as Float32Array).slice());
      options.onStep?.(i + 1, steps);
      if (i + 1 < steps) await yieldToEventLoop();
    }
    return { final: x, latents, logProbs };
  } catch (error) {
    x.dispose();
    throw error;
  }
}
