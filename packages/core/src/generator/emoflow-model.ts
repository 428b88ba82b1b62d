import type { Emotion } from '../emotion.js';
import { EmotionEncoder, type EmotionEncoderConfig } from '../emotion-encoder.js';
import { InvalidArgumentError } from '../errors.js';
import { LoraAdapters, type LoraConfig } from '../lora.js';
import { upsampleNearest2x } from '../ops.js';
import { SeededRandom } from '../random.js';
import { PromptEncoder, type TextEncoderConfig } from '../text/text-encoder.js';
import { tf } from '../tf.js';
import { Layers, silu, WeightSet } from './layers.js';

/**
 * Everything that defines an EmoFlow network's shapes, written into checkpoints. Two models with
 * equal configs have interchangeable weights.
 */
export interface EmoFlowConfig {
  readonly architecture: 'emoflow-unet';
  /** Side of the square RGB images (a multiple of 4). */
  readonly imageSize: number;
  /** U-Net widths at full, 1/2 and 1/4 resolution. */
  readonly channels: readonly [number, number, number];
  /** Width of the cross-attention projections. */
  readonly attentionDim: number;
  /** Attention heads (attentionDim must divide by it). */
  readonly heads: number;
  /** Width of the conditioning vector (time + pooled text + pooled emotion) that drives FiLM. */
  readonly condDim: number;
  /** Sinusoidal time features. */
  readonly timeFeatures: number;
  /** Groups of the group norms. */
  readonly groups: number;
  readonly text: TextEncoderConfig;
  readonly emotion: EmotionEncoderConfig;
  /** Seed of the initial weights. */
  readonly seed: number;
}

/** A small vocabulary used when no training captions are given (tests, fresh models). */
export const DEFAULT_VOCABULARY: readonly string[] = [
  'a',
  'an',
  'the',
  'of',
  'in',
  'on',
  'with',
  'and',
  'at',
  'under',
  'over',
  'near',
  'red',
  'green',
  'blue',
  'yellow',
  'dark',
  'bright',
  'calm',
  'happy',
  'sad',
  'angry',
  'scary',
  'sun',
  'tree',
  'house',
  'sea',
  'sky',
  'mountain',
  'flower',
  'face',
  'dog',
  'cat',
  'fire',
  'storm',
];

/**
 * Builds a full config from a partial one. Defaults: 32×32 images, widths 32/48/96, 16-word
 * prompts, 4 emotion tokens of width 64 (about 0.5 M parameters with a few hundred words).
 * @throws InvalidArgumentError for sizes that do not fit together.
 */
export function emoFlowConfig(
  partial: Partial<Omit<EmoFlowConfig, 'text' | 'emotion'>> & {
    text?: Partial<TextEncoderConfig>;
    emotion?: Partial<EmotionEncoderConfig>;
  } = {},
): EmoFlowConfig {
  const tokenDim = partial.text?.dim ?? partial.emotion?.dim ?? 64;
  const config: EmoFlowConfig = {
    architecture: 'emoflow-unet',
    imageSize: partial.imageSize ?? 32,
    channels: partial.channels ?? [32, 48, 96],
    attentionDim: partial.attentionDim ?? 64,
    heads: partial.heads ?? 1,
    condDim: partial.condDim ?? 128,
    timeFeatures: partial.timeFeatures ?? 32,
    groups: partial.groups ?? 8,
    seed: partial.seed ?? 0,
    text: {
      vocabulary: [...(partial.text?.vocabulary ?? DEFAULT_VOCABULARY)],
      hashBuckets: partial.text?.hashBuckets ?? 128,
      maxTokens: partial.text?.maxTokens ?? 16,
      dim: tokenDim,
    },
    emotion: {
      fourierFeatures: partial.emotion?.fourierFeatures ?? 4,
      hidden: partial.emotion?.hidden ?? 64,
      tokens: partial.emotion?.tokens ?? 4,
      dim: tokenDim,
    },
  };
  const posInt = (name: string, v: unknown) => {
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new InvalidArgumentError(`config.${name}`, `expected an integer ≥ 1, got ${String(v)}.`);
    }
  };
  posInt('imageSize', config.imageSize);
  if (config.imageSize % 4 !== 0) {
    throw new InvalidArgumentError('config.imageSize', `must be a multiple of 4, got ${config.imageSize}.`);
  }
  if (!Array.isArray(config.channels) || config.channels.length !== 3) {
    throw new InvalidArgumentError('config.channels', 'expected three widths.');
  }
  for (const c of config.channels) {
    posInt('channels', c);
    if (c % Math.min(config.groups, c) !== 0) {
      throw new InvalidArgumentError(
        'config.channels',
        `width ${c} does not divide into ${config.groups} groups.`,
      );
    }
  }
  for (const k of ['attentionDim', 'heads', 'condDim', 'timeFeatures', 'groups', 'seed'] as const) {
    if (k === 'seed') {
      if (!Number.isInteger(config.seed))
        throw new InvalidArgumentError('config.seed', 'expected an integer.');
    } else posInt(k, config[k]);
  }
  if (config.attentionDim % config.heads !== 0) {
    throw new InvalidArgumentError(
      'config.heads',
      `attentionDim ${config.attentionDim} does not divide by ${config.heads}.`,
    );
  }
  if (config.timeFeatures % 2 !== 0) {
    throw new InvalidArgumentError('config.timeFeatures', `must be even, got ${config.timeFeatures}.`);
  }
  posInt('text.maxTokens', config.text.maxTokens);
  posInt('text.hashBuckets', config.text.hashBuckets);
  posInt('text.dim', config.text.dim);
  posInt('emotion.tokens', config.emotion.tokens);
  posInt('emotion.hidden', config.emotion.hidden);
  if (!Number.isInteger(config.emotion.fourierFeatures) || config.emotion.fourierFeatures < 0) {
    throw new InvalidArgumentError('config.emotion.fourierFeatures', 'expected an integer ≥ 0.');
  }
  if (config.text.vocabulary.some((w) => typeof w !== 'string' || w.length === 0)) {
    throw new InvalidArgumentError('config.text.vocabulary', 'words must be non-empty strings.');
  }
  return config;
}

/** The conditioning of a batch: text tokens then emotion tokens, their mask, and the pooled vector. */
export interface Conditioning {
  /** `[batch, maxTokens + K, dim]`. */
  readonly tokens: tf.Tensor3D;
  /** `[batch, maxTokens + K]`, 1 where a token may be attended to. */
  readonly mask: tf.Tensor2D;
  /** `[batch, 2·dim]`: pooled text and pooled emotion. */
  readonly pooled: tf.Tensor2D;
}

/** Which inputs to replace by their null version (classifier-free guidance training and sampling). */
export interface DropSpec {
  readonly text?: readonly boolean[];
  readonly emotion?: readonly boolean[];
}

/** Releases a conditioning's tensors. */
export function disposeConditioning(c: Conditioning): void {
  tf.dispose([c.tokens, c.mask, c.pooled]);
}

/** Row-wise concatenation of two conditionings (for a guided batch [cond; uncond]). */
export function concatConditioning(a: Conditioning, b: Conditioning): Conditioning {
  return {
    tokens: tf.concat([a.tokens, b.tokens], 0),
    mask: tf.concat([a.mask, b.mask], 0),
    pooled: tf.concat([a.pooled, b.pooled], 0),
  };
}

/**
 * The EmoFlow network: a text encoder and an emotion encoder make conditioning tokens; a small
 * U-Net predicts the rectified-flow velocity `v(x_t, t, cond) ≈ ε − x0` from a noisy image
 * (x_t = (1−t)·x0 + t·ε, images scaled to [-1, 1]). Conditioning enters twice: FiLM from a
 * vector of time, pooled text and pooled emotion in every residual block, and cross-attention to
 * the tokens at 1/2 and 1/4 resolution.
 *
 * Layout (NHWC, widths c0/c1/c2): stem conv → conv/2 → ResBlock(c1)+attn →
 * conv/2 → ResBlock(c2)+attn → up(c1)+skip → ResBlock(c1)+attn → up(c0)+skip → ResBlock(c0) → conv → v.
 * Skips are added, not concatenated, and upsampling is nearest-neighbour after a 1×1
 * projection, the cheapest ops on wasm.
 */
export class EmoFlowModel {
  /** Shapes and settings. */
  readonly config: EmoFlowConfig;
  /** Base weights by name. */
  readonly weights: WeightSet;
  /** The prompt encoder (tokenizer + embeddings). */
  readonly text: PromptEncoder;
  /** The emotion encoder. */
  readonly emotion: EmotionEncoder;
  private adaptersRef: LoraAdapters | null = null;
  private layersRef: Layers;

  constructor(config: EmoFlowConfig) {
    this.config = config;
    const w = new WeightSet(new SeededRandom(config.seed));
    this.weights = w;
    const [c0, c1, c2] = config.channels;
    const D = config.text.dim;
    const A = config.attentionDim;
    this.text = new PromptEncoder(config.text, w, 'text');
    this.emotion = new EmotionEncoder(config.emotion, w, 'emotion');
    w.linear('cond.fc1', config.timeFeatures + 2 * D, config.condDim, 'conditioning');
    w.linear('cond.fc2', config.condDim, config.condDim, 'conditioning');
    const res = (name: string, c: number) => {
      w.norm(`${name}.norm1`, c);
      w.conv(`${name}.conv1`, c, c);
      w.linear(`${name}.film`, config.condDim, 2 * c, 'film', 0.3);
      w.norm(`${name}.norm2`, c);
      w.conv(`${name}.conv2`, c, c, 3, 0.5);
    };
    const attn = (name: string, c: number) => {
      w.norm(`${name}.norm`, c);
      w.linear(`${name}.q`, c, A, 'attention');
      w.linear(`${name}.k`, D, A, 'attention');
      w.linear(`${name}.v`, D, A, 'attention');
      w.linear(`${name}.o`, A, c, 'attention', 0.5);
    };
    w.conv('stem', 3, c0);
    w.conv('down0', c0, c1);
    res('d1', c1);
    attn('d1.attn', c1);
    w.conv('down1', c1, c2);
    res('mid', c2);
    attn('mid.attn', c2);
    w.linear('up1.proj', c2, c1, 'other');
    res('u1', c1);
    attn('u1.attn', c1);
    w.linear('up0.proj', c1, c0, 'other');
    res('u0', c0);
    w.norm('out.norm', c0);
    w.conv('out', c0, 3, 3, 0.3);
    w.linear('out.film', config.condDim, 3, 'film', 0.3);
    this.layersRef = new Layers(w, null);
  }

  /** The attached adapters, if any. */
  get adapters(): LoraAdapters | null {
    return this.adaptersRef;
  }

  /** Attaches fresh adapters (replacing and disposing any attached ones). */
  attachAdapters(config: Partial<LoraConfig> = {}): LoraAdapters {
    this.adaptersRef?.dispose();
    this.adaptersRef = new LoraAdapters(this.weights.linears, config);
    this.layersRef = new Layers(this.weights, this.adaptersRef);
    return this.adaptersRef;
  }

  /** Detaches and disposes the adapters. */
  detachAdapters(): void {
    this.adaptersRef?.dispose();
    this.adaptersRef = null;
    this.layersRef = new Layers(this.weights, null);
  }

  /** Number of base parameters (adapters excluded). */
  get parameterCount(): number {
    return this.weights.parameterCount;
  }

  /**
   * Encodes prompts and emotions into conditioning. Validates both.
   * @throws InvalidArgumentError for bad prompts; InvalidEmotionError for bad emotions.
   */
  encode(prompts: readonly string[], emotions: readonly Emotion[], drop: DropSpec = {}): Conditioning {
    const t = this.text.encode(this.layersRef, prompts, drop.text);
    let e: ReturnType<EmotionEncoder['encode']>;
    try {
      e = this.emotion.encode(this.layersRef, emotions, drop.emotion);
    } catch (error) {
      tf.dispose([t.tokens, t.mask, t.pooled]);
      throw error;
    }
    return tf.tidy(() => {
      const n = prompts.length;
      const tokens = tf.concat([t.tokens, e.tokens], 1) as tf.Tensor3D;
      const mask = tf.concat([t.mask, tf.ones([n, this.config.emotion.tokens])], 1) as tf.Tensor2D;
      const pooled = tf.concat([t.pooled, e.pooled], 1) as tf.Tensor2D;
      tf.dispose([t.tokens, t.mask, t.pooled, e.tokens, e.pooled]);
      return { tokens, mask, pooled };
    });
  }

  /**
   * Predicted velocity for noisy images `x` (`[n, S, S, 3]`) at times `t` (`[n]` in [0, 1], or one
   * number for the whole batch) under `cond` (n rows).
   */
  velocity(x: tf.Tensor4D, t: tf.Tensor1D | number, cond: Conditioning): tf.Tensor4D {
    const L = this.layersRef;
    const g = this.config.groups;
    const n = x.shape[0];
    return tf.tidy(() => {
      const tt = (typeof t === 'number' ? tf.fill([n], t) : t) as tf.Tensor1D;
      const c = silu(
        L.linear('cond.fc2', silu(L.linear('cond.fc1', tf.concat([this.timeEmbedding(tt), cond.pooled], 1)))),
      ) as tf.Tensor2D;
      const bias = tf.expandDims(tf.mul(tf.sub(1, cond.mask), -1e4), 1) as tf.Tensor3D;
      const res = (name: string, h: tf.Tensor4D): tf.Tensor4D => {
        const C = h.shape[3];
        let y = L.conv(`${name}.conv1`, silu(L.groupNorm(`${name}.norm1`, h, g)));
        const film = L.linear(`${name}.film`, c);
        const scale = tf.reshape(tf.slice(film, [0, 0], [n, C]), [n, 1, 1, C]);
        const shift = tf.reshape(tf.slice(film, [0, C], [n, C]), [n, 1, 1, C]);
        // FiLM after the second norm (as in ADM's scale-shift norm): before it, the norm would
        // remove most of the conditioning again.
        y = tf.add(tf.mul(L.groupNorm(`${name}.norm2`, y, g), tf.add(scale, 1)), shift);
        y = L.conv(`${name}.conv2`, silu(y));
        return tf.add(h, y);
      };
      const attn = (name: string, h: tf.Tensor4D): tf.Tensor4D =>
        this.crossAttention(name, h, cond.tokens, bias);
      // No residual block before the first downsampling: full-resolution weight gradients are
      // the most expensive op on wasm, and the decoder's block at this resolution keeps detail.
      const s0 = L.conv('stem', x);
      const s1 = attn('d1.attn', res('d1', L.conv('down0', s0, 2)));
      const m = attn('mid.attn', res('mid', L.conv('down1', s1, 2)));
      const u1 = tf.add(upsampleNearest2x(L.linear('up1.proj', m) as tf.Tensor4D), s1) as tf.Tensor4D;
      const h1 = attn('u1.attn', res('u1', u1));
      const u0 = tf.add(upsampleNearest2x(L.linear('up0.proj', h1) as tf.Tensor4D), s0) as tf.Tensor4D;
      const h0 = res('u0', u0);
      // A conditional per-channel offset of the output: the group norm before the output conv
      // removes global shifts, yet the global colour is what prompt and emotion change most.
      const offset = tf.reshape(L.linear('out.film', c), [n, 1, 1, 3]);
      return tf.add(L.conv('out', silu(L.groupNorm('out.norm', h0, g))), offset);
    });
  }

  /** Base weights (what pretraining trains), by name. */
  baseVariables(): tf.Variable[] {
    return [...this.weights.variables.values()];
  }

  /** Releases all weights and adapters. */
  dispose(): void {
    this.adaptersRef?.dispose();
    this.adaptersRef = null;
    this.weights.dispose();
  }

  private timeEmbedding(t: tf.Tensor1D): tf.Tensor2D {
    const half = this.config.timeFeatures / 2;
    const freqs = new Float32Array(half);
    for (let i = 0; i < half; i++) freqs[i] = 1000 * Math.exp((-Math.log(10000) * i) / half);
    const args = tf.mul(tf.expandDims(t, 1), tf.tensor2d(freqs, [1, half]));
    return tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
  }

  private crossAttention(name: string, h: tf.Tensor4D, tokens: tf.Tensor3D, bias: tf.Tensor3D): tf.Tensor4D {
    const L = this.layersRef;
    const [n, hh, ww, c] = h.shape;
    const A = this.config.attentionDim;
    const heads = this.config.heads;
    const dh = A / heads;
    const T = tokens.shape[1];
    const seq = tf.reshape(L.groupNorm(`${name}.norm`, h, this.config.groups), [n, hh * ww, c]);
    let q = L.linear(`${name}.q`, seq) as tf.Tensor3D;
    let k = L.linear(`${name}.k`, tokens) as tf.Tensor3D;
    let v = L.linear(`${name}.v`, tokens) as tf.Tensor3D;
    let b = bias;
    if (heads > 1) {
      const split = (z: tf.Tensor3D, len: number) =>
        tf.reshape(tf.transpose(tf.reshape(z, [n, len, heads, dh]), [0, 2, 1, 3]), [
          n * heads,
          len,
          dh,
        ]) as tf.Tensor3D;
      q = split(q, hh * ww);
      k = split(k, T);
      v = split(v, T);
      b = tf.reshape(tf.tile(tf.expandDims(bias, 1), [1, heads, 1, 1]), [n * heads, 1, T]) as tf.Tensor3D;
    }
    const logits = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), b);
    let o = tf.matMul(tf.softmax(logits), v) as tf.Tensor3D;
    if (heads > 1) {
      o = tf.reshape(tf.transpose(tf.reshape(o, [n, heads, hh * ww, dh]), [0, 2, 1, 3]), [
        n,
        hh * ww,
        A,
      ]) as tf.Tensor3D;
    }
    return tf.add(h, tf.reshape(L.linear(`${name}.o`, o), [n, hh, ww, c]));
  }
}
