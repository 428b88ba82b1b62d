import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmoFeedbackError, InvalidArgumentError, InvalidImageError, type RgbImage } from '@emofeedback/core';
import {
  decodeImage,
  encodePng,
  readImage,
  resizeImage,
  sniffImageFormat,
  writePng,
} from '@emofeedback/node';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emofeedback-images-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const gradient = (w: number, h: number): RgbImage => {
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.set([x / (w - 1), y / (h - 1), 0.5], (y * w + x) * 3);
  return { width: w, height: h, data };
};

describe('PNG', () => {
  it('round-trips through writePng and readImage to 8-bit precision', async () => {
    const img = gradient(7, 5);
    const path = join(dir, 'g.png');
    await writePng(path, img);
    const back = await readImage(path);
    expect([back.width, back.height]).toEqual([7, 5]);
    for (let i = 0; i < img.data.length; i++)
      expect(Math.abs((back.data[i] as number) - (img.data[i] as number))).toBeLessThanOrEqual(
        0.5 / 255 + 1e-6,
      );
  });

  it('reads palette, grey and 16-bit PNGs and composites transparency over white', () => {
    const png = new PNG({ width: 2, height: 1 });
    png.data.set([255, 0, 0, 255, 0, 0, 0, 0]);
    const grey = PNG.sync.write(png, { colorType: 4 });
    const img = decodeImage(grey);
    // Red becomes grey (colour type 4 stores luminance); the transparent pixel is white.
    expect(Array.from(img.data.slice(3))).toEqual([1, 1, 1]);
    const rgba = decodeImage(PNG.sync.write(png, { colorType: 6 }));
    expect(Array.from(rgba.data)).toEqual([1, 0, 0, 1, 1, 1]);
  });

  it('clips out-of-range values when encoding', () => {
    const img: RgbImage = { width: 1, height: 1, data: Float32Array.of(-1, 0.5, 2) };
    const back = decodeImage(encodePng(img));
    expect(back.data[0]).toBe(0);
    expect(back.data[2]).toBe(1);
  });
});

describe('JPEG', () => {
  it('decodes a JPEG to about the encoded colours', async () => {
    const w = 16;
    const rgba = new Uint8Array(w * w * 4);
    for (let p = 0; p < w * w; p++) rgba.set([200, 100, 50, 255], p * 4);
    const encoded = jpeg.encode({ data: rgba, width: w, height: w }, 95);
    const path = join(dir, 'c.jpg');
    await writeFile(path, encoded.data);
    const img = await readImage(path);
    expect(img.width).toBe(16);
    expect(img.data[0]).toBeCloseTo(200 / 255, 1);
    expect(img.data[1]).toBeCloseTo(100 / 255, 1);
    expect(sniffImageFormat(await readFile(path))).toBe('jpeg');
  });
});

describe('errors', () => {
  it('names missing and unreadable files', async () => {
    await expect(readImage(join(dir, 'none.png'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(readImage(join(dir, 'none.png'))).rejects.toThrow(/none\.png/);
    const text = join(dir, 'text.png');
    await writeFile(text, 'not an image');
    await expect(readImage(text)).rejects.toThrow(InvalidImageError);
    await expect(readImage(text)).rejects.toThrow(/text\.png.*neither a PNG nor a JPEG/);
    const broken = join(dir, 'broken.png');
    const good = encodePng(gradient(4, 4));
    await writeFile(broken, good.slice(0, 30));
    await expect(readImage(broken)).rejects.toThrow(/broken\.png.*cannot decode/);
    expect(EmoFeedbackError).toBeDefined();
  });

  it('refuses to write an invalid image', async () => {
    await expect(
      writePng(join(dir, 'x.png'), { width: 2, height: 2, data: new Float32Array(3) }),
    ).rejects.toThrow(InvalidImageError);
  });
});

describe('resizeImage', () => {
  it('keeps a constant image constant and averages when shrinking', () => {
    const flat: RgbImage = { width: 10, height: 6, data: new Float32Array(180).fill(0.25) };
    const small = resizeImage(flat, { width: 3, height: 2 });
    expect(small.data.every((v) => Math.abs(v - 0.25) < 1e-6)).toBe(true);
    // A 1-px checkerboard shrunk 4× becomes mid-grey (antialiased), not aliased black or white.
    const checker: RgbImage = { width: 16, height: 16, data: new Float32Array(16 * 16 * 3) };
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 16; x++) checker.data.fill((x + y) % 2, (y * 16 + x) * 3, (y * 16 + x) * 3 + 3);
    const down = resizeImage(checker, { width: 4, height: 4 });
    for (const v of down.data) expect(v).toBeCloseTo(0.5, 1);
    const up = resizeImage(gradient(4, 4), { width: 9, height: 9 });
    expect(up.width).toBe(9);
    expect(up.data[0]).toBeCloseTo(0, 5);
    expect(() => resizeImage(flat, { width: 0, height: 2 })).toThrow(InvalidArgumentError);
  });
});
