/**
 * Pure-JS image decoding and resizing for images returned by remote models. `fast-png` and
 * `jpeg-js` run in Node and in browsers, so the adapter needs no canvas.
 */
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { InvalidImageError } from '../errors.js';
import type { RgbImage } from '../image.js';

/** Decodes base64 (plain or a `data:` URL) to bytes. */
export function base64ToBytes(text: string): Uint8Array {
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1;
  const clean = (comma >= 0 ? text.slice(comma + 1) : text).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) throw new InvalidImageError('data', 'is not valid base64.');
  const s = atob(clean.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function isPng(b: Uint8Array): boolean {
  return b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

function isJpeg(b: Uint8Array): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

function pngToImage(bytes: Uint8Array): RgbImage {
  const png = decodePng(bytes);
  const { width, height } = png;
  let { channels, depth } = png;
  let src = png.data as ArrayLike<number>;
  if (png.palette) {
    // Indexed colour: expand the palette to 8-bit RGB(A).
    src = convertIndexedToRgb(png);
    channels = src.length / (width * height);
    depth = 8;
  }
  const max = depth === 16 ? 65535 : 2 ** depth - 1;
  const out = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const i = p * channels;
    if (channels >= 3) {
      // Alpha is composited over white, how transparent PNGs usually display.
      const alpha = channels === 4 ? (src[i + 3] as number) / max : 1;
      for (let c = 0; c < 3; c++) out[p * 3 + c] = ((src[i + c] as number) / max) * alpha + (1 - alpha);
    } else {
      const alpha = channels === 2 ? (src[i + 1] as number) / max : 1;
      const v = ((src[i] as number) / max) * alpha + (1 - alpha);
      out[p * 3] = v;
      out[p * 3 + 1] = v;
      out[p * 3 + 2] = v;
    }
  }
  return { width, height, data: out };
}

function jpegToImage(bytes: Uint8Array): RgbImage {
  const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
  const { width, height, data } = decoded;
  const out = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    out[p * 3] = (data[p * 4] as number) / 255;
    out[p * 3 + 1] = (data[p * 4 + 1] as number) / 255;
    out[p * 3 + 2] = (data[p * 4 + 2] as number) / 255;
  }
  return { width, height, data: out };
}

/**
 * Decodes PNG or JPEG bytes (or base64 of them) into an {@link RgbImage}.
 * @throws InvalidImageError for other formats or corrupt data.
 */
export function decodeImage(input: Uint8Array | string): RgbImage {
  const bytes = typeof input === 'string' ? base64ToBytes(input) : input;
  try {
    if (isPng(bytes)) return pngToImage(bytes);
    if (isJpeg(bytes)) return jpegToImage(bytes);
  } catch (error) {
    throw new InvalidImageError('data', `could not be decoded: ${(error as Error).message}`, {
      cause: error,
    });
  }
  throw new InvalidImageError('data', 'is neither PNG nor JPEG.');
}

/**
 * Resizes to `width × height`: area averaging when shrinking (no aliasing), bilinear when
 * enlarging. Returns the input unchanged when it already has that size.
 */
export function resizeImage(image: RgbImage, width: number, height = width): RgbImage {
  if (image.width === width && image.height === height) return image;
  const out = new Float32Array(width * height * 3);
  const sx = image.width / width;
  const sy = image.height / height;
  const src = image.data;
  const at = (x: number, y: number, c: number) => src[(y * image.width + x) * 3 + c] as number;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (sx >= 1 && sy >= 1) {
        // Box filter with fractional edge weights.
        const x0 = x * sx;
        const x1 = x0 + sx;
        const y0 = y * sy;
        const y1 = y0 + sy;
        let r = 0;
        let g = 0;
        let b = 0;
        let total = 0;
        for (let yy = Math.floor(y0); yy < Math.min(image.height, Math.ceil(y1)); yy++) {
          const wy = Math.min(y1, yy + 1) - Math.max(y0, yy);
          for (let xx = Math.floor(x0); xx < Math.min(image.width, Math.ceil(x1)); xx++) {
            const w = wy * (Math.min(x1, xx + 1) - Math.max(x0, xx));
            r += w * at(xx, yy, 0);
            g += w * at(xx, yy, 1);
            b += w * at(xx, yy, 2);
            total += w;
          }
        }
        out[o] = r / total;
        out[o + 1] = g / total;
        out[o + 2] = b / total;
      } else {
        const fx = Math.min(image.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
        const fy = Math.min(image.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
        const x0 = Math.floor(fx);
        const y0 = Math.floor(fy);
        const x1 = Math.min(image.width - 1, x0 + 1);
        const y1 = Math.min(image.height - 1, y0 + 1);
        const tx = fx - x0;
        const ty = fy - y0;
        for (let c = 0; c < 3; c++) {
          const top = at(x0, y0, c) * (1 - tx) + at(x1, y0, c) * tx;
          const bottom = at(x0, y1, c) * (1 - tx) + at(x1, y1, c) * tx;
          out[o + c] = top * (1 - ty) + bottom * ty;
        }
      }
    }
  }
  return { width, height, data: out };
}
