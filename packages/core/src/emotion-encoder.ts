import { type Emotion, emotion } from './emotion.js';
import { InvalidArgumentError } from './errors.js';
import type { Layers, WeightSet } from './generator/layers.js';
import { silu } from './generator/layers.js';
import { tf } from './tf.js';

/** Settings of the emotion encoder. */
export interface EmotionEncoderConfig {
  /** Fourier frequencies per axis (features: raw V, A plus sin/cos at π·2^k, k < this). */
  readonly fourierFeatures: number;
  /** Width of the hidden layer. */
  readonly hidden: number;
  /** Number K of conditioning tokens produced. */
  readonly tokens: number;
  /** Width of each token (equal to the text token width). */
  readonly dim: number;
}

/** Conditioning tokens of a batch of emotions. */
export interface EmotionEncoding {
  /** `[batch, K, dim]` tokens (the learned null tokens where the emotion was dropped). */
  readonly tokens: tf.Tensor3D;
  /** `[batch, dim]` mean of the tokens, for FiLM. */
  readonly pooled: tf.Tensor2D;
}

/**
 * Validates a batch of emotions with the core validator, naming entries `emotions[i]`.
 * @throws InvalidEmotionError for a missing, non-finite or out-of-range axis.
 */
export function validateEmotions(emotions: readonly Emotion[]): Emotion[] {
  if (!Array.isArray(emotions)) throw new InvalidArgumentError('emotions', 'expected an array of emotions.');
  return emotions.map((e, i) => emotion(e as Emotion, `emotions[${i}]`));
}

/**
 * Fourier features of emotions on [-3, 3]: `[v/3, a/3, sin(π 2^k v/3), cos(π 2^k v/3), …]`, so a
 * small MLP can make sharp and smooth functions of valence and arousal alike.
 */
export function emotionFeatures(emotions: readonly Emotion[], frequencies: number): Float32Array {
  const width = 2 + 4 * frequencies;
  const out = new Float32Array(emotions.length * width);
  emotions.forEach((e, i) => {
    const v = e.valence / 3;
    const a = e.arousal / 3;
    const row = i * width;
    out[row] = v;
    out[row + 1] = a;
    for (let k = 0; k < frequencies; k++) {
      const f = Math.PI * 2 ** k;
      out[row + 2 + 4 * k] = Math.sin(f * v);
      out[row + 3 + 4 * k] = Math.cos(f * v);
      out[row + 4 + 4 * k] = Math.sin(f * a);
      out[row + 5 + 4 * k] = Math.cos(f * a);
    }
  });
  return out;
}

/**
 * (valence, arousal) → Fourier features → MLP → K conditioning tokens, the way EmotiCrafter
 * injects V-A into the text features; trainable, and LoRA-adaptable (target `emotion`).
 */
export class EmotionEncoder {
  constructor(
    readonly config: EmotionEncoderConfig,
    weights: WeightSet,
    private readonly prefix = 'emotion',
  ) {
    const inF = 2 + 4 * config.fourierFeatures;
    weights.linear(`${prefix}.fc1`, inF, config.hidden, 'emotion');
    weights.linear(`${prefix}.fc2`, config.hidden, config.tokens * config.dim, 'emotion');
    weights.normal(`${prefix}.null`, [config.tokens, config.dim], 0.3);
  }

  /**
   * Encodes emotions (validated). `dropped[i]` swaps in the learned null tokens, the
   * unconditional input of classifier-free guidance.
   * @throws InvalidEmotionError for an invalid emotion.
   */
  encode(layers: Layers, emotions: readonly Emotion[], dropped?: readonly boolean[]): EmotionEncoding {
    const valid = validateEmotions(emotions);
    const { tokens: K, dim: D, fourierFeatures: F } = this.config;
    const n = valid.length;
    const features = emotionFeatures(valid, F);
    const keep = new Float32Array(n).fill(1);
    dropped?.forEach((d, i) => {
      if (d) keep[i] = 0;
    });
    return tf.tidy(() => {
      const x = tf.tensor2d(features, [n, 2 + 4 * F]);
      const h = silu(layers.linear(`${this.prefix}.fc1`, x));
      const t = tf.reshape(layers.linear(`${this.prefix}.fc2`, h), [n, K, D]);
      const k = tf.tensor3d(keep, [n, 1, 1]);
      const nul = layers.weights.get(`${this.prefix}.null`);
      const tokens = tf.add(tf.mul(t, k), tf.mul(tf.expandDims(nul, 0), tf.sub(1, k))) as tf.Tensor3D;
      return { tokens, pooled: tf.mean(tokens, 1) as tf.Tensor2D };
    });
  }
}
