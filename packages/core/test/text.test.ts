import { describe, expect, it } from 'vitest';
import { buildVocabulary, fnv1a, InvalidArgumentError, splitWords, Tokenizer } from '../src/index.js';

describe('tokenizer', () => {
  const tok = new Tokenizer({ vocabulary: ['a', 'red', 'sun'], hashBuckets: 4, maxTokens: 5 });

  it('splits into lowercase words and drops punctuation', () => {
    expect(splitWords("A Red, SUN! Don't panic.")).toEqual(['a', 'red', 'sun', "don't", 'panic']);
  });

  it('maps known words to their ids and unknown words to stable hashed buckets', () => {
    expect(tok.encode('a red sun')).toEqual([1, 2, 3]);
    const [id] = tok.encode('zebra');
    expect(id).toBe(4 + (fnv1a('zebra') % 4));
    expect(tok.encode('Zebra')).toEqual([id]);
    expect(tok.isKnown('zebra')).toBe(false);
    expect(tok.size).toBe(1 + 3 + 4);
  });

  it('rejects empty and over-long prompts with the limit in the message', () => {
    expect(() => tok.encode('')).toThrow(InvalidArgumentError);
    expect(() => tok.encode(' ,.!')).toThrow(/no words/);
    expect(() => tok.encode('one two three four five six')).toThrow(InvalidArgumentError);
    expect(() => tok.encode('one two three four five six')).toThrow(/6 words but the limit is 5 tokens/);
    expect(() => tok.encode(42 as unknown as string)).toThrow(InvalidArgumentError);
  });

  it('pads a batch and names the offending prompt', () => {
    const b = tok.encodeBatch(['a red', 'sun']);
    expect(Array.from(b.ids)).toEqual([1, 2, 0, 0, 0, 3, 0, 0, 0, 0]);
    expect(Array.from(b.mask)).toEqual([1, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(() => tok.encodeBatch(['a', ''])).toThrow(/prompts\[1\]/);
  });

  it('builds a vocabulary by frequency, independent of caption order', () => {
    const caps = ['a red sun', 'a blue sea', 'the red sea', 'a tree'];
    const v = buildVocabulary(caps);
    expect(v.slice(0, 3)).toEqual(['a', 'red', 'sea']);
    expect(buildVocabulary([...caps].reverse())).toEqual(v);
    expect(buildVocabulary(caps, { minCount: 2 })).toEqual(['a', 'red', 'sea']);
    expect(buildVocabulary(caps, { maxSize: 2 })).toEqual(['a', 'red']);
  });

  it('rejects bad configurations', () => {
    expect(() => new Tokenizer({ vocabulary: [], hashBuckets: 0, maxTokens: 4 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new Tokenizer({ vocabulary: [], hashBuckets: 2, maxTokens: 0 })).toThrow(
      InvalidArgumentError,
    );
  });
});
