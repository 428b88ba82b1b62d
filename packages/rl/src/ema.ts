import { InvalidArgumentError, tf } from '@emofeedback/core';

/**
 * An exponential moving average of variables (`shadow ← decay·shadow + (1 − decay)·value`),
 * for smoother fine-tuned weights. `swapIn` / `swapOut` put the averages into the live
 * variables for evaluation and back.
 */
export class ExponentialMovingAverage {
  private readonly shadows: tf.Variable[];
  private backup: tf.Tensor[] | null = null;

  constructor(
    private readonly variables: readonly tf.Variable[],
    readonly decay = 0.99,
  ) {
    if (!(decay > 0 && decay < 1))
      throw new InvalidArgumentError('decay', `expected a number in (0, 1), got ${decay}.`);
    this.shadows = variables.map((v) => tf.variable(v.clone(), false));
  }

  update(): void {
    tf.tidy(() => {
      this.variables.forEach((v, i) => {
        const s = this.shadows[i] as tf.Variable;
        s.assign(tf.add(tf.mul(s, this.decay), tf.mul(v, 1 - this.decay)));
      });
    });
  }

  /** The averaged values, for checkpoints. */
  values(): readonly tf.Variable[] {
    return this.shadows;
  }

  swapIn(): void {
    if (this.backup) return;
    this.backup = this.variables.map((v) => v.clone());
    this.variables.forEach((v, i) => {
      v.assign(this.shadows[i] as tf.Variable);
    });
  }

  swapOut(): void {
    if (!this.backup) return;
    this.variables.forEach((v, i) => {
      v.assign(this.backup?.[i] as tf.Tensor);
    });
    tf.dispose(this.backup);
    this.backup = null;
  }

  dispose(): void {
    this.swapOut();
    tf.dispose(this.shadows);
  }
}
