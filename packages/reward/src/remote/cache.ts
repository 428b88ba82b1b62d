import { InvalidArgumentError } from '@emofeedback/core';

/**
 * A least-recently-used map with a fixed capacity: the oldest entry goes when a new one does
 * not fit. Used to remember remote answers by content hash.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  /** Most entries kept. */
  readonly maxEntries: number;

  /** @throws InvalidArgumentError when `maxEntries` is not a positive integer. */
  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new InvalidArgumentError(
        'cache.maxEntries',
        `expected a positive integer, got ${String(maxEntries)}.`,
      );
    }
    this.maxEntries = maxEntries;
  }

  /** The value under `key`, marking it as recently used. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  /** Stores `value`, evicting the least recently used entry when full. */
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * A fast 64-bit content hash (two independent 32-bit murmur-style lanes) of a byte view, as 16
 * hex digits. Not cryptographic; meant for cache keys. Works the same in Node and browsers.
 */
export function contentHash(data: ArrayBufferView | string, seed = 0): string {
  let h1 = (0x9e3779b9 ^ seed) >>> 0;
  let h2 = (0x85ebca6b ^ Math.imul(seed, 0x27d4eb2f)) >>> 0;
  const mix = (k: number) => {
    h1 = Math.imul(h1 ^ k, 0xcc9e2d51);
    h1 = ((h1 << 15) | (h1 >>> 17)) >>> 0;
    h2 = Math.imul(h2 ^ k, 0x1b873593);
    h2 = ((h2 << 13) | (h2 >>> 19)) >>> 0;
    h2 = (Math.imul(h2, 5) + 0xe6546b64) >>> 0;
    h1 = (h1 + h2) >>> 0;
  };
  let length: number;
  if (typeof data === 'string') {
    length = data.length;
    for (let i = 0; i < data.length; i++) mix(data.charCodeAt(i));
  } else {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    length = bytes.length;
    const words = Math.floor(bytes.length / 4);
    if (data.byteOffset % 4 === 0) {
      const u32 = new Uint32Array(data.buffer, data.byteOffset, words);
      for (let i = 0; i < words; i++) mix(u32[i] as number);
    } else {
      for (let i = 0; i < words; i++) {
        const o = i * 4;
        mix(
          ((bytes[o] as number) |
            ((bytes[o + 1] as number) << 8) |
            ((bytes[o + 2] as number) << 16) |
            ((bytes[o + 3] as number) << 24)) >>>
            0,
        );
      }
    }
    for (let i = words * 4; i < bytes.length; i++) mix(bytes[i] as number);
  }
  mix(length);
  const fmix = (h: number) => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  };
  const a = fmix(h1 ^ h2);
  const b = fmix((h2 + a) >>> 0);
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
