import { InvalidArgumentError } from '../errors.js';
import { type ImageBatch, imagesToTensor } from '../image.js';
import type { SceneSubject } from '../scenes/spec.js';
import { tf } from '../tf.js';
import {
  type ContentParams,
  type ContentWeights,
  contentLogits,
  decodeContentWeights,
  resizeForContent,
} from './model.js';
import { CONTENT_WEIGHTS } from './weights.generated.js';

/** What the classifier sees in one image. */
export interface ContentPrediction {
  /** The most probable subject. */
  readonly subject: SceneSubject;
  /** Probability of the top subject. */
  readonly confidence: number;
  /** Probability of every subject (sums to 1). */
  readonly probabilities: Readonly<Record<SceneSubject, number>>;
}

/**
 * Recognises the subject of procedural-scene-like images (one of {@link SCENE_SUBJECTS}):
 * the text-control check that generated images show what the prompt names.
 */
export interface ContentClassifier {
  /** Class names, in the order of {@link ContentClassifier.logits}' columns. */
  readonly subjects: readonly SceneSubject[];
  /**
   * Classifies a batch of images of any one size (32×32 natively; others are resized, by area
   * averaging when the size is a multiple of 32).
   * @throws InvalidImageError for an empty or malformed batch.
   */
  classify(images: ImageBatch): Promise<ContentPrediction[]>;
  /** Class logits `[N, subjects]` as a tensor (differentiable; the caller disposes it). */
  logits(images: tf.Tensor4D): tf.Tensor2D;
  /** Frees the weight tensors. */
  dispose(): void;
}

/** Options for {@link createContentClassifier}. */
export interface ContentClassifierOptions {
  /** Other weights with the same architecture (from `training/train-content-classifier.ts`). */
  readonly weights?: ContentWeights;
}

/**
 * Creates the shipped content classifier: a small convolutional net trained on rendered
 * scenes, weights embedded in the package (about 265 KB). Needs a tfjs backend; call
 * `ready()` first for speed.
 *
 * @throws CheckpointError when custom weights do not match the architecture.
 */
export function createContentClassifier(options: ContentClassifierOptions = {}): ContentClassifier {
  const weights = options.weights ?? CONTENT_WEIGHTS;
  const subjects = weights.classes as readonly SceneSubject[];
  let params: ContentParams | null = decodeContentWeights(weights);
  const live = (): ContentParams => {
    if (!params) throw new InvalidArgumentError('classifier', 'this content classifier was disposed.');
    return params;
  };
  const logits = (images: tf.Tensor4D): tf.Tensor2D =>
    tf.tidy(() => {
      if (images.rank !== 4 || images.shape[3] !== 3) {
        throw new InvalidArgumentError('images', `expected [N, H, W, 3], got [${images.shape.join(', ')}].`);
      }
      return contentLogits(live(), resizeForContent(images));
    });
  return {
    subjects,
    logits,
    async classify(images: ImageBatch): Promise<ContentPrediction[]> {
      const probs = tf.tidy(() => {
        const x = imagesToTensor(images);
        return tf.softmax(logits(x));
      });
      const values = (await probs.data()) as Float32Array;
      probs.dispose();
      const k = subjects.length;
      const out: ContentPrediction[] = [];
      for (let i = 0; i < values.length / k; i++) {
        const row = values.subarray(i * k, (i + 1) * k);
        let best = 0;
        for (let j = 1; j < k; j++) if ((row[j] as number) > (row[best] as number)) best = j;
        const probabilities = Object.fromEntries(subjects.map((s, j) => [s, row[j] as number])) as Record<
          SceneSubject,
          number
        >;
        out.push({ subject: subjects[best] as SceneSubject, confidence: row[best] as number, probabilities });
      }
      return out;
    },
    dispose() {
      if (!params) return;
      for (const t of Object.values(params)) t.dispose();
      params = null;
    },
  };
}
