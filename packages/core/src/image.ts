import { InvalidImageError } from './errors.js';
import { tf } from './tf.js';

/**
 * An RGB image: `height × width × 3` floats in [0, 1], row-major, channels last.
 * The portable image type every package passes around (PNG codecs, canvases and remote
 * models convert to and from it).
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** A batch of images: an array of {@link RgbImage} or a `[N, H, W, 3]` tensor in [0, 1]. */
export type ImageBatch = readonly RgbImage[] | tf.Tensor4D;

/**
 * Checks one image's shape and pixels.
 * @param name how the image is called in error messages, e.g. `images[2]`.
 * @throws InvalidImageError naming the image.
 */
export function validateImage(image: RgbImage, name = 'image'): RgbImage {
  if (image === null || typeof image !== 'object')
    throw new InvalidImageError(name, 'expected { width, height, data }.');
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InvalidImageError(name, `width and height must be positive integers, got ${width}×${height}.`);
  }
  if (!(data instanceof Float32Array)) throw new InvalidImageError(name, 'data must be a Float32Array.');
  if (data.length !== width * height * 3) {
    throw new InvalidImageError(
      name,
      `data has ${data.length} values; ${width}×${height} RGB needs ${width * height * 3}.`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) throw new InvalidImageError(name, `pixel value ${i} is not finite (${v}).`);
  }
  return image;
}

/**
 * Checks a batch: non-empty, every image valid, all the same size (a tensor must be
 * `[N, H, W, 3]` with finite values).
 * @throws InvalidImageError naming the offending input.
 */
export function validateImageBatch(images: ImageBatch, name = 'images'): void {
  if (images instanceof tf.Tensor) {
    if (images.rank !== 4 || images.shape[3] !== 3) {
      throw new InvalidImageError(
        name,
        `expected a [N, H, W, 3] tensor, got shape [${images.shape.join(', ')}].`,
      );
    }
    if (images.shape[0] === 0) throw new InvalidImageError(name, 'the batch is empty.');
    const finite = tf.tidy(() => tf.all(tf.isFinite(images)).dataSync()[0]);
    if (!finite) throw new InvalidImageError(name, 'the tensor holds non-finite values.');
    return;
  }
  if (!Array.isArray(images)) throw new InvalidImageError(name, 'expected an array of images or a tensor.');
  if (images.length === 0) throw new InvalidImageError(name, 'the batch is empty.');
  const first = images[0] as RgbImage;
  images.forEach((img, i) => {
    validateImage(img, `${name}[${i}]`);
    if (img.width !== first.width || img.height !== first.height) {
      throw new InvalidImageError(
        `${name}[${i}]`,
        `is ${img.width}×${img.height} but ${name}[0] is ${first.width}×${first.height}; a batch needs one size.`,
      );
    }
  });
}

/** Number of images in a batch. */
export function batchSize(images: ImageBatch): number {
  return images instanceof tf.Tensor ? (images.shape[0] as number) : images.length;
}

/** Stacks images into a `[N, H, W, 3]` tensor (the caller disposes it). Validates first. */
export function imagesToTensor(images: ImageBatch, name = 'images'): tf.Tensor4D {
  validateImageBatch(images, name);
  if (images instanceof tf.Tensor) return tf.clone(images);
  const { width, height } = images[0] as RgbImage;
  const flat = new Float32Array(images.length * width * height * 3);
  images.forEach((img, i) => {
    flat.set(img.data, i * width * height * 3);
  });
  return tf.tensor4d(flat, [images.length, height, width, 3]);
}

/** Reads a `[N, H, W, 3]` tensor back into images, clipped to [0, 1]. */
export async function tensorToImages(batch: tf.Tensor4D): Promise<RgbImage[]> {
  const [n, height, width] = batch.shape;
  const clipped = tf.clipByValue(batch, 0, 1);
  const data = (await clipped.data()) as Float32Array;
  clipped.dispose();
  const size = height * width * 3;
  return Array.from({ length: n }, (_, i) => ({ width, height, data: data.slice(i * size, (i + 1) * size) }));
}

/** Converts 8-bit RGBA pixels (canvas `ImageData`, PNG decoders) to an {@link RgbImage}. */
export function rgbaToImage(rgba: ArrayLike<number>, width: number, height: number): RgbImage {
  if (rgba.length !== width * height * 4) {
    throw new InvalidImageError(
      'rgba',
      `has ${rgba.length} values; ${width}×${height} RGBA needs ${width * height * 4}.`,
    );
  }
  const data = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data[p * 3] = (rgba[p * 4] as number) / 255;
    data[p * 3 + 1] = (rgba[p * 4 + 1] as number) / 255;
    data[p * 3 + 2] = (rgba[p * 4 + 2] as number) / 255;
  }
  return { width, height, data };
}

/** Converts an {@link RgbImage} to 8-bit RGBA (opaque), for canvases and PNG encoders. */
export function imageToRgba(image: RgbImage): Uint8ClampedArray {
  const { width, height, data } = image;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    out[p * 4] = Math.round((data[p * 3] as number) * 255);
    out[p * 4 + 1] = Math.round((data[p * 3 + 1] as number) * 255);
    out[p * 4 + 2] = Math.round((data[p * 3 + 2] as number) * 255);
    out[p * 4 + 3] = 255;
  }
  return out;
}

/**
 * Tiles images (all the same size) into one image, row by row, each scaled up by an integer
 * factor with nearest-neighbour pixels and separated by `padding` white pixels.
 */
export function imageGrid(
  images: readonly RgbImage[],
  options: { columns: number; scale?: number; padding?: number },
): RgbImage {
  validateImageBatch(images);
  const scale = options.scale ?? 1;
  const pad = options.padding ?? 2;
  const columns = options.columns;
  if (!Number.isInteger(columns) || columns < 1)
    throw new InvalidImageError('grid', `columns must be a positive integer, got ${columns}.`);
  if (!Number.isInteger(scale) || scale < 1)
    throw new InvalidImageError('grid', `scale must be a positive integer, got ${scale}.`);
  const { width, height } = images[0] as RgbImage;
  const rows = Math.ceil(images.length / columns);
  const cw = width * scale;
  const ch = height * scale;
  const W = columns * cw + (columns + 1) * pad;
  const H = rows * ch + (rows + 1) * pad;
  const data = new Float32Array(W * H * 3).fill(1);
  images.forEach((img, k) => {
    const ox = pad + (k % columns) * (cw + pad);
    const oy = pad + Math.floor(k / columns) * (ch + pad);
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const s = (Math.floor(y / scale) * width + Math.floor(x / scale)) * 3;
        const d = ((oy + y) * W + ox + x) * 3;
        data[d] = img.data[s] as number;
        data[d + 1] = img.data[s + 1] as number;
        data[d + 2] = img.data[s + 2] as number;
      }
    }
  });
  return { width: W, height: H, data };
}
