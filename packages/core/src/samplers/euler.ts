import { EmoFeedbackError } from '../errors.js';
import { tf } from '../tf.js';

/**
 * A velocity field: the model's prediction `v(x, t)` for the batch `x` at time `t` (every row at
 * the same time). `step` is the index into the grid, for models that cache per step.
 * Samplers own nothing else about the model (as diffusers keeps schedulers apart from UNets).
 */
export type VelocityFn = (x: tf.Tensor4D, t: number, step: number) => tf.Tensor4D;

/** Options shared by the samplers. */
export interface SamplerOptions {
  /** Cancels between steps with an `ABORTED` error. */
  readonly signal?: AbortSignal;
  /** Called after each step with (steps done, total). */
  readonly onStep?: (done: number, total: number) => void;
}

/** One Euler step of the probability-flow ODE: x + (t_next − t)·v. */
export function eulerStep(x: tf.Tensor4D, v: tf.Tensor4D, t: number, tNext: number): tf.Tensor4D {
  return tf.tidy(() => tf.add(x, tf.mul(v, tNext - t)));
}

/** Throws the SDK's `ABORTED` error when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EmoFeedbackError('ABORTED', 'Sampling was aborted.');
}

/** Lets timers, abort signals and progress callbacks run between steps. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Deterministic sampling: integrates dx/dt = v from `grid[0]` (= 1, noise) to the last grid
 * value (= 0) with Euler steps. Takes ownership of nothing: `noise` stays the caller's.
 * @returns the final sample x_0 (caller disposes).
 */
export async function sampleEuler(
  velocity: VelocityFn,
  noise: tf.Tensor4D,
  grid: readonly number[],
  options: SamplerOptions = {},
): Promise<tf.Tensor4D> {
  let x = tf.clone(noise);
  const steps = grid.length - 1;
  try {
    for (let i = 0; i < steps; i++) {
      throwIfAborted(options.signal);
      const prev = x;
      x = tf.tidy(() =>
        eulerStep(prev, velocity(prev, grid[i] as number, i), grid[i] as number, grid[i + 1] as number),
      );
      prev.dispose();
      options.onStep?.(i + 1, steps);
      if (i + 1 < steps) await yieldToEventLoop();
    }
    return x;
  } catch (error) {
    x.dispose();
    throw error;
  }
}
