import type { Emotion } from '../emotion.js';
import { InvalidArgumentError } from '../errors.js';
import type { RgbImage } from '../image.js';
import { imagesToTensor } from '../image.js';
import type { SeededRandom } from '../random.js';
import { tf } from '../tf.js';
import type { EmoFlowGenerator } from './emoflow.js';
import { validateGenerationRequest } from './emoflow.js';
import { disposeConditioning } from './emoflow-model.js';

/** One training batch: images in [0, 1] with their captions and V-A labels. */
export interface FlowMatchingBatch {
  readonly images: readonly RgbImage[] | tf.Tensor4D;
  readonly prompts: readonly string[];
  readonly emotions: readonly Emotion[];
}

/** Settings of rectified-flow pretraining. */
export interface FlowMatchingOptions {
  readonly learningRate?: number;
  /** Probability of dropping the prompt of a sample (null prompt), for guidance. Default 0.1. */
  readonly textDropout?: number;
  /** Probability of dropping the emotion of a sample (null emotion tokens). Default 0.1. */
  readonly emotionDropout?: number;
  /** Time sampling: SD3's logit-normal (default) or uniform. */
  readonly timeSampling?: 'logit-normal' | 'uniform';
  /** Global-norm gradient clipping; default 1. */
  readonly clipNorm?: number;
}

/** Times for a batch: logit-normal(0, 1) as in SD3, or uniform; kept inside (0.001, 0.999). */
export function sampleTimes(rng: SeededRandom, n: number, mode: 'logit-normal' | 'uniform'): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = mode === 'uniform' ? rng.uniform() : 1 / (1 + Math.exp(-rng.normal()));
    out[i] = Math.min(0.999, Math.max(0.001, t));
  }
  return out;
}

/** The random draws of one rectified-flow step, with the validated captions and labels. */
export interface FlowMatchingDraws {
  readonly prompts: readonly string[];
  readonly emotions: readonly Emotion[];
  /** `[n]` times. */
  readonly times: Float32Array;
  /** `[n, S, S, 3]` standard-normal noise, flattened. */
  readonly noise: Float32Array;
  readonly dropText: readonly boolean[];
  readonly dropEmotion: readonly boolean[];
}

/**
 * Validates a batch's captions and labels and makes its random draws from `rng` (times, noise,
 * then prompt and emotion dropout), in the order {@link flowMatchingLoss} makes them, so that a
 * data-parallel step can draw on one thread and differentiate elsewhere.
 */
export function drawFlowMatching(
  generator: EmoFlowGenerator,
  batch: Omit<FlowMatchingBatch, 'images'>,
  rng: SeededRandom,
  options: FlowMatchingOptions = {},
): FlowMatchingDraws {
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
  return { prompts, emotions, times, noise, dropText, dropEmotion };
}

/** A batch's images as a new `[n, S, S, 3]` tensor, checked against the generator's size. */
export function flowMatchingImages(
  generator: EmoFlowGenerator,
  images: FlowMatchingBatch['images'],
  n: number,
): tf.Tensor4D {
  const S = generator.config.imageSize;
  const tensor = imagesToTensor(images as RgbImage[] | tf.Tensor4D, 'batch.images');
  if (tensor.shape[0] !== n || tensor.shape[1] !== S || tensor.shape[2] !== S) {
    const shape = tensor.shape.join(', ');
    tensor.dispose();
    throw new InvalidArgumentError('batch.images', `expected ${n} images of ${S}×${S}, got [${shape}].`);
  }
  return tensor;
}

/**
 * The rectified-flow loss ‖v(x_t, t, c) − (ε − x0)‖² with x_t = (1−t)·x0 + t·ε, x0 = 2·image − 1,
 * on `[n, S, S, 3]` images in [0, 1] with the given draws.
 */
export function flowMatchingLossWith(
  generator: EmoFlowGenerator,
  images: tf.Tensor4D,
  draws: FlowMatchingDraws,
): tf.Scalar {
  const n = draws.prompts.length;
  const S = generator.config.imageSize;
  return tf.tidy(() => {
    const x0 = tf.sub(tf.mul(images, 2), 1);
    const eps = tf.tensor4d(draws.noise, [n, S, S, 3]);
    const t = tf.tensor1d(draws.times);
    const t4 = tf.reshape(t, [n, 1, 1, 1]);
    const xt = tf.add(tf.mul(tf.sub(1, t4), x0), tf.mul(t4, eps)) as tf.Tensor4D;
    const cond = generator.model.encode(draws.prompts, draws.emotions, {
      text: draws.dropText,
      emotion: draws.dropEmotion,
    });
    const v = generator.model.velocity(xt, t, cond);
    disposeConditioning(cond);
    return tf.mean(tf.square(tf.sub(v, tf.sub(eps, x0)))) as tf.Scalar;
  });
}

/**
 * The rectified-flow loss of a batch ({@link flowMatchingLossWith}). Makes its draws from `rng`
 * (noise, times, dropout), so a seed reproduces the loss exactly.
 */
export function flowMatchingLoss(
  generator: EmoFlowGenerator,
  batch: FlowMatchingBatch,
  rng: SeededRandom,
  options: FlowMatchingOptions = {},
): tf.Scalar {
  const draws = drawFlowMatching(generator, batch, rng, options);
  return tf.tidy(() =>
    flowMatchingLossWith(generator, flowMatchingImages(generator, batch.images, draws.prompts.length), draws),
  );
}

/**
 * Pretrains (or continues training) a generator's base weights with the rectified-flow loss,
 * Adam and global-norm clipping. Adapters, if attached, are left alone.
 */
export class FlowMatchingTrainer {
  readonly optimizer: tf.AdamOptimizer;
  private readonly options: FlowMatchingOptions;

  constructor(
    readonly generator: EmoFlowGenerator,
    readonly rng: SeededRandom,
    options: FlowMatchingOptions = {},
  ) {
    this.options = options;
    this.optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  }

  /** Sets the learning rate (for schedules). */
  setLearningRate(lr: number): void {
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
  }

  /** One optimisation step; returns the loss before the update. */
  step(batch: FlowMatchingBatch): number {
    const vars = this.generator.model.baseVariables();
    const clip = this.options.clipNorm ?? 1;
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => flowMatchingLoss(this.generator, batch, this.rng, this.options),
        vars,
      );
      const names = Object.keys(grads);
      const norm = Math.sqrt(
        tf.addN(names.map((k) => tf.sum(tf.square(grads[k] as tf.Tensor)))).dataSync()[0] as number,
      );
      const scale = norm > clip ? clip / norm : 1;
      const scaled: tf.NamedTensorMap = {};
      for (const k of names)
        scaled[k] = scale === 1 ? (grads[k] as tf.Tensor) : tf.mul(grads[k] as tf.Tensor, scale);
      this.optimizer.applyGradients(scaled as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
      return value.dataSync()[0] as number;
    });
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
