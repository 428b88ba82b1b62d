import { InvalidArgumentError } from '../errors.js';

/** The id of the padding token; never produced for a word. */
export const PAD_ID = 0;

/**
 * How prompts become token ids: the known vocabulary (ids 1..V) plus `hashBuckets` extra ids for
 * words outside it (ids V+1..V+H, chosen by a hash of the word), so an unseen word still gets a
 * stable, trainable embedding instead of an error.
 */
export interface TokenizerConfig {
  /** Known words in id order; word `vocabulary[i]` has id `i + 1`. */
  readonly vocabulary: readonly string[];
  /** Buckets for unknown words (≥ 1). */
  readonly hashBuckets: number;
  /** Longest prompt in words; longer prompts are rejected with the limit in the message. */
  readonly maxTokens: number;
}

/** FNV-1a over UTF-16 code units: a small stable hash, identical in every JavaScript engine. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Splits a prompt into lowercase word tokens: runs of letters and digits (apostrophes inside a
 * word are kept, so "don't" is one token). Punctuation separates words and is dropped.
 */
export function splitWords(prompt: string): string[] {
  return prompt.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? [];
}

/**
 * Builds a vocabulary from training captions: words seen at least `minCount` times, most
 * frequent first (ties alphabetical, so the result does not depend on caption order), at most
 * `maxSize` words.
 */
export function buildVocabulary(
  captions: Iterable<string>,
  options: { maxSize?: number; minCount?: number } = {},
): string[] {
  const maxSize = options.maxSize ?? 2000;
  const minCount = options.minCount ?? 1;
  const counts = new Map<string, number>();
  for (const caption of captions) {
    for (const word of splitWords(caption)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts.entries()]
    .filter(([, n]) => n >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxSize)
    .map(([w]) => w);
}

/** Token ids of a batch of prompts, padded with {@link PAD_ID} to `maxTokens`. */
export interface TokenBatch {
  /** `[batch × maxTokens]` ids, row-major. */
  readonly ids: Int32Array;
  /** `[batch × maxTokens]`, 1 for a real token and 0 for padding. */
  readonly mask: Float32Array;
  readonly batch: number;
  readonly maxTokens: number;
}

/** Word-level tokenizer over a fixed vocabulary with hashed buckets for unknown words. */
export class Tokenizer {
  readonly config: TokenizerConfig;
  private readonly ids: Map<string, number>;

  constructor(config: TokenizerConfig) {
    if (!Number.isInteger(config.hashBuckets) || config.hashBuckets < 1) {
      throw new InvalidArgumentError('hashBuckets', `expected an integer ≥ 1, got ${config.hashBuckets}.`);
    }
    if (!Number.isInteger(config.maxTokens) || config.maxTokens < 1) {
      throw new InvalidArgumentError('maxTokens', `expected an integer ≥ 1, got ${config.maxTokens}.`);
    }
    this.config = config;
    this.ids = new Map(config.vocabulary.map((w, i) => [w, i + 1]));
  }

  /** Number of distinct ids, padding included: the embedding table's row count. */
  get size(): number {
    return 1 + this.config.vocabulary.length + this.config.hashBuckets;
  }

  /** The id of one lowercase word (a hashed bucket when the word is not in the vocabulary). */
  wordId(word: string): number {
    const known = this.ids.get(word);
    if (known !== undefined) return known;
    return 1 + this.config.vocabulary.length + (fnv1a(word) % this.config.hashBuckets);
  }

  /** Whether a word is in the vocabulary (false means it goes to a hashed bucket). */
  isKnown(word: string): boolean {
    return this.ids.has(word);
  }

  /**
   * Token ids of one prompt.
   * @throws InvalidArgumentError for a non-string, a prompt with no words, or more than `maxTokens` words.
   */
  encode(prompt: string, name = 'prompt'): number[] {
    if (typeof prompt !== 'string') {
      throw new InvalidArgumentError(name, `expected a string, got ${typeof prompt}.`);
    }
    const words = splitWords(prompt);
    if (words.length === 0) {
      throw new InvalidArgumentError(
        name,
        `${JSON.stringify(prompt)} has no words; a prompt needs 1 to ${this.config.maxTokens} words.`,
      );
    }
    if (words.length > this.config.maxTokens) {
      throw new InvalidArgumentError(
        name,
        `has ${words.length} words but the limit is ${this.config.maxTokens} tokens; shorten the prompt.`,
      );
    }
    return words.map((w) => this.wordId(w));
  }

  /** Encodes and pads a batch. Errors name the offending entry (`prompts[i]`). */
  encodeBatch(prompts: readonly string[]): TokenBatch {
    const L = this.config.maxTokens;
    const ids = new Int32Array(prompts.length * L);
    const mask = new Float32Array(prompts.length * L);
    prompts.forEach((p, i) => {
      this.encode(p, `prompts[${i}]`).forEach((id, j) => {
        ids[i * L + j] = id;
        mask[i * L + j] = 1;
      });
    });
    return { ids, mask, batch: prompts.length, maxTokens: L };
  }
}
