import { InvalidArgumentError } from '@emofeedback/core';
import { BACKBONES, type BackboneName } from './backbone.js';
import { IMAGE_STAT_NAMES } from './image-stats.js';

/**
 * A trained local head as shipped in a generated module: a linear map from backbone features
 * (plus, optionally, image statistics) to valence and arousal, and a PCA model of the training
 * images' backbone features used by the quality reward. Arrays are little-endian float32 in one
 * base64 string, in the order of `layout`.
 */
export interface SerializedHead {
  readonly format: 'emofeedback-local-head@1';
  /** Evaluator id written into reports. */
  readonly id: string;
  readonly backbone: BackboneName;
  /** Length of the backbone feature vector. */
  readonly featureSize: number;
  /** Applied to the backbone features before the head and the PCA (`sqrt`: of max(0, x)). */
  readonly featureTransform: FeatureTransform;
  /** Whether {@link IMAGE_STAT_NAMES} statistics follow the backbone features. */
  readonly useImageStats: boolean;
  /** PCA components kept for the naturalness model. */
  readonly pcaComponents: number;
  /** Mean and std of the naturalness score over the training images (to standardise it). */
  readonly naturalness: { readonly mean: number; readonly std: number };
  /** The high-frequency energy and clipped fraction a training image reaches at most (99th percentile). */
  readonly imageStatLimits: { readonly highFreq: number; readonly clipped: number };
  /** How the head was trained, for the record. */
  readonly trainedOn: string;
  /** Array names and lengths, in storage order. */
  readonly layout: readonly (readonly [string, number])[];
  readonly data: string;
}

/** Element-wise transform of the backbone features. */
export type FeatureTransform = 'none' | 'sqrt';

/** A decoded head, ready to run. */
export interface LocalHead {
  readonly id: string;
  readonly backbone: BackboneName;
  readonly featureSize: number;
  readonly featureTransform: FeatureTransform;
  readonly useImageStats: boolean;
  /** Weights `[inputs, 2]` (valence, arousal) on raw inputs (standardisation folded in). */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  /** PCA mean `[featureSize]`. */
  readonly pcaMean: Float32Array;
  /** PCA components `[featureSize, k]`, orthonormal columns. */
  readonly pcaBasis: Float32Array;
  /** Variance along each component `[k]`. */
  readonly pcaVariances: Float32Array;
  /** Mean variance of the residual outside the k components. */
  readonly residualVariance: number;
  readonly pcaComponents: number;
  readonly naturalness: { readonly mean: number; readonly std: number };
  readonly imageStatLimits: { readonly highFreq: number; readonly clipped: number };
  readonly trainedOn: string;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Encodes float32 arrays as base64 (used by the training script to write heads). */
export function encodeFloat32Base64(arrays: readonly Float32Array[]): string {
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const all = new Float32Array(total);
  let off = 0;
  for (const a of arrays) {
    all.set(a, off);
    off += a.length;
  }
  const bytes = new Uint8Array(all.buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 0x8000)));
  return btoa(binary);
}

/**
 * Decodes and checks a serialized head.
 * @throws InvalidArgumentError when the head is malformed.
 */
export function decodeHead(head: SerializedHead): LocalHead {
  const bad = (msg: string) => new InvalidArgumentError('head', msg);
  if (head.format !== 'emofeedback-local-head@1') throw bad(`unknown format '${String(head.format)}'.`);
  if (!BACKBONES.includes(head.backbone)) throw bad(`unknown backbone '${String(head.backbone)}'.`);
  if (head.featureTransform !== 'none' && head.featureTransform !== 'sqrt')
    throw bad(`unknown feature transform '${String(head.featureTransform)}'.`);
  const bytes = decodeBase64(head.data);
  if (bytes.length % 4 !== 0) throw bad('data is not a whole number of float32 values.');
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const arrays = new Map<string, Float32Array>();
  let off = 0;
  for (const [name, len] of head.layout) {
    arrays.set(name, all.subarray(off, off + len));
    off += len;
  }
  if (off !== all.length) throw bad(`layout covers ${off} values but data holds ${all.length}.`);
  const get = (name: string, len: number) => {
    const a = arrays.get(name);
    if (!a || a.length !== len)
      throw bad(`array '${name}' should hold ${len} values, holds ${a?.length ?? 'none'}.`);
    return a;
  };
  const inputs = head.featureSize + (head.useImageStats ? IMAGE_STAT_NAMES.length : 0);
  const k = head.pcaComponents;
  const rest = get('residualVariance', 1)[0] as number;
  return {
    id: head.id,
    backbone: head.backbone,
    featureSize: head.featureSize,
    featureTransform: head.featureTransform,
    useImageStats: head.useImageStats,
    weights: get('weights', inputs * 2),
    bias: get('bias', 2),
    pcaMean: get('pcaMean', head.featureSize),
    pcaBasis: get('pcaBasis', head.featureSize * k),
    pcaVariances: get('pcaVariances', k),
    residualVariance: rest,
    pcaComponents: k,
    naturalness: head.naturalness,
    imageStatLimits: head.imageStatLimits,
    trainedOn: head.trainedOn,
  };
}
