import { InvalidArgumentError } from './errors.js';

/**
 * The one seeded random number generator every EmoFeedback² package draws from.
 *
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32: fast, 128-bit state, and identical
 * on every JavaScript engine, so a seed reproduces the same images in Node and in a browser.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;
  /** The seed this generator was created with. */
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) {
      throw new InvalidArgumentError('seed', `expected an integer, got ${String(seed)}.`);
    }
    this.seed = seed;
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [lo, hi) (default [0, 1)), with 32 bits of resolution. */
  uniform(lo = 0, hi = 1): number {
    return lo + (this.nextUint32() / 4294967296) * (hi - lo);
  }

  /** Uniform integer in [lo, hi). */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new InvalidArgumentError('range', `expected hi > lo, got [${lo}, ${hi}).`);
    return lo + Math.floor(this.uniform() * (hi - lo));
  }

  /** Normal with the given mean and standard deviation (Box-Muller, pairs cached). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** `n` standard normal draws as a Float32Array (for noise tensors). */
  normalArray(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /** `n` uniform [0, 1) draws as a Float32Array. */
  uniformArray(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform();
    return out;
  }

  /** One element of a non-empty array, uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new InvalidArgumentError('items', 'cannot choose from an empty array.');
    return items[this.int(0, items.length)] as T;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  /** A new independent generator derived from this one, for handing to a sub-task. */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32() | 0);
  }

  /** The full internal state, so a resumed run continues the exact same stream. */
  getState(): [number, number, number, number, number | null] {
    return [this.s0, this.s1, this.s2, this.s3, this.spareNormal];
  }

  /** Restores a state from {@link getState}. */
  setState(state: readonly [number, number, number, number, number | null]): void {
    [this.s0, this.s1, this.s2, this.s3, this.spareNormal] = state;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Shorthand for `new SeededRandom(seed)`. */
export function seededRandom(seed: number): SeededRandom {
  return new SeededRandom(seed);
}
