import { batchSize, type ImageBatch, imagesToTensor, tf } from '@emofeedback/core';
import type { EmotionEvaluator, EvaluateOptions, Evaluation } from '../evaluator.js';
import { acquireBackbone, type BackboneLease, type BackboneName } from './backbone.js';
import { decodeHead, type LocalHead, type SerializedHead } from './head.js';
import { IMAGE_STAT_NAMES, imageStatistics } from './image-stats.js';

/** Everything a local evaluator reads off a batch, one value per image. */
export interface LocalScores {
  /** Predicted valence, canonical [-3, 3]. */
  readonly valence: Float32Array;
  /** Predicted arousal, canonical [-3, 3]. */
  readonly arousal: Float32Array;
  /**
   * How typical the image's backbone features are of the real training images: the Gaussian
   * log-likelihood under the head's PCA model, standardised so that training images average 0
   * with standard deviation 1. Very negative values mean the image left natural-image space.
   */
  readonly naturalness: Float32Array;
  /** Mean |luma − 3×3 blur| on a 64×64 thumbnail (see `imageStatistics`). */
  readonly highFreq: Float32Array;
  /** Fraction of channel values at 0 or 1 on a 64×64 thumbnail. */
  readonly clipped: Float32Array;
}

/** A local evaluator: a frozen backbone plus a trained head, entirely offline. */
export interface LocalEvaluator extends EmotionEvaluator {
  readonly backbone: BackboneName;
  readonly head: LocalHead;
  /**
   * Valence, arousal and naturalness of a batch in one backbone pass (the composite reward
   * uses this to avoid running the backbone twice).
   * @throws InvalidImageError for an empty batch, mixed sizes, wrong shapes or non-finite pixels.
   */
  score(images: ImageBatch, options?: LocalScoreOptions): Promise<LocalScores>;
  /** Releases this evaluator's hold on the shared backbone; the evaluator is unusable after. */
  dispose(): void;
}

/** Options of {@link LocalEvaluator.score}. */
export interface LocalScoreOptions extends EvaluateOptions {
  /** Images per backbone call; default 16. */
  readonly chunk?: number;
}

/** Options of {@link createLocalEvaluator} and {@link createLocalJudge}. */
export interface LocalEvaluatorOptions {
  /** A different head (e.g. retrained); default: the shipped one. */
  readonly head?: SerializedHead;
}

const CHUNK = 16;

/** Builds an evaluator from a serialized head (the backbone is shared per process). */
export async function createLocalEvaluatorFromHead(serialized: SerializedHead): Promise<LocalEvaluator> {
  const head = decodeHead(serialized);
  const lease: BackboneLease = await acquireBackbone(head.backbone);
  let secondLease: BackboneLease | undefined;
  try {
    if (head.secondBackbone) secondLease = await acquireBackbone(head.secondBackbone.backbone);
  } catch (err) {
    lease.release();
    throw err;
  }
  const release = () => {
    lease.release();
    secondLease?.release();
  };
  const { endpoints } = head;
  const backboneFeatures = (x: tf.Tensor4D): tf.Tensor2D => {
    if (!endpoints) return lease.backbone.features(x, CHUNK);
    const parts = lease.backbone.outputs(x, endpoints, CHUNK);
    if (secondLease && head.secondBackbone)
      parts.push(...secondLease.backbone.outputs(x, head.secondBackbone.endpoints, CHUNK));
    if (parts.length === 1) return parts[0] as tf.Tensor2D;
    const joined = tf.concat(parts, 1);
    tf.dispose(parts);
    return joined;
  };
  let gives = lease.backbone.featureSize;
  if (endpoints) {
    try {
      const size = lease.backbone.inputSize;
      gives = tf.tidy(() => backboneFeatures(tf.zeros([1, size, size, 3]) as tf.Tensor4D).shape[1] as number);
    } catch (err) {
      release();
      throw err;
    }
  }
  if (gives !== head.featureSize) {
    release();
    throw new Error(
      `Head ${head.id} expects ${head.featureSize} features but ${head.secondBackbone ? `${head.backbone} and ${head.secondBackbone.backbone} give` : `${head.backbone} gives`} ${gives}.`,
    );
  }
  const nStats = IMAGE_STAT_NAMES.length;
  const inputs = head.featureSize + (head.useImageStats ? nStats : 0);
  const k = head.pcaComponents;
  const D = head.pcaFeatureSize;
  const weights = tf.tensor2d(head.weights, [inputs, 2 * head.heads]);
  const bias = tf.tensor1d(head.bias);
  const gateWeights = head.gateWeights ? tf.tensor2d(head.gateWeights, [inputs, 1]) : undefined;
  const pcaMean = tf.tensor1d(head.pcaMean);
  const pcaBasis = tf.tensor2d(head.pcaBasis, [D, k]);
  const invVar = tf.tensor1d(head.pcaVariances.map((v) => 1 / v));
  const own = [weights, bias, pcaMean, pcaBasis, invVar, ...(gateWeights ? [gateWeights] : [])];
  let disposed = false;

  const scoreChunk = (x: tf.Tensor4D): tf.Tensor2D =>
    tf.tidy(() => {
      const raw = backboneFeatures(x);
      const feats = head.featureTransform === 'sqrt' ? tf.sqrt(tf.relu(raw)) : raw;
      const stats = imageStatistics(x);
      const input = head.useImageStats ? tf.concat([feats, stats], 1) : feats;
      const out = tf.clipByValue(tf.add(tf.matMul(input, weights), bias), -3, 3);
      let va = out;
      if (gateWeights) {
        // Silhouette weight g: (1 − g)·photo head + g·silhouette head.
        const g = tf.sigmoid(tf.add(tf.matMul(input, gateWeights), head.gateBias));
        const photo = tf.slice(out, [0, 0], [-1, 2]);
        const silhouette = tf.slice(out, [0, 2], [-1, 2]);
        va = tf.add(photo, tf.mul(g, tf.sub(silhouette, photo)));
      }
      const pcaFeats = D === head.featureSize ? feats : tf.slice(feats, [0, 0], [-1, D]);
      const centred = tf.sub(pcaFeats, pcaMean);
      const proj = tf.matMul(centred, pcaBasis);
      const total = tf.sum(tf.square(centred), 1);
      const inPlane = tf.sum(tf.square(proj), 1);
      const resid = tf.relu(tf.sub(total, inPlane));
      // Probabilistic-PCA log-likelihood per feature dimension, up to a constant.
      const ll = tf.mul(
        tf.add(tf.sum(tf.mul(tf.square(proj), invVar), 1), tf.div(resid, head.residualVariance)),
        -0.5 / D,
      );
      const nat = tf.div(tf.sub(ll, head.naturalness.mean), head.naturalness.std);
      const hf = tf.slice(stats, [0, IMAGE_STAT_NAMES.indexOf('high_freq_energy')], [-1, 1]);
      const cl = tf.slice(stats, [0, IMAGE_STAT_NAMES.indexOf('clipped_fraction')], [-1, 1]);
      return tf.concat([va, tf.reshape(nat, [-1, 1]), hf, cl], 1) as tf.Tensor2D;
    });

  const score = async (images: ImageBatch, options: LocalScoreOptions = {}): Promise<LocalScores> => {
    if (disposed) throw new Error(`Local evaluator ${head.id} has been disposed.`);
    const x = imagesToTensor(images, 'images');
    const n = x.shape[0];
    const chunk = Math.max(1, Math.floor(options.chunk ?? CHUNK));
    const out = {
      valence: new Float32Array(n).fill(Number.NaN),
      arousal: new Float32Array(n).fill(Number.NaN),
      naturalness: new Float32Array(n).fill(Number.NaN),
      highFreq: new Float32Array(n).fill(Number.NaN),
      clipped: new Float32Array(n).fill(Number.NaN),
    };
    try {
      for (let start = 0; start < n; start += chunk) {
        if (options.signal?.aborted) break;
        const count = Math.min(chunk, n - start);
        const part = tf.slice(x, [start, 0, 0, 0], [count, -1, -1, -1]);
        const res = scoreChunk(part);
        part.dispose();
        const data = await res.data();
        res.dispose();
        for (let i = 0; i < count; i++) {
          out.valence[start + i] = data[i * 5] as number;
          out.arousal[start + i] = data[i * 5 + 1] as number;
          out.naturalness[start + i] = data[i * 5 + 2] as number;
          out.highFreq[start + i] = data[i * 5 + 3] as number;
          out.clipped[start + i] = data[i * 5 + 4] as number;
        }
      }
    } finally {
      x.dispose();
    }
    return out;
  };

  return {
    id: head.id,
    backbone: head.backbone,
    head,
    score,
    async evaluate(images: ImageBatch, options: EvaluateOptions = {}): Promise<Evaluation[]> {
      const s = await score(images, options);
      return Array.from({ length: batchSize(images) }, (_, i): Evaluation => {
        const valence = s.valence[i] as number;
        const arousal = s.arousal[i] as number;
        if (Number.isNaN(valence) && options.signal?.aborted)
          return { ok: false, failure: 'other', message: 'aborted before this image was scored.' };
        if (!Number.isFinite(valence) || !Number.isFinite(arousal))
          return {
            ok: false,
            failure: 'out_of_range',
            message: `the head produced a non-finite score (${valence}, ${arousal}).`,
          };
        return { ok: true, valence, arousal };
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(own);
      release();
    },
  };
}
