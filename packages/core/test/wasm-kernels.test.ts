import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready, SeededRandom, tf, WASM_REPLACEMENT_KERNELS } from '../src/index.js';

// Each replacement kernel against the cpu backend, on the strides, paddings and kernel sizes
// the SDK's models and the evaluator backbone use.
const TOL = 1e-4;

async function onBoth(build: (rng: SeededRandom) => tf.Tensor[]): Promise<number> {
  const results: Float32Array[][] = [];
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    results.push(tf.tidy(() => build(new SeededRandom(11)).map((t) => t.dataSync() as Float32Array)));
  }
  const [ref, got] = results as [Float32Array[], Float32Array[]];
  let max = 0;
  ref.forEach((r, i) => {
    expect(got[i]!.length).toBe(r.length);
    r.forEach((v, j) => {
      max = Math.max(max, Math.abs(v - got[i]![j]!) / (1 + Math.abs(v)));
    });
  });
  return max;
}

const randn = (rng: SeededRandom, shape: number[]) =>
  tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape);

describe('wasm replacement kernels', () => {
  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });
  afterAll(async () => {
    await ready({ device: 'cpu' });
  });

  it('are all registered on wasm', () => {
    for (const k of WASM_REPLACEMENT_KERNELS) expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
  });

  const convCases: [number, number, 'same' | 'valid' | number, number, number][] = [
    // kernel, stride, pad, H, Cin
    [3, 1, 'same', 16, 8],
    [3, 2, 'same', 16, 8],
    [3, 2, 'same', 15, 4],
    [1, 1, 'valid', 8, 16],
    [3, 1, 'valid', 9, 3],
    [4, 2, 1, 16, 4],
    [5, 1, 'same', 8, 3],
    // Taps come from the input's stride×stride parity planes: strides that do not divide H.
    [3, 3, 'valid', 14, 5],
    [2, 2, 'valid', 9, 3],
  ];
  for (const [k, s, pad, h, cin] of convCases) {
    it(`Conv2DBackpropFilter / Conv2DBackpropInput k${k} s${s} pad ${pad} ${h}×${h}×${cin}`, async () => {
      const err = await onBoth((rng) => {
        const x = randn(rng, [3, h, h, cin]);
        const w = randn(rng, [k, k, cin, 6]);
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad as 'same'))),
        )([x, w]);
        return [gx!, gw!];
      });
      expect(err).toBeLessThanOrEqual(TOL);
    });
  }

  for (const [s, pad, mult] of [
    [1, 'same', 1],
    [2, 'same', 1],
    [1, 'valid', 2],
    [2, 'valid', 3],
  ] as const) {
    it(`depthwise gradients s${s} ${pad} multiplier ${mult}`, async () => {
      const err = await onBoth((rng) => {
        const x = randn(rng, [2, 9, 9, 4]);
        const w = randn(rng, [3, 3, 4, mult]);
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad))),
        )([x, w]);
        return [gx!, gw!];
      });
      expect(err).toBeLessThanOrEqual(TOL);
    });
  }

  it('BatchMatMul with transposeA (2-D and batched)', async () => {
    const err = await onBoth((rng) => [
      tf.matMul(randn(rng, [7, 5]), randn(rng, [7, 3]), true, false),
      tf.matMul(randn(rng, [4, 7, 5]), randn(rng, [4, 7, 3]), true, false),
      tf.matMul(randn(rng, [4, 7, 5]), randn(rng, [4, 3, 7]), true, true),
    ]);
    expect(err).toBeLessThanOrEqual(TOL);
  });

  it('UnsortedSegmentSum (embedding gradients)', async () => {
    const err = await onBoth((rng) => {
      const ids = tf.tensor1d([0, 4, 4, 2, 0, 0], 'int32');
      return [
        tf.unsortedSegmentSum(randn(rng, [6, 3, 2]), ids, 5),
        tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, ids))))(randn(rng, [5, 3])),
      ];
    });
    expect(err).toBeLessThanOrEqual(TOL);
  });

  it('leave no tensors behind', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        const x = tf.ones([1, 6, 6, 2]);
        const w = tf.ones([3, 3, 2, 2]);
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')),
        )([x, w]);
        tf.matMul(tf.ones([3, 2]), tf.ones([3, 2]), true);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
