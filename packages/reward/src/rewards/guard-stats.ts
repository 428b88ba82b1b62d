import { batchSize, type ImageBatch, InvalidArgumentError, tf, validateImageBatch } from '@emofeedback/core';

/** Side of the square the guard's statistics are measured on: the shipped generator's resolution. */
export const GUARD_SIZE = 32;

/**
 * Names of the statistics {@link guardStatistics} returns, in order. Each is chosen so that one
 * family of content-free edits moves it out of the range the generator's own images occupy:
 * brightness moves the luma mean and its black and white points, contrast and blur the luma
 * spread and edge energy, colour casts the chroma means, saturation edits the chroma spread and
 * saturation, noise and patterns the high-frequency energies, clipping the clipped share.
 */
export const GUARD_STAT_NAMES: readonly string[] = [
  'luma_mean',
  'luma_std',
  'luma_p02',
  'luma_p98',
  'chroma_rg_mean',
  'chroma_yb_mean',
  'chroma_std',
  'saturation_mean',
  'log_clipped',
  'log_high_freq',
  'log_edge',
  'log_chroma_high_freq',
];

/** Mean absolute difference between a plane and its 3×3 box blur (edges replicated). */
function highFreq(plane: Float64Array, s: number): number {
  let total = 0;
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = Math.min(s - 1, Math.max(0, y + dy));
        for (let dx = -1; dx <= 1; dx++) {
          const xx = Math.min(s - 1, Math.max(0, x + dx));
          sum += plane[yy * s + xx] as number;
        }
      }
      total += Math.abs((plane[y * s + x] as number) - sum / 9);
    }
  }
  return total / (s * s);
}

/** The value below which a share `q` of the sorted values lie (nearest rank). */
function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))] as number;
}

/**
 * The guard's statistics of one square RGB image (HWC, values in [0, 1]): see
 * {@link GUARD_STAT_NAMES}. Shares and energies enter as logarithms (with a small floor) so
 * that their spread over ordinary images is roughly symmetric.
 * @param pixels `size × size × 3` values.
 * @throws InvalidArgumentError when `pixels` does not hold `size² · 3` values.
 */
export function guardStatistics(pixels: Float32Array, size = GUARD_SIZE): Float64Array {
  const n = size * size;
  if (!(Number.isInteger(size) && size >= 3 && pixels.length === n * 3))
    throw new InvalidArgumentError('pixels', `expected ${size}×${size}×3 values, got ${pixels.length}.`);
  const luma = new Float64Array(n);
  const rg = new Float64Array(n);
  const yb = new Float64Array(n);
  let satSum = 0;
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    const r = pixels[3 * i] as number;
    const g = pixels[3 * i + 1] as number;
    const b = pixels[3 * i + 2] as number;
    luma[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    rg[i] = r - g;
    yb[i] = 0.5 * (r + g) - b;
    const mx = Math.max(r, g, b);
    satSum += (mx - Math.min(r, g, b)) / (mx + 1e-6);
    for (const v of [r, g, b]) if (v <= 1 / 255 || v >= 254 / 255) clipped++;
  }
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const variance = (a: Float64Array, m: number) => a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length;
  const lumaMean = mean(luma);
  const rgMean = mean(rg);
  const ybMean = mean(yb);
  const sorted = luma.slice().sort();
  let edge = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = luma[y * size + x] as number;
      if (x + 1 < size) edge += Math.abs((luma[y * size + x + 1] as number) - v);
      if (y + 1 < size) edge += Math.abs((luma[(y + 1) * size + x] as number) - v);
    }
  }
  const chromaHf = 0.5 * (highFreq(rg, size) + highFreq(yb, size));
  return Float64Array.from([
    lumaMean,
    Math.sqrt(variance(luma, lumaMean)),
    quantile(sorted, 0.02),
    quantile(sorted, 0.98),
    rgMean,
    ybMean,
    Math.sqrt(variance(rg, rgMean) + variance(yb, ybMean)),
    satSum / n,
    Math.log(1e-3 + clipped / (3 * n)),
    Math.log(1e-3 + highFreq(luma, size)),
    Math.log(1e-3 + edge / (2 * size * (size - 1))),
    Math.log(1e-3 + chromaHf),
  ]);
}

/**
 * {@link guardStatistics} of every image of a batch, after resizing to {@link GUARD_SIZE}²
 * (area averaging, then bilinear; a no-op for the generator's own 32 px images).
 * @throws InvalidImageError for an empty batch, mixed sizes, wrong shapes or non-finite pixels.
 */
export async function guardStatisticsBatch(images: ImageBatch): Promise<Float64Array[]> {
  validateImageBatch(images, 'images');
  const n = batchSize(images);
  const s = GUARD_SIZE;
  let pixels: Float32Array;
  const first = images instanceof tf.Tensor ? undefined : images[0];
  if (first && first.width === s && first.height === s) {
    pixels = new Float32Array(n * s * s * 3);
    (images as readonly { data: Float32Array }[]).forEach((im, i) => {
      pixels.set(im.data, i * s * s * 3);
    });
  } else {
    const resized = tf.tidy(() => {
      const x =
        images instanceof tf.Tensor
          ? images
          : tf.stack(images.map((im) => tf.tensor3d(im.data, [im.height, im.width, 3])));
      const x4 = x as tf.Tensor4D;
      const [h, w] = [x4.shape[1], x4.shape[2]];
      // Area-average first so that downsizing a large image does not alias into high frequencies.
      const f = Math.max(1, Math.min(Math.floor(h / s), Math.floor(w / s)));
      const pooled = f > 1 ? tf.avgPool(x4, f, f, 'valid') : x4;
      return tf.clipByValue(tf.image.resizeBilinear(pooled, [s, s], false, true), 0, 1);
    });
    pixels = (await resized.data()) as Float32Array;
    resized.dispose();
  }
  const size = s * s * 3;
  return Array.from({ length: n }, (_, i) => guardStatistics(pixels.subarray(i * size, (i + 1) * size), s));
}
