import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, SeededRandom } from '../src/index.js';

describe('SeededRandom', () => {
  it('repeats a stream for the same seed and differs for another', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('draws uniform values in [0, 1) with the right moments', () => {
    const r = new SeededRandom(1);
    const xs = r.uniformArray(50_000);
    let mean = 0;
    for (const x of xs) {
      expect(x >= 0 && x < 1).toBe(true);
      mean += x / xs.length;
    }
    expect(mean).toBeCloseTo(0.5, 2);
  });

  it('draws standard normals with mean 0 and variance 1', () => {
    const r = new SeededRandom(7);
    const xs = r.normalArray(50_000);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it('chooses, shuffles and draws integers within bounds', () => {
    const r = new SeededRandom(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[r.choice([0, 1, 2])]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    const s = r.shuffle([1, 2, 3, 4, 5]);
    expect([...s].sort()).toEqual([1, 2, 3, 4, 5]);
    for (let i = 0; i < 100; i++) {
      const k = r.int(-2, 3);
      expect(k).toBeGreaterThanOrEqual(-2);
      expect(k).toBeLessThan(3);
    }
  });

  it('restores its state exactly, including a cached normal', () => {
    const r = new SeededRandom(9);
    r.normal();
    const state = r.getState();
    const next = [r.normal(), r.uniform(), r.normal()];
    r.setState(state);
    expect([r.normal(), r.uniform(), r.normal()]).toEqual(next);
  });

  it('rejects bad seeds and empty choices with typed errors', () => {
    expect(() => new SeededRandom(1.5)).toThrow(InvalidArgumentError);
    expect(() => new SeededRandom(1).choice([])).toThrow(InvalidArgumentError);
  });
});
