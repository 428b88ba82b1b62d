/**
 * Backbone features of the rated images, cached under the system temp folder so that head
 * training iterations do not rerun the backbone.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RgbImage, tf } from '@emofeedback/core';
import { resizeImage } from '@emofeedback/node';
import { acquireBackbone, type BackboneName } from '@emofeedback/reward';
import type { Sample } from './data.js';

/**
 * How an image is shown to the backbone: `native` as rated, `flip` mirrored, `px64`/`px32`
 * shrunk to 64/32 px square first (what generated images look like).
 */
export type Variant = 'native' | 'flip' | 'px64' | 'px32';

export function variantImage(image: RgbImage, variant: Variant): RgbImage {
  if (variant === 'native') return image;
  if (variant === 'px64') return resizeImage(image, { width: 64, height: 64 });
  if (variant === 'px32') return resizeImage(image, { width: 32, height: 32 });
  const { width, height, data } = image;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++)
        out[(y * width + x) * 3 + c] = data[(y * width + (width - 1 - x)) * 3 + c] as number;
  return { width, height, data: out };
}

/** Rows of a matrix as one Float32Array, `n × d`. */
export interface Matrix {
  readonly n: number;
  readonly d: number;
  readonly data: Float32Array;
}

const CACHE = join(tmpdir(), 'emofeedback-features');

/** Features `[samples, d]` for one backbone, endpoint list and variant; cached on disk. */
export async function cachedFeatures(
  backboneName: BackboneName,
  endpoints: readonly string[],
  variant: Variant,
  samples: readonly Sample[],
): Promise<Matrix[]> {
  const key = createHash('sha256')
    .update(JSON.stringify([backboneName, variant, samples.map((s) => s.id)]))
    .digest('hex')
    .slice(0, 16);
  mkdirSync(CACHE, { recursive: true });
  const files = endpoints.map((e) => join(CACHE, `${backboneName}-${e}-${variant}-${key}.f32`));
  if (files.every((f) => existsSync(f))) {
    return files.map((f) => {
      const buf = readFileSync(f);
      const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
      return { n: samples.length, d: data.length / samples.length, data };
    });
  }
  const lease = await acquireBackbone(backboneName);
  const parts: Float32Array[][] = endpoints.map(() => []);
  const t0 = Date.now();
  try {
    for (const [i, s] of samples.entries()) {
      const img = variantImage(s.image, variant);
      const x = tf.tensor4d(img.data, [1, img.height, img.width, 3]);
      const outs = lease.backbone.outputs(x, endpoints);
      for (const [j, o] of outs.entries()) parts[j]?.push((await o.data()) as Float32Array);
      tf.dispose([x, ...outs]);
      if (i % 100 === 99)
        console.error(
          `  ${backboneName} ${variant}: ${i + 1}/${samples.length} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
        );
    }
  } finally {
    lease.release();
  }
  return parts.map((p, j) => {
    const d = (p[0] as Float32Array).length;
    const data = new Float32Array(samples.length * d);
    p.forEach((row, i) => {
      data.set(row, i * d);
    });
    writeFileSync(files[j] as string, data);
    return { n: samples.length, d, data };
  });
}

/** Colour/texture statistics of every sample for one variant (cheap, cached like features). */
export async function cachedStats(variant: Variant, samples: readonly Sample[]): Promise<Matrix> {
  const { imageStatistics } = await import('@emofeedback/reward');
  const rows: Float32Array[] = [];
  for (const s of samples) {
    const img = variantImage(s.image, variant);
    const x = tf.tensor4d(img.data, [1, img.height, img.width, 3]);
    const st = imageStatistics(x);
    rows.push((await st.data()) as Float32Array);
    tf.dispose([x, st]);
  }
  const d = (rows[0] as Float32Array).length;
  const data = new Float32Array(samples.length * d);
  rows.forEach((r, i) => {
    data.set(r, i * d);
  });
  return { n: samples.length, d, data };
}
