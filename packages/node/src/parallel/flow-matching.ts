import {
  type FlowMatchingBatch,
  type FlowMatchingOptions,
  type FlowMatchingTrainer,
  InvalidArgumentError,
  imagesToTensor,
  type RgbImage,
  sampleTimes,
  tf,
  validateGenerationRequest,
} from '@emofeedback/core';
import type { ParallelSampler } from './sampler.js';

/**
 * One step of `trainer` (rectified-flow pretraining of the base weights) with the gradient
 * computed data-parallel on the sampler's workers: the main thread makes every random draw from
 * `trainer.rng` exactly as `FlowMatchingTrainer.step` does (times, noise, condition dropout),
 * the workers differentiate the loss on their rows, and the main thread clips the combined
 * gradient, takes the Adam step and sends the new weights to the workers. A seed gives the same
 * weights (to float rounding) as `trainer.step` on one thread. `options` must be the trainer's.
 * @returns the loss before the update.
 */
export async function parallelFlowMatchingStep(
  trainer: FlowMatchingTrainer,
  sampler: ParallelSampler,
  batch: FlowMatchingBatch,
  options: FlowMatchingOptions = {},
): Promise<number> {
  const generator = trainer.generator;
  const rng = trainer.rng;
  const n = batch.prompts.length;
  const { prompts, emotions } = validateGenerationRequest({
    prompts: batch.prompts,
    emotions: batch.emotions,
    seeds: batch.prompts.map(() => 0),
  });
  const S = generator.config.imageSize;
  const times = sampleTimes(rng, n, options.timeSampling ?? 'logit-normal');
  const noise = rng.normalArray(n * S * S * 3);
  const pText = options.textDropout ?? 0.1;
  const pEmo = options.emotionDropout ?? 0.1;
  const dropText = prompts.map(() => rng.uniform() < pText);
  const dropEmotion = prompts.map(() => rng.uniform() < pEmo);
  const imageTensor = imagesToTensor(batch.images as RgbImage[] | tf.Tensor4D, 'batch.images');
  const images = (imageTensor.dataSync() as Float32Array).slice();
  const shape = imageTensor.shape;
  imageTensor.dispose();
  if (shape[0] !== n || shape[1] !== S || shape[2] !== S) {
    throw new InvalidArgumentError(
      'batch.images',
      `expected ${n} images of ${S}×${S}, got [${shape.join(', ')}].`,
    );
  }
  const { grads, loss } = await sampler.flowMatchingGradients({
    images,
    prompts,
    emotions,
    noise,
    times,
    dropText,
    dropEmotion,
  });
  const clip = options.clipNorm ?? 1;
  let sq = 0;
  for (const g of Object.values(grads)) for (const x of g) sq += x * x;
  const norm = Math.sqrt(sq);
  const scale = norm > clip ? clip / norm : 1;
  const named: tf.NamedTensorMap = {};
  for (const [name, v] of generator.model.weights.variables) {
    const g = grads[name];
    if (g) named[v.name] = tf.tidy(() => tf.mul(tf.tensor(g, v.shape), scale));
  }
  trainer.optimizer.applyGradients(named as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
  tf.dispose(Object.values(named));
  await sampler.sync({ base: true });
  return loss;
}
