import {
  drawFlowMatching,
  type FlowMatchingBatch,
  type FlowMatchingOptions,
  type FlowMatchingTrainer,
  flowMatchingImages,
  tf,
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
  const draws = drawFlowMatching(generator, batch, trainer.rng, options);
  const imageTensor = flowMatchingImages(generator, batch.images, draws.prompts.length);
  const images = (imageTensor.dataSync() as Float32Array).slice();
  imageTensor.dispose();
  const { grads, loss } = await sampler.flowMatchingGradients({ ...draws, images });
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
