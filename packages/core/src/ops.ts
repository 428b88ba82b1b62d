import { tf } from './tf.js';

/**
 * Nearest-neighbour 2× upsampling of a NHWC tensor built from concat and reshape.
 *
 * Used instead of `tf.image.resizeNearestNeighbor` because the cpu backend's gradient for that
 * op (tfjs 4.22) writes every batch element's gradient into the first one when the batch is
 * larger than 1; concat and reshape have exact gradients on every backend (tile's gradient
 * stops at rank 4).
 */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.tidy(() => {
    const wide = tf.reshape(tf.concat([x, x], 3), [n, h, w * 2, c]);
    return tf.reshape(tf.concat([wide, wide], 2), [n, h * 2, w * 2, c]);
  });
}

/**
 * The identity whose gradient is zero (tfjs has no `stop_gradient`): what flows through it is
 * treated as a constant by `tf.grads` / `tf.variableGrads`.
 */
export const stopGradient: <T extends tf.Tensor>(x: T) => T = tf.customGrad(
  // biome-ignore lint/suspicious/noExplicitAny: tfjs's customGrad signature is untyped here.
  ((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as any,
) as never;
