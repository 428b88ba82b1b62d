import type { LinearSpec, LoraAdapters, LoraTarget } from '../lora.js';
import type { SeededRandom } from '../random.js';
import { tf } from '../tf.js';

/**
 * The named variables of a model, created in a fixed order from one seeded stream so the same
 * seed gives the same initial weights. Names are the model's own (`unet.d0.conv1.weight`), not
 * tfjs's global variable names, so two models can live side by side.
 */
export class WeightSet {
  readonly variables = new Map<string, tf.Variable>();
  /** Linear layers, in creation order, for attaching adapters. */
  readonly linears: LinearSpec[] = [];

  constructor(private readonly rng: SeededRandom) {}

  /** A variable of normal draws with standard deviation `std` (0 gives zeros). */
  normal(name: string, shape: number[], std: number): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    // Always draw, even for zeros, so changing one init scale does not shift every later weight.
    const values = this.rng.normalArray(n);
    for (let i = 0; i < n; i++) values[i] = (values[i] as number) * std;
    return this.add(name, tf.tensor(values, shape));
  }

  /** A variable filled with `value`. */
  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, tf.fill(shape, value));
  }

  /** A linear layer `name.weight` (in × out, fan-in scaled) and `name.bias` (zeros). */
  linear(name: string, inF: number, outF: number, group: LoraTarget | 'other', gain = 1): void {
    this.normal(`${name}.weight`, [inF, outF], gain / Math.sqrt(inF));
    this.constant(`${name}.bias`, [outF], 0);
    this.linears.push({ name, inFeatures: inF, outFeatures: outF, group });
  }

  /** A 3×3 (or k×k) convolution `name.weight` (He init × gain) and `name.bias`. */
  conv(name: string, inC: number, outC: number, k = 3, gain = 1): void {
    this.normal(`${name}.weight`, [k, k, inC, outC], gain * Math.sqrt(2 / (k * k * inC)));
    this.constant(`${name}.bias`, [outC], 0);
  }

  /** Group-norm scale (ones) and shift (zeros). */
  norm(name: string, c: number): void {
    this.constant(`${name}.gamma`, [c], 1);
    this.constant(`${name}.beta`, [c], 0);
  }

  /** The variable called `name` (an internal error when absent: names are fixed by the model). */
  get(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`internal: no weight named '${name}'`);
    return v;
  }

  /** Total number of weights. */
  get parameterCount(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  /** Releases every variable. */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }

  private add(name: string, init: tf.Tensor): tf.Variable {
    if (this.variables.has(name)) throw new Error(`internal: duplicate weight '${name}'`);
    // Base weights are trained only by pretraining; fine-tuning trains adapters.
    const v = tf.variable(init, true);
    init.dispose();
    this.variables.set(name, v);
    return v;
  }
}

/** Applies linear layers (with their adapters) and the other layers of a {@link WeightSet}. */
export class Layers {
  constructor(
    readonly weights: WeightSet,
    readonly adapters: LoraAdapters | null,
  ) {}

  /** `x W + b` over the last axis of a tensor of any rank, plus the layer's adapter. */
  linear(name: string, x: tf.Tensor): tf.Tensor {
    const w = this.weights.get(`${name}.weight`) as tf.Tensor2D;
    const b = this.weights.get(`${name}.bias`);
    const inF = x.shape[x.shape.length - 1] as number;
    const x2 = tf.reshape(x, [-1, inF]) as tf.Tensor2D;
    let y = tf.add(tf.matMul(x2, w), b) as tf.Tensor2D;
    if (this.adapters) y = this.adapters.apply(name, x2, y);
    return tf.reshape(y, [...x.shape.slice(0, -1), w.shape[1]]);
  }

  /** A 'same'-padded convolution with bias. */
  conv(name: string, x: tf.Tensor4D, stride: 1 | 2 = 1): tf.Tensor4D {
    const w = this.weights.get(`${name}.weight`) as tf.Tensor4D;
    return tf.add(tf.conv2d(x, w, stride, 'same'), this.weights.get(`${name}.bias`));
  }

  /**
   * Group normalisation for NHWC input. Statistics come from per-channel means of x and x²
   * averaged over each group with a small matmul, and the result is applied as one per-(sample,
   * channel) scale and shift: rank-5 broadcasts are several times slower on wasm.
   */
  groupNorm(name: string, x: tf.Tensor4D, groups: number): tf.Tensor4D {
    const [n, , , c] = x.shape;
    const g = Math.min(groups, c);
    const avg = groupAveraging(c, g);
    const m1 = tf.matMul(tf.reshape(tf.mean(x, [1, 2]), [n, c]), avg);
    const m2 = tf.matMul(tf.reshape(tf.mean(tf.square(x), [1, 2]), [n, c]), avg);
    const inv = tf.rsqrt(tf.add(tf.relu(tf.sub(m2, tf.square(m1))), 1e-5));
    const scale = tf.mul(inv, this.weights.get(`${name}.gamma`));
    const shift = tf.sub(this.weights.get(`${name}.beta`), tf.mul(m1, scale));
    return tf.add(tf.mul(x, tf.reshape(scale, [n, 1, 1, c])), tf.reshape(shift, [n, 1, 1, c]));
  }
}

const averagingCache = new Map<string, Float32Array>();

/** The c×c matrix that averages channels within each of g groups. */
function groupAveraging(c: number, g: number): tf.Tensor2D {
  const key = `${c}/${g}`;
  let m = averagingCache.get(key);
  if (!m) {
    m = new Float32Array(c * c);
    const size = c / g;
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) if (Math.floor(i / size) === Math.floor(j / size)) m[i * c + j] = 1 / size;
    }
    averagingCache.set(key, m);
  }
  return tf.tensor2d(m, [c, c]);
}

/** SiLU (swish), built from sigmoid and mul, which every backend has with gradients. */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}
