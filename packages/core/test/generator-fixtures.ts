import {
  createEmoFlowGenerator,
  type EmoFlowGenerator,
  type EmoFlowGeneratorOptions,
  tf,
} from '../src/index.js';

/** A tiny model (8×8 images, a few thousand weights) so tests run in seconds. */
export const TINY = {
  imageSize: 8,
  channels: [8, 8, 8] as [number, number, number],
  attentionDim: 8,
  heads: 2,
  condDim: 16,
  timeFeatures: 8,
  groups: 4,
  seed: 3,
  text: {
    vocabulary: ['a', 'red', 'sun', 'over', 'the', 'sea', 'dark', 'forest', 'happy', 'dog'],
    hashBuckets: 8,
    maxTokens: 6,
    dim: 8,
  },
  emotion: { fourierFeatures: 2, hidden: 8, tokens: 2 },
};

export function tinyGenerator(options: EmoFlowGeneratorOptions = {}, seed = 3): EmoFlowGenerator {
  return createEmoFlowGenerator({ ...TINY, seed }, options);
}

export const REQUEST = {
  prompts: ['a red sun over the sea', 'a dark forest', 'a happy dog'],
  emotions: [
    { valence: 2, arousal: 1 },
    { valence: -2, arousal: -1 },
    { valence: 0.5, arousal: 2.5 },
  ],
  seeds: [11, 12, 13],
};

/** Largest absolute difference between two arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expectSameLength(a, b);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function expectSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
}

/** All pixels of a list of images, concatenated. */
export function pixels(images: readonly { data: Float32Array }[]): Float32Array {
  const out = new Float32Array(images.reduce((n, i) => n + i.data.length, 0));
  let at = 0;
  for (const i of images) {
    out.set(i.data, at);
    at += i.data.length;
  }
  return out;
}

/** Perturbs every LoRA B matrix of a generator with seeded values. */
export function perturbLoraB(generator: EmoFlowGenerator, scale = 0.5): void {
  let k = 1;
  for (const [name, v] of generator.adapters?.variables ?? []) {
    if (!name.endsWith('.lora_b')) continue;
    const values = Float32Array.from({ length: v.size }, (_, i) => scale * Math.sin(1.7 * (i + 1) * k));
    v.assign(tf.tensor(values, v.shape));
    k++;
  }
}
