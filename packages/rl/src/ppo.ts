import { tf } from '@emofeedback/core';

export interface PpoClipTerms {
  /** The clipped surrogate loss (to minimise), a scalar. */
  readonly loss: tf.Scalar;
  /** Share of samples whose ratio left [1 − ε, 1 + ε], a scalar. */
  readonly clipFraction: tf.Scalar;
  /** ½·mean((log π − log π_old)²), the usual approximate KL between the policies, a scalar. */
  readonly approxKl: tf.Scalar;
}

/**
 * The PPO-clip surrogate on per-sample log-probabilities (GRPO uses it per denoising step):
 * ratio = exp(log π − log π_old); loss = mean(max(−A·ratio, −A·clip(ratio, 1 − ε, 1 + ε))).
 * Call inside `tf.tidy` or a gradient function.
 */
export function ppoClipLoss(
  logProb: tf.Tensor,
  oldLogProb: tf.Tensor,
  advantages: tf.Tensor,
  clipRange: number,
): PpoClipTerms {
  const diff = tf.sub(logProb, oldLogProb);
  const ratio = tf.exp(diff);
  const unclipped = tf.mul(tf.neg(advantages), ratio);
  const clipped = tf.mul(tf.neg(advantages), tf.clipByValue(ratio, 1 - clipRange, 1 + clipRange));
  const loss = tf.mean(tf.maximum(unclipped, clipped)) as tf.Scalar;
  const clipFraction = tf.mean(
    tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clipRange), 'float32'),
  ) as tf.Scalar;
  const approxKl = tf.mul(0.5, tf.mean(tf.square(diff))) as tf.Scalar;
  return { loss, clipFraction, approxKl };
}
