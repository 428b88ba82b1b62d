import { InvalidArgumentError } from '@emofeedback/core';
import { BACKBONES, type BackboneName } from './backbone.js';
import { IMAGE_STAT_NAMES } from './image-stats.js';

/**
 * A trained local head as shipped in a generated module: a linear map from backbone features
 * (plus, optionally, image statistics) to valence and arousal, and a PCA model of the training
 * images' backbone features used by the quality reward. Arrays are little-endian float32 in one
 * base64 string, in the order of `layout`.
 *
 * Format `@2` adds, all optional: the backbone endpoints the features come from (several layers),
 * a PCA over a leading part of the features only, and a domain gate that mixes two linear heads,
 * one fitted on photos and one on bicolour silhouettes. Arrays: `weights` `[inputs, 2·heads]`,
 * `bias` `[2·heads]`, then with a gate `gateWeights` `[inputs]` and `gateBias` `[1]`, then the PCA.
 */
export interface SerializedHead {
  readonly format: 'emofeedback-local-head@1' | 'emofeedback-local-head@2';
  /** Evaluator id written into reports. */
  readonly id: string;
  readonly backbone: BackboneName;
  /** Length of the backbone feature vector. */
  readonly featureSize: number;
  /**
   * (`@2`) Backbone endpoints whose outputs are concatenated, in order, into the feature vector,
   * with their lengths; default: the backbone's default features.
   */
  readonly endpoints?: readonly (readonly [string, number])[];
  /**
   * (`@2`) Endpoints of a second backbone whose outputs follow the first backbone's features (a
   * judge can read one network's late layers and another's early ones); their lengths count in
   * `featureSize`.
   */
  readonly secondBackbone?: {
    readonly backbone: BackboneName;
    readonly endpoints: readonly (readonly [string, number])[];
  };
  /** (`@2`) The naturalness PCA models the first this many features; default: all of them. */
  readonly pcaFeatureSize?: number;
  /**
   * (`@2`) Two heads, photo and silhouette, mixed per image by a logistic gate on the same
   * inputs: `g = sigmoid(x·gateWeights + gateBias)` is the silhouette weight.
   */
  readonly domainGate?: boolean;
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
  /** Backbone endpoints of the features, in order; undefined: the backbone's default features. */
  readonly endpoints: readonly string[] | undefined;
  /** A second backbone and its endpoints, read after the first; undefined: none. */
  readonly secondBackbone:
    | { readonly backbone: BackboneName; readonly endpoints: readonly string[] }
    | undefined;
  readonly featureTransform: FeatureTransform;
  readonly useImageStats: boolean;
  /** Number of linear heads: 1, or 2 (photo, silhouette) mixed by the gate. */
  readonly heads: 1 | 2;
  /**
   * Weights `[inputs, 2·heads]` (valence, arousal of each head) on raw inputs (standardisation
   * folded in).
   */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  /** Gate weights `[inputs]` and bias `[1]` (two heads only). */
  readonly gateWeights: Float32Array | undefined;
  readonly gateBias: number;
  /** Length of the leading part of the features the PCA models. */
  readonly pcaFeatureSize: number;
  /** PCA mean `[pcaFeatureSize]`. */
  readonly pcaMean: Float32Array;
  /** PCA components `[pcaFeatureSize, k]`, orthonormal columns. */
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
  if (head.format !== 'emofeedback-local-head@1' && head.format !== 'emofeedback-local-head@2')
    throw bad(`unknown format '${String(head.format)}'.`);
  const v2 = head.format === 'emofeedback-local-head@2';
  if (
    !v2 &&
    (head.endpoints !== undefined ||
      head.pcaFeatureSize !== undefined ||
      head.domainGate ||
      head.secondBackbone !== undefined)
  )
    throw bad('endpoints, pcaFeatureSize, domainGate and secondBackbone need format @2.');
  const second = head.secondBackbone;
  if (second) {
    if (!head.endpoints) throw bad("secondBackbone needs the first backbone's endpoints listed.");
    if (!BACKBONES.includes(second.backbone))
      throw bad(`unknown second backbone '${String(second.backbone)}'.`);
    if (second.endpoints.length === 0) throw bad('secondBackbone lists no endpoints.');
  }
  if (head.endpoints) {
    const total = [...head.endpoints, ...(second?.endpoints ?? [])].reduce((s, [, len]) => s + len, 0);
    if (total !== head.featureSize)
      throw bad(`endpoints add up to ${total} features, featureSize is ${head.featureSize}.`);
  }
  const pcaFeatureSize = head.pcaFeatureSize ?? head.featureSize;
  if (!(Number.isInteger(pcaFeatureSize) && pcaFeatureSize > 0 && pcaFeatureSize <= head.featureSize))
    throw bad(`pcaFeatureSize ${pcaFeatureSize} is not in 1..${head.featureSize}.`);
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
  const heads = head.domainGate ? 2 : 1;
  return {
    id: head.id,
    backbone: head.backbone,
    featureSize: head.featureSize,
    endpoints: head.endpoints?.map(([name]) => name),
    secondBackbone: second
      ? { backbone: second.backbone, endpoints: second.endpoints.map(([name]) => name) }
      : undefined,
    featureTransform: head.featureTransform,
    useImageStats: head.useImageStats,
    heads,
    weights: get('weights', inputs * 2 * heads),
    bias: get('bias', 2 * heads),
    gateWeights: head.domainGate ? get('gateWeights', inputs) : undefined,
    gateBias: head.domainGate ? (get('gateBias', 1)[0] as number) : 0,
    pcaFeatureSize,
    pcaMean: get('pcaMean', pcaFeatureSize),
    pcaBasis: get('pcaBasis', pcaFeatureSize * k),
    pcaVariances: get('pcaVariances', k),
    residualVariance: rest,
    pcaComponents: k,
    naturalness: head.naturalness,
    imageStatLimits: head.imageStatLimits,
    trainedOn: head.trainedOn,
  };
}
