import type { Layers, WeightSet } from '../generator/layers.js';
import { tf } from '../tf.js';
import { Tokenizer, type TokenizerConfig } from './tokenizer.js';

/** Settings of the text encoder: the tokenizer's plus the embedding width. */
export interface TextEncoderConfig extends TokenizerConfig {
  /** Width of a token embedding (the width of the conditioning tokens). */
  readonly dim: number;
}

/** Token embeddings of a batch of prompts, for cross-attention. */
export interface TextEncoding {
  /** `[batch, maxTokens, dim]` token embeddings (padding rows are zero-masked by `mask`). */
  readonly tokens: tf.Tensor3D;
  /** `[batch, maxTokens]`: 1 for real tokens, 0 for padding or a dropped prompt. */
  readonly mask: tf.Tensor2D;
  /** `[batch, dim]` masked mean of the word embeddings (zero for a dropped prompt). */
  readonly pooled: tf.Tensor2D;
}

/**
 * A learned word-embedding text encoder: token embedding + learned position embedding. Small by
 * design: the denoiser's cross-attention reads the tokens, the pooled vector feeds FiLM.
 */
export class PromptEncoder {
  readonly tokenizer: Tokenizer;

  constructor(
    readonly config: TextEncoderConfig,
    weights: WeightSet,
    private readonly prefix = 'text',
  ) {
    this.tokenizer = new Tokenizer(config);
    weights.normal(`${prefix}.embedding`, [this.tokenizer.size, config.dim], 0.3);
    weights.normal(`${prefix}.position`, [config.maxTokens, config.dim], 0.05);
  }

  /**
   * Encodes prompts. `dropped[i]` replaces prompt i with the null prompt (no tokens), the
   * unconditional input of classifier-free guidance.
   * @throws InvalidArgumentError for empty or over-long prompts (see {@link Tokenizer.encode}).
   */
  encode(layers: Layers, prompts: readonly string[], dropped?: readonly boolean[]): TextEncoding {
    const batch = this.tokenizer.encodeBatch(prompts);
    const L = batch.maxTokens;
    const mask = batch.mask.slice();
    if (dropped) {
      dropped.forEach((d, i) => {
        if (d) mask.fill(0, i * L, (i + 1) * L);
      });
    }
    return tf.tidy(() => {
      const ids = tf.tensor2d(batch.ids, [prompts.length, L], 'int32');
      const m = tf.tensor2d(mask, [prompts.length, L]);
      const table = layers.weights.get(`${this.prefix}.embedding`);
      const words = tf.gather(table, ids) as tf.Tensor3D;
      const m3 = tf.expandDims(m, 2);
      const count = tf.maximum(tf.sum(m, 1, true), 1);
      const pooled = tf.div(tf.sum(tf.mul(words, m3), 1), count) as tf.Tensor2D;
      const tokens = tf.mul(tf.add(words, layers.weights.get(`${this.prefix}.position`)), m3) as tf.Tensor3D;
      return { tokens, mask: m, pooled };
    });
  }
}
