import { describe, expect, it } from 'vitest';
import {
  InvalidImageError,
  imagesToTensor,
  imageToRgba,
  type RgbImage,
  rgbaToImage,
  tensorToImages,
  tf,
  validateImageBatch,
} from '../src/index.js';

const img = (w: number, h: number, fill = 0.5): RgbImage => ({
  width: w,
  height: h,
  data: new Float32Array(w * h * 3).fill(fill),
});

describe('images', () => {
  it('round-trips images through a tensor and RGBA', async () => {
    const a = img(4, 3, 0.2);
    a.data[5] = 1;
    const t = imagesToTensor([a, img(4, 3, 0.8)]);
    expect(t.shape).toEqual([2, 3, 4, 3]);
    const back = await tensorToImages(t);
    t.dispose();
    expect(back[0]!.data[5]).toBeCloseTo(1, 6);
    expect(back[1]!.data[0]).toBeCloseTo(0.8, 6);
    const rgba = imageToRgba(a);
    expect(rgba[3]).toBe(255);
    const again = rgbaToImage(rgba, 4, 3);
    expect(again.data[5]).toBeCloseTo(1, 6);
    expect(again.data[0]).toBeCloseTo(51 / 255, 6);
  });

  it('rejects empty batches, mixed sizes, bad shapes and non-finite pixels, naming the input', () => {
    expect(() => validateImageBatch([])).toThrow(/images: the batch is empty/);
    expect(() => validateImageBatch([img(2, 2), img(3, 2)])).toThrow(/images\[1\]/);
    const bad = img(2, 2);
    bad.data[3] = Number.NaN;
    expect(() => validateImageBatch([img(2, 2), bad], 'batch')).toThrow(/batch\[1\].*not finite/);
    expect(() => validateImageBatch([{ width: 2, height: 2, data: new Float32Array(5) }])).toThrow(
      InvalidImageError,
    );
    const t = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expect(() => validateImageBatch(t)).toThrow(/\[N, H, W, 3\]/);
    t.dispose();
    const inf = tf.fill([1, 2, 2, 3], Number.POSITIVE_INFINITY) as tf.Tensor4D;
    expect(() => validateImageBatch(inf)).toThrow(/non-finite/);
    inf.dispose();
  });
});
