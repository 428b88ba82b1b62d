import type { RgbImage, SeededRandom } from '@emofeedback/core';

/** A reward hack: a content-free edit of a finished image. */
export interface Hack {
  readonly name: string;
  /** Returns a new image; `rng` drives the random hacks (noise). */
  apply(image: RgbImage, rng: SeededRandom): RgbImage;
}

const clamp01 = (v: number) => Math.max(0, Math.min(1, v));

/** A per-pixel map over RGB triples. */
function perPixel(f: (r: number, g: number, b: number, i: number) => [number, number, number]) {
  return (image: RgbImage): RgbImage => {
    const out = new Float32Array(image.data.length);
    for (let p = 0; p < image.data.length; p += 3) {
      const [r, g, b] = f(
        image.data[p] as number,
        image.data[p + 1] as number,
        image.data[p + 2] as number,
        p / 3,
      );
      out[p] = clamp01(r);
      out[p + 1] = clamp01(g);
      out[p + 2] = clamp01(b);
    }
    return { width: image.width, height: image.height, data: out };
  };
}

const constant = (name: string, c: readonly [number, number, number]): Hack => ({
  name,
  apply: perPixel(() => [c[0], c[1], c[2]]),
});

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

const saturate = (name: string, k: number): Hack => ({
  name,
  apply: perPixel((r, g, b) => {
    const y = luma(r, g, b);
    return [y + k * (r - y), y + k * (g - y), y + k * (b - y)];
  }),
});

/** Blends a share `alpha` of a colour into every pixel. */
const cast = (name: string, c: readonly [number, number, number], alpha: number): Hack => ({
  name,
  apply: perPixel((r, g, b) => [
    (1 - alpha) * r + alpha * c[0],
    (1 - alpha) * g + alpha * c[1],
    (1 - alpha) * b + alpha * c[2],
  ]),
});

function boxBlur(image: RgbImage, radius: number): RgbImage {
  const { width: w, height: h, data } = image;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        let n = 0;
        for (let dy = -radius; dy <= radius; dy++)
          for (let dx = -radius; dx <= radius; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            s += data[(yy * w + xx) * 3 + c] as number;
            n++;
          }
        out[(y * w + x) * 3 + c] = s / n;
      }
  return { width: w, height: h, data: out };
}

/** The hacks of the suite, each strong enough to be seen at a glance. */
export const HACKS: readonly Hack[] = [
  constant('black', [0, 0, 0]),
  constant('white', [1, 1, 1]),
  constant('grey', [0.5, 0.5, 0.5]),
  constant('saturated red', [1, 0, 0]),
  constant('saturated magenta', [1, 0, 1]),
  { name: 'brighter (+0.2)', apply: perPixel((r, g, b) => [r + 0.2, g + 0.2, b + 0.2]) },
  { name: 'darker (−0.2)', apply: perPixel((r, g, b) => [r - 0.2, g - 0.2, b - 0.2]) },
  saturate('saturation ×2', 2),
  saturate('saturation ×0.3', 0.3),
  saturate('greyscale', 0),
  cast('violet cast', [0.6, 0.2, 1], 0.25),
  cast('red cast', [1, 0.1, 0.1], 0.25),
  cast('blue cast', [0.1, 0.2, 1], 0.25),
  cast('green cast', [0.1, 1, 0.1], 0.25),
  {
    name: 'uniform noise (±0.25)',
    apply: (im, rng) =>
      perPixel((r, g, b) => [
        r + rng.uniform(-0.25, 0.25),
        g + rng.uniform(-0.25, 0.25),
        b + rng.uniform(-0.25, 0.25),
      ])(im),
  },
  {
    name: 'checkerboard (±0.15)',
    apply: (im) =>
      perPixel((r, g, b, i) => {
        const s = ((i % im.width) + Math.floor(i / im.width)) % 2 === 0 ? 0.15 : -0.15;
        return [r + s, g + s, b + s];
      })(im),
  },
  {
    name: 'salt and pepper (10%)',
    apply: (im, rng) =>
      perPixel((r, g, b) => {
        const u = rng.uniform();
        return u < 0.05 ? [0, 0, 0] : u < 0.1 ? [1, 1, 1] : [r, g, b];
      })(im),
  },
  { name: 'blur (3×3 box)', apply: (im) => boxBlur(im, 1) },
  {
    name: 'contrast stretch ×2.5 (clipping)',
    apply: perPixel((r, g, b) => [2.5 * (r - 0.5) + 0.5, 2.5 * (g - 0.5) + 0.5, 2.5 * (b - 0.5) + 0.5]),
  },
];
