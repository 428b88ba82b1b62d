import { InvalidImageError, imageToRgba, type RgbImage, rgbaToImage, validateImage } from '@emofeedback/core';

/** The 2-D canvases images can be drawn on: a page's `<canvas>` or an `OffscreenCanvas`. */
export type AnyCanvas = HTMLCanvasElement | OffscreenCanvas;

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

function context(canvas: AnyCanvas): Context2D {
  const ctx = canvas.getContext('2d') as Context2D | null;
  if (!ctx)
    throw new InvalidImageError('canvas', 'has no 2-D context (is it already used for WebGL or WebGPU?).');
  return ctx;
}

/**
 * Draws an image on a canvas, scaled to the canvas size with nearest-neighbour pixels (so a
 * 32×32 generation stays crisp on a 256×256 canvas). Resizes the canvas to the image when
 * `fit` is `'image'`.
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

/** Reads a canvas (or a region of it) back into an {@link RgbImage}. */
export function readCanvas(canvas: AnyCanvas): RgbImage {
  const ctx = context(canvas);
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return rgbaToImage(data, width, height);
}
