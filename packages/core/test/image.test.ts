import { describe, expect, it } from 'vitest';
import {
  InvalidImageError,
  imageGrid,
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

  it('tiles images into a grid with scaling and padding', () => {
    const grid = imageGrid([img(2, 2, 0), img(2, 2, 0.5), img(2, 2, 1)], {
      columns: 2,
      scale: 2,
      padding: 1,
    });
    expect(grid.width).toBe(2 * 4 + 3);
    expect(grid.height).toBe(2 * 4 + 3);
    const at = (x: number, y: number) => grid.data[(y * grid.width + x) * 3];
    expect(at(0, 0)).toBe(1); // padding is white
    expect(at(1, 1)).toBe(0); // first image
    expect(at(6, 4)).toBe(0.5); // second image, scaled ×2
    expect(at(1, 6)).toBe(1); // third image
    expect(at(6, 6)).toBe(1); // empty cell stays white
    expect(() => imageGrid([img(2, 2)], { columns: 0 })).toThrow(/columns/);
  });
});
