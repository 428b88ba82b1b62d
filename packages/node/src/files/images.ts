import { readFile, writeFile } from 'node:fs/promises';
import {
  EmoFeedbackError,
  InvalidArgumentError,
  InvalidImageError,
  type RgbImage,
  validateImage,
} from '@emofeedback/core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Image file formats {@link decodeImage} reads. */
export type ImageFormat = 'png' | 'jpeg';

/** A target size for resizing on load. */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/** Options of {@link readImage}. */
export interface ReadImageOptions {
  /** Resize to this size after decoding (bilinear, antialiased when shrinking). */
  readonly resize?: ImageSize;
}

/**
 * Detects PNG or JPEG from the file's first bytes (its signature), not from its name.
 * @returns the format, or `null` when the bytes are neither.
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (
    bytes.length >= 8 &&
    bytes[0] === 0x89 &&
    bytes[1] === 0x50 &&
    bytes[2] === 0x4e &&
    bytes[3] === 0x47 &&
    bytes[4] === 0x0d &&
    bytes[5] === 0x0a &&
    bytes[6] === 0x1a &&
    bytes[7] === 0x0a
  )
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/**
 * Decodes PNG or JPEG bytes into an {@link RgbImage}. PNG of any colour type and bit depth is
 * read (palette, grey, 16-bit); transparent pixels are composited over white.
 * @param name how the image is called in errors, e.g. its file path.
 * @throws InvalidImageError naming the image when the bytes are not a readable PNG or JPEG.
 */
export function decodeImage(bytes: Uint8Array, name = 'image'): RgbImage {
  const format = sniffImageFormat(bytes);
  if (format === null) throw new InvalidImageError(name, 'is neither a PNG nor a JPEG file.');
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  try {
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ({ width, height } = png);
      rgba = png.data;
    } else {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      ({ width, height } = img);
      rgba = img.data;
    }
  } catch (cause) {
    throw new InvalidImageError(
      name,
      `cannot decode this ${format.toUpperCase()} file (${(cause as Error).message ?? String(cause)}).`,
      { cause },
    );
  }
  if (!(width > 0 && height > 0))
    throw new InvalidImageError(name, `decoded to an empty ${width}×${height} image.`);
  const data = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const a = (rgba[p * 4 + 3] as number) / 255;
    for (let c = 0; c < 3; c++) data[p * 3 + c] = ((rgba[p * 4 + c] as number) / 255) * a + (1 - a);
  }
  return { width, height, data };
}

/**
 * Reads a PNG or JPEG file.
 * @throws EmoFeedbackError with code `NOT_FOUND` when the file does not exist,
 *   InvalidImageError naming the file when it is not a readable image.
 */
export async function readImage(path: string, options: ReadImageOptions = {}): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new EmoFeedbackError('NOT_FOUND', `Image file not found: ${path}`, { cause });
    throw new InvalidImageError(path, `cannot read the file (${code ?? String(cause)}).`, { cause });
  }
  const image = decodeImage(bytes, path);
  return options.resize ? resizeImage(image, options.resize) : image;
}

/**
 * Resizes an image (bilinear; when shrinking, each output pixel averages the source area it
 * covers, so small thumbnails do not alias).
 * @throws InvalidArgumentError for a size that is not two positive integers.
 */
export function resizeImage(image: RgbImage, size: ImageSize): RgbImage {
  validateImage(image);
  const { width: W, height: H } = size;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W <= 0 || H <= 0)
    throw new InvalidArgumentError('size', `expected positive integers, got ${W}×${H}.`);
  if (W === image.width && H === image.height) return { width: W, height: H, data: image.data.slice() };
  const horizontal = resample1d(image.data, image.width, image.height, W, true);
  const data = resample1d(horizontal, W, image.height, H, false);
  return { width: W, height: H, data };
}

/** Separable 1-D resampling with a triangle filter widened by the shrink factor. */
function resample1d(src: Float32Array, w: number, h: number, n: number, alongX: boolean): Float32Array {
  const inLen = alongX ? w : h;
  const other = alongX ? h : w;
  const scale = inLen / n;
  const support = Math.max(1, scale);
  const out = new Float32Array(alongX ? n * h * 3 : w * n * 3);
  for (let i = 0; i < n; i++) {
    const center = (i + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inLen - 1, Math.ceil(center + support));
    const taps: number[] = [];
    const weights: number[] = [];
    let total = 0;
    for (let j = lo; j <= hi; j++) {
      const wgt = Math.max(0, 1 - Math.abs(j - center) / support);
      if (wgt > 0) {
        taps.push(j);
        weights.push(wgt);
        total += wgt;
      }
    }
    if (taps.length === 0) {
      taps.push(Math.min(inLen - 1, Math.max(0, Math.round(center))));
      weights.push(1);
      total = 1;
    }
    for (let o = 0; o < other; o++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let t = 0; t < taps.length; t++) {
          const j = taps[t] as number;
          const idx = alongX ? (o * w + j) * 3 + c : (j * w + o) * 3 + c;
          acc += (src[idx] as number) * (weights[t] as number);
        }
        const outIdx = alongX ? (o * n + i) * 3 + c : (i * w + o) * 3 + c;
        out[outIdx] = acc / total;
      }
    }
  }
  return out;
}

/** Encodes an image as an 8-bit RGB PNG (values clipped to [0, 1]). */
export function encodePng(image: RgbImage): Uint8Array {
  validateImage(image);
  const { width, height, data } = image;
  const png = new PNG({ width, height, colorType: 2, inputHasAlpha: true });
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++)
      png.data[p * 4 + c] = Math.round(Math.min(1, Math.max(0, data[p * 3 + c] as number)) * 255);
    png.data[p * 4 + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputHasAlpha: true }));
}

/**
 * Writes an image as a PNG file.
 * @throws InvalidImageError for an invalid image (before anything is written).
 */
export async function writePng(path: string, image: RgbImage): Promise<void> {
  await writeFile(path, encodePng(image));
}
