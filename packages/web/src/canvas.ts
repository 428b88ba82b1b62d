import {
  InvalidImageError,
  imagesToTensor,
  imageToRgba,
  type RgbImage,
  rgbaToImage,
  tensorToImages,
  tf,
  validateImage,
} from '@emofeedback/core';

/** The 2-D canvases images can be drawn on: a page's `<canvas>` or an `OffscreenCanvas`. */
export type AnyCanvas = HTMLCanvasElement | OffscreenCanvas;

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

function context(canvas: AnyCanvas): Context2D {
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as Context2D | null;
  if (!ctx)
    throw new InvalidImageError('canvas', 'has no 2-D context (is it already used for WebGL or WebGPU?).');
  return ctx;
}

/**
 * Draws an image on a canvas, scaled to the canvas size with nearest-neighbour pixels (so a
 * 32×32 generation stays crisp on a 256×256 canvas). Resizes the canvas to the image when
 * `fit` is `'image'`.
 * @throws InvalidImageError for a malformed image or a canvas without a 2-D context.
 */
export function drawImage(canvas: AnyCanvas, image: RgbImage, fit: 'canvas' | 'image' = 'canvas'): void {
  validateImage(image);
  if (fit === 'image') {
    canvas.width = image.width;
    canvas.height = image.height;
  }
  const ctx = context(canvas);
  const pixels = new ImageData(new Uint8ClampedArray(imageToRgba(image)), image.width, image.height);
  if (canvas.width === image.width && canvas.height === image.height) {
    ctx.putImageData(pixels, 0, 0);
    return;
  }
  const scratch = new OffscreenCanvas(image.width, image.height);
  (scratch.getContext('2d') as OffscreenCanvasRenderingContext2D).putImageData(pixels, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

/**
 * Reads a whole canvas back into an {@link RgbImage} (8-bit precision; alpha is dropped).
 * @throws InvalidImageError for a canvas without a 2-D context.
 */
export function readCanvas(canvas: AnyCanvas): RgbImage {
  const ctx = context(canvas);
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return rgbaToImage(data, width, height);
}

/**
 * Draws image `index` of a `[N, H, W, 3]` tensor in [0, 1] (or a `[H, W, 3]` tensor) on a canvas,
 * values clipped to [0, 1]. Reads the tensor asynchronously (WebGPU has no synchronous read);
 * the caller keeps ownership of the tensor.
 */
export async function drawTensor(
  canvas: AnyCanvas,
  tensor: tf.Tensor3D | tf.Tensor4D,
  index = 0,
  fit: 'canvas' | 'image' = 'canvas',
): Promise<void> {
  const one = tf.tidy(() => {
    const batch = tensor.rank === 3 ? tf.expandDims(tensor, 0) : tensor;
    return tf.slice(batch, [index, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
  });
  try {
    const [image] = await tensorToImages(one);
    drawImage(canvas, image as RgbImage, fit);
  } finally {
    one.dispose();
  }
}

/**
 * Reads a canvas into a `[1, H, W, 3]` float32 tensor in [0, 1]; the caller disposes it.
 * @throws InvalidImageError for a canvas without a 2-D context.
 */
export function canvasToTensor(canvas: AnyCanvas): tf.Tensor4D {
  return imagesToTensor([readCanvas(canvas)]);
}
