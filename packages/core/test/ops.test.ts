import { afterAll, describe, expect, it } from 'vitest';
import { ready, stopGradient, tf, upsampleNearest2x } from '../src/index.js';

describe('upsampleNearest2x', () => {
  afterAll(async () => {
    await ready({ device: 'cpu' });
  });

  for (const device of ['cpu', 'wasm'] as const) {
    it(`repeats pixels and has the exact gradient at batch 2 on ${device}`, async () => {
      await ready({ device });
      const x = tf.reshape(tf.range(0, 8), [2, 2, 2, 1]) as tf.Tensor4D;
      const y = upsampleNearest2x(x);
      expect(y.shape).toEqual([2, 4, 4, 1]);
      const v = y.arraySync() as number[][][][];
      expect(v[1]![3]![3]![0]).toBe(7);
      expect(v[0]![0]![1]![0]).toBe(0);
      expect(v[0]![1]![2]![0]).toBe(1);
      // d/dx sum(up(x)²) = 4 · 2x for every element of every batch entry
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.square(upsampleNearest2x(a as tf.Tensor4D))))(x);
      expect(Array.from(g.dataSync())).toEqual([0, 8, 16, 24, 32, 40, 48, 56]);
    });
  }
});

describe('stopGradient', () => {
  it('passes values through and no gradient, without leaking tensors', async () => {
    await ready({ device: 'cpu' });
    const v = tf.variable(tf.tensor1d([2, 3]));
    const before = tf.memory().numTensors;
    // d/dv sum(v² + sg(10·v)) = 2v: the stopped term is a constant
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.add(tf.square(v), stopGradient(tf.mul(v, 10)))) as tf.Scalar,
      [v],
    );
    expect(value.dataSync()[0]).toBeCloseTo(4 + 9 + 50, 5);
    expect(Array.from((grads[v.name] as tf.Tensor).dataSync())).toEqual([4, 6]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });
});
