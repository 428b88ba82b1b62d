/**
 * The content classifier's network: a small all-convolutional net over 32×32 RGB images that
 * names the scene subject. Shared by the shipped classifier and the training script.
 */
import { CheckpointError, InvalidArgumentError } from '../errors.js';
import type { SeededRandom } from '../random.js';
import { tf } from '../tf.js';

/** Input side length the network sees; other sizes are resized first. */
export const CONTENT_INPUT_SIZE = 32;

/**
 * Layer shapes: four 3×3 convolutions (pooling after the first three), then a linear head. The
 * last convolution, at 4×4, is the widest: extra channels cost little compute there.
 */
const CONV_CHANNELS = [3, 16, 32, 64, 128] as const;

/** Names and shapes of every parameter tensor, in storage order. */
export function contentParamShapes(classes: number): [string, number[]][] {
  const shapes: [string, number[]][] = [];
  for (let i = 0; i < CONV_CHANNELS.length - 1; i++) {
    shapes.push([`conv${i}.w`, [3, 3, CONV_CHANNELS[i] as number, CONV_CHANNELS[i + 1] as number]]);
    shapes.push([`conv${i}.b`, [CONV_CHANNELS[i + 1] as number]]);
  }
  const features = 2 * (CONV_CHANNELS[CONV_CHANNELS.length - 1] as number);
  shapes.push(['head.w', [features, classes]]);
  shapes.push(['head.b', [classes]]);
  return shapes;
}

/** Parameter tensors by name. */
export type ContentParams = Record<string, tf.Tensor>;

/** Fresh He-initialised parameters as trainable variables (for training). */
export function initContentParams(classes: number, rng: SeededRandom): Record<string, tf.Variable> {
  const params: Record<string, tf.Variable> = {};
  for (const [name, shape] of contentParamShapes(classes)) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('.b')) {
      params[name] = tf.variable(tf.zeros(shape), true, name);
      continue;
    }
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const std = Math.sqrt(2 / fanIn);
    const values = rng.normalArray(size).map((v) => v * std);
    params[name] = tf.variable(tf.tensor(values, shape), true, name);
  }
  return params;
}

/**
 * Per-image standardisation: the classifier should name the subject whatever the exposure
 * or grading, so each image is centred and scaled by its own statistics.
 */
export function standardiseImages(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [1, 2, 3], true);
    return tf.div(tf.sub(x, mean), tf.add(tf.sqrt(variance), 0.05)) as tf.Tensor4D;
  });
}

/** Resizes a `[N, H, W, 3]` batch to the network's input size (area average when it divides). */
export function resizeForContent(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h === CONTENT_INPUT_SIZE && w === CONTENT_INPUT_SIZE) return x.clone();
  if (h === w && h % CONTENT_INPUT_SIZE === 0) {
    const k = h / CONTENT_INPUT_SIZE;
    return tf.avgPool(x, k, k, 'valid');
  }
  return tf.image.resizeBilinear(x, [CONTENT_INPUT_SIZE, CONTENT_INPUT_SIZE], false, true);
}

/** Class logits `[N, classes]` for a `[N, 32, 32, 3]` batch in [0, 1]. */
export function contentLogits(params: ContentParams, images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    let h: tf.Tensor4D = standardiseImages(images);
    for (let i = 0; i < CONV_CHANNELS.length - 1; i++) {
      const w = params[`conv${i}.w`] as tf.Tensor4D;
      const b = params[`conv${i}.b`] as tf.Tensor1D;
      h = tf.relu(tf.add(tf.conv2d(h, w, 1, 'same'), b)) as tf.Tensor4D;
      if (i < CONV_CHANNELS.length - 2) h = tf.maxPool(h, 2, 2, 'valid');
    }
    // Mean and max pooling together: the mean sees the whole shape, the max the strongest part.
    const pooled = tf.concat([tf.mean(h, [1, 2]), tf.max(h, [1, 2])], 1) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, params['head.w'] as tf.Tensor2D), params['head.b'] as tf.Tensor1D);
  });
}

/** Serialised classifier weights: 16-bit affine-quantised tensors in one base64 string. */
export interface ContentWeights {
  readonly version: 1;
  /** Class names, in logit order. */
  readonly classes: readonly string[];
  readonly inputSize: number;
  /** Per tensor: name, shape and the affine map `value = min + q · step` for 16-bit codes `q`. */
  readonly tensors: readonly { name: string; shape: number[]; min: number; step: number }[];
  /** Little-endian uint16 codes of every tensor, concatenated, base64. */
  readonly data: string;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Quantises parameters into {@link ContentWeights} (about 2 bytes per parameter). */
export async function encodeContentWeights(
  params: ContentParams,
  classes: readonly string[],
): Promise<ContentWeights> {
  const tensors: ContentWeights['tensors'][number][] = [];
  const chunks: Uint16Array[] = [];
  for (const [name] of contentParamShapes(classes.length)) {
    const t = params[name];
    if (!t) throw new InvalidArgumentError('params', `missing tensor ${name}.`);
    const values = (await t.data()) as Float32Array;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const step = max > min ? (max - min) / 65535 : 1;
    const q = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) q[i] = Math.round(((values[i] as number) - min) / step);
    tensors.push({ name, shape: t.shape.slice(), min, step });
    chunks.push(q);
  }
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const bytes = new Uint8Array(total * 2);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const chunk of chunks) {
    for (const q of chunk) {
      view.setUint16(offset, q, true);
      offset += 2;
    }
  }
  return { version: 1, classes: [...classes], inputSize: CONTENT_INPUT_SIZE, tensors, data: toBase64(bytes) };
}

/**
 * Rebuilds parameter tensors from {@link ContentWeights} (the caller disposes them).
 * @throws CheckpointError when the weights do not match the architecture.
 */
export function decodeContentWeights(weights: ContentWeights): ContentParams {
  if (weights.version !== 1 || weights.inputSize !== CONTENT_INPUT_SIZE) {
    throw new CheckpointError('content classifier weights: unsupported version or input size.');
  }
  const expected = contentParamShapes(weights.classes.length);
  const bytes = fromBase64(weights.data);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const params: ContentParams = {};
  let offset = 0;
  expected.forEach(([name, shape], i) => {
    const entry = weights.tensors[i];
    if (!entry || entry.name !== name || entry.shape.join() !== shape.join()) {
      throw new CheckpointError(
        `content classifier weights: expected ${name} [${shape}], got ${entry?.name ?? 'nothing'}.`,
      );
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (offset + n * 2 > bytes.length)
      throw new CheckpointError('content classifier weights: data is truncated.');
    const values = new Float32Array(n);
    for (let k = 0; k < n; k++) values[k] = entry.min + view.getUint16(offset + k * 2, true) * entry.step;
    offset += n * 2;
    params[name] = tf.tensor(values, shape);
  });
  return params;
}
