import { InvalidArgumentError, type RgbImage } from '@emofeedback/core';
import { encode } from 'fast-png';

/** How images are prepared before they are sent to a vision-language model. */
export interface LvlmImageOptions {
  /**
   * Images whose shorter side is below this are enlarged by a whole factor (nearest neighbour,
   * so colours stay exact) until it is reached: vision models see 32×32 thumbnails poorly.
   * `0` sends images at their own size. Default 256.
   */
  readonly minSide?: number;
  /** Largest side allowed after enlarging, in pixels. Default 2048. */
  readonly maxSide?: number;
}

/** The integer factor {@link encodeImagePng} enlarges an image by. */
export function upscaleFactor(width: number, height: number, options: LvlmImageOptions = {}): number {
  const minSide = options.minSide ?? 256;
  const maxSide = options.maxSide ?? 2048;
  if (!(Number.isFinite(minSide) && minSide >= 0)) {
    throw new InvalidArgumentError('image.minSide', `expected a number ≥ 0, got ${String(minSide)}.`);
  }
  if (!(Number.isFinite(maxSide) && maxSide >= 1)) {
    throw new InvalidArgumentError('image.maxSide', `expected a number ≥ 1, got ${String(maxSide)}.`);
  }
  const shorter = Math.min(width, height);
  if (shorter >= minSide) return 1;
  const wanted = Math.ceil(minSide / shorter);
  const allowed = Math.max(1, Math.floor(maxSide / Math.max(width, height)));
  return Math.max(1, Math.min(wanted, allowed));
}

/**
 * Encodes an {@link RgbImage} as an 8-bit RGB PNG (pure JavaScript: works in Node and browsers),
 * enlarging small images per {@link LvlmImageOptions}. Values are clipped to [0, 1].
 */
export function encodeImagePng(image: RgbImage, options: LvlmImageOptions = {}): Uint8Array {
  const { width, height, data } = image;
  const k = upscaleFactor(width, height, options);
  const outW = width * k;
  const outH = height * k;
  const out = new Uint8Array(outW * outH * 3);
  const toByte = (v: number) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255));
  for (let y = 0; y < height; y++) {
    // Build one enlarged row, then copy it k times.
    const row = new Uint8Array(outW * 3);
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 3;
      const r = toByte(data[src] as number);
      const g = toByte(data[src + 1] as number);
      const b = toByte(data[src + 2] as number);
      for (let dx = 0; dx < k; dx++) {
        const dst = (x * k + dx) * 3;
        row[dst] = r;
        row[dst + 1] = g;
        row[dst + 2] = b;
      }
    }
    for (let dy = 0; dy < k; dy++) out.set(row, (y * k + dy) * outW * 3);
  }
  return encode({ width: outW, height: outH, data: out, channels: 3, depth: 8 });
}
