import { upsampleNearest2x } from '../ops.js';
import { SeededRandom } from '../random.js';
import { tf } from '../tf.js';

/**
 * The backend conformance suite: every op family the SDK's models use, forward and gradient,
 * computed on a backend and compared with the cpu backend. Shapes are small so that slow
 * backends (WebGPU on a software Vulkan driver) finish in seconds.
 */
export interface ConformanceCase {
  readonly name: string;
  /** Builds inputs from `rng` and returns the tensors to compare (outputs and gradients). */
  readonly run: (rng: SeededRandom) => tf.Tensor[];
}

/** One case's result on one backend. */
export interface ConformanceResult {
  readonly name: string;
  readonly backend: string;
  /** max |x − ref| / (1 + |ref|) over every compared element. */
  readonly maxError: number;
  readonly passed: boolean;
}

const randn = (rng: SeededRandom, shape: number[]) =>
  tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape, 'float32');

function convCase(stride: number, pad: 'same' | 'valid', k: number): ConformanceCase {
  return {
    name: `conv2d k${k} s${stride} ${pad} + grads`,
    run: (rng) => {
      const x = randn(rng, [2, 8, 8, 3]);
      const w = randn(rng, [k, k, 3, 4]);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)));
      const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad);
      return [y, ...tf.grads(f)([x, w])];
    },
  };
}

function depthwiseCase(stride: number, pad: 'same' | 'valid', mult: number): ConformanceCase {
  return {
    name: `depthwiseConv2d s${stride} ${pad} ×${mult} + grads`,
    run: (rng) => {
      const x = randn(rng, [2, 7, 7, 3]);
      const w = randn(rng, [3, 3, 3, mult]);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)));
      return [tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad), ...tf.grads(f)([x, w])];
    },
  };
}

/** The cases, in a stable order. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  convCase(1, 'same', 3),
  convCase(2, 'same', 3),
  convCase(1, 'valid', 3),
  convCase(2, 'valid', 3),
  convCase(1, 'same', 1),
  depthwiseCase(1, 'same', 1),
  depthwiseCase(2, 'same', 2),
  {
    name: 'matMul with every transpose + grads',
    run: (rng) => {
      const a = randn(rng, [5, 6]);
      const b = randn(rng, [6, 4]);
      const out: tf.Tensor[] = [];
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const A = ta ? tf.transpose(a) : a;
        const B = tb ? tf.transpose(b) : b;
        out.push(tf.matMul(A, B, ta, tb));
        out.push(
          ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q, ta, tb))))([A, B]),
        );
      }
      return out;
    },
  },
  {
    name: 'attention softmax(QKᵀ/√d)V + grads',
    run: (rng) => {
      const q = randn(rng, [2, 6, 8]);
      const k = randn(rng, [2, 5, 8]);
      const v = randn(rng, [2, 5, 8]);
      const attend = (Q: tf.Tensor, K: tf.Tensor, V: tf.Tensor) =>
        tf.matMul(tf.softmax(tf.mul(tf.matMul(Q, K, false, true), 1 / Math.sqrt(8))), V);
      return [
        attend(q, k, v),
        ...tf.grads((Q: tf.Tensor, K: tf.Tensor, V: tf.Tensor) => tf.sum(tf.square(attend(Q, K, V))))([
          q,
          k,
          v,
        ]),
      ];
    },
  },
  {
    name: 'embedding gather + grad',
    run: (rng) => {
      const table = randn(rng, [10, 4]);
      const ids = tf.tensor1d([0, 3, 3, 9, 1, 0], 'int32');
      return [tf.gather(table, ids), tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, ids))))(table)];
    },
  },
  {
    name: 'group norm, SiLU, Fourier features + grads',
    run: (rng) => {
      const x = randn(rng, [2, 4, 4, 8]);
      const f = (a: tf.Tensor) => {
        const g = tf.reshape(a, [2, 4, 4, 2, 4]);
        const { mean, variance } = tf.moments(g, [1, 2, 4], true);
        const n = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [2, 4, 4, 8]);
        const silu = tf.mul(n, tf.sigmoid(n));
        return tf.add(silu, tf.mul(tf.sin(a), tf.cos(tf.mul(a, 2))));
      };
      return [f(x), tf.grad((a: tf.Tensor) => tf.sum(tf.square(f(a))))(x)];
    },
  },
  {
    name: 'avgPool, nearest upsample, concat + grads',
    run: (rng) => {
      const x = randn(rng, [2, 8, 8, 3]);
      const f = (a: tf.Tensor) => {
        const p = tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid');
        return tf.concat([upsampleNearest2x(p), a], 3);
      };
      // resizeNearestNeighbor at batch 1 only: the cpu reference's gradient is wrong for batch > 1.
      const one = randn(rng, [1, 4, 4, 2]);
      const r = (a: tf.Tensor) => tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [8, 8]);
      return [
        f(x),
        tf.grad((a: tf.Tensor) => tf.sum(tf.square(f(a))))(x),
        r(one),
        tf.grad((a: tf.Tensor) => tf.sum(tf.square(r(a))))(one),
      ];
    },
  },
];

/** Runs one case on `backend` and on cpu and compares them. Leaves `backend` selected. */
export async function runConformanceCase(
  c: ConformanceCase,
  backend: string,
  tolerance = 1e-4,
  seed = 0,
): Promise<ConformanceResult> {
  // Async reads: WebGPU in Node has no synchronous readback.
  const read = async () => {
    const outs = tf.tidy(() => c.run(new SeededRandom(seed)));
    const data = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
    tf.dispose(outs);
    return data;
  };
  await tf.setBackend('cpu');
  const reference = await read();
  await tf.setBackend(backend);
  const actual = await read();
  let maxError = 0;
  for (const [j, ref] of reference.entries()) {
    const got = actual[j];
    if (!got || got.length !== ref.length)
      return { name: c.name, backend, maxError: Number.POSITIVE_INFINITY, passed: false };
    for (let e = 0; e < ref.length; e++) {
      const err = Math.abs((got[e] as number) - (ref[e] as number)) / (1 + Math.abs(ref[e] as number));
      maxError = Number.isNaN(err) ? Number.POSITIVE_INFINITY : Math.max(maxError, err);
    }
  }
  return { name: c.name, backend, maxError, passed: maxError <= tolerance };
}

/**
 * Runs every case on `backend` and compares it with the cpu backend. Leaves `backend` selected.
 * @param tolerance largest accepted relative error, default 1e-4.
 */
export async function runConformance(
  backend: string,
  tolerance = 1e-4,
  seed = 0,
): Promise<ConformanceResult[]> {
  const results: ConformanceResult[] = [];
  for (const [i, c] of CONFORMANCE_CASES.entries())
    results.push(await runConformanceCase(c, backend, tolerance, seed + i));
  return results;
}
