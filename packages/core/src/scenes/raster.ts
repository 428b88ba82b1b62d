/**
 * A tiny supersampling rasteriser: shapes are inside-tests in normalised coordinates
 * (x right, y down, both 0..1 across the image), painted in order onto a float RGB buffer
 * `factor` times larger than the output and box-filtered down, which anti-aliases every edge.
 */

/** An RGB colour with channels in [0, 1]. */
export type Rgb = readonly [number, number, number];

/** A region: a bounding box (for speed) and an inside test. */
export interface Shape {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  inside(x: number, y: number): boolean;
}

/** A colour, or a function of position for gradients and textures. */
export type Paint = Rgb | ((x: number, y: number) => Rgb);

export class Raster {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
  /** How much each pixel glows (lamps, fire, stars): light grading leaves glowing pixels bright. */
  readonly glow: Float32Array;

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.data = new Float32Array(width * height * 3);
    this.glow = new Float32Array(width * height);
  }

  /**
   * Paints every pixel whose centre lies inside `shape`, blended with `alpha`.
   * `emissive` marks the pixels as light sources; otherwise painting covers any glow beneath.
   */
  fill(shape: Shape, paint: Paint, alpha = 1, emissive = false): void {
    const { width, height, data, glow } = this;
    const g = emissive ? 1 : 0;
    const px0 = Math.max(0, Math.floor(shape.x0 * width));
    const px1 = Math.min(width - 1, Math.ceil(shape.x1 * width));
    const py0 = Math.max(0, Math.floor(shape.y0 * height));
    const py1 = Math.min(height - 1, Math.ceil(shape.y1 * height));
    const fixed = typeof paint === 'function' ? null : paint;
    for (let py = py0; py <= py1; py++) {
      const y = (py + 0.5) / height;
      for (let px = px0; px <= px1; px++) {
        const x = (px + 0.5) / width;
        if (!shape.inside(x, y)) continue;
        const c = fixed ?? (paint as (x: number, y: number) => Rgb)(x, y);
        const p = py * width + px;
        glow[p] = (glow[p] as number) * (1 - alpha) + g * alpha;
        const i = p * 3;
        if (alpha >= 1) {
          data[i] = c[0];
          data[i + 1] = c[1];
          data[i + 2] = c[2];
        } else {
          data[i] = (data[i] as number) * (1 - alpha) + c[0] * alpha;
          data[i + 1] = (data[i + 1] as number) * (1 - alpha) + c[1] * alpha;
          data[i + 2] = (data[i + 2] as number) * (1 - alpha) + c[2] * alpha;
        }
      }
    }
  }

  /** Applies `f` to every pixel (colour grading, fog, flicker). */
  shade(f: (c: [number, number, number], x: number, y: number, glow: number) => void): void {
    const { width, height, data, glow } = this;
    const c: [number, number, number] = [0, 0, 0];
    for (let py = 0; py < height; py++) {
      const y = (py + 0.5) / height;
      for (let px = 0; px < width; px++) {
        const i = (py * width + px) * 3;
        c[0] = data[i] as number;
        c[1] = data[i + 1] as number;
        c[2] = data[i + 2] as number;
        f(c, (px + 0.5) / width, y, glow[py * width + px] as number);
        data[i] = c[0];
        data[i + 1] = c[1];
        data[i + 2] = c[2];
      }
    }
  }

  /** Box-filters down by an integer factor. */
  downsample(factor: number): Float32Array {
    const w = Math.floor(this.width / factor);
    const h = Math.floor(this.height / factor);
    const out = new Float32Array(w * h * 3);
    const norm = 1 / (factor * factor);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let dy = 0; dy < factor; dy++) {
          let i = ((y * factor + dy) * this.width + x * factor) * 3;
          for (let dx = 0; dx < factor; dx++, i += 3) {
            r += this.data[i] as number;
            g += this.data[i + 1] as number;
            b += this.data[i + 2] as number;
          }
        }
        const o = (y * w + x) * 3;
        out[o] = r * norm;
        out[o + 1] = g * norm;
        out[o + 2] = b * norm;
      }
    }
    return out;
  }
}

// ---- shapes ---------------------------------------------------------------------------------

export function rect(x0: number, y0: number, x1: number, y1: number): Shape {
  return { x0, y0, x1, y1, inside: (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1 };
}

export function circle(cx: number, cy: number, r: number): Shape {
  const r2 = r * r;
  return {
    x0: cx - r,
    y0: cy - r,
    x1: cx + r,
    y1: cy + r,
    inside: (x, y) => (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r2,
  };
}

/** An ellipse with radii `rx`, `ry`, rotated by `angle` radians. */
export function ellipse(cx: number, cy: number, rx: number, ry: number, angle = 0): Shape {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const r = Math.max(rx, ry);
  return {
    x0: cx - r,
    y0: cy - r,
    x1: cx + r,
    y1: cy + r,
    inside: (x, y) => {
      const dx = x - cx;
      const dy = y - cy;
      const u = (dx * cos + dy * sin) / rx;
      const v = (-dx * sin + dy * cos) / ry;
      return u * u + v * v <= 1;
    },
  };
}

/** A thick line segment with round caps. */
export function capsule(ax: number, ay: number, bx: number, by: number, r: number): Shape {
  const vx = bx - ax;
  const vy = by - ay;
  const len2 = vx * vx + vy * vy || 1e-12;
  const r2 = r * r;
  return {
    x0: Math.min(ax, bx) - r,
    y0: Math.min(ay, by) - r,
    x1: Math.max(ax, bx) + r,
    y1: Math.max(ay, by) + r,
    inside: (x, y) => {
      const t = Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / len2));
      const dx = x - ax - t * vx;
      const dy = y - ay - t * vy;
      return dx * dx + dy * dy <= r2;
    },
  };
}

/** A polyline of capsules (legs, lightning, whiskers). */
export function polyline(points: readonly (readonly [number, number])[], r: number): Shape {
  const parts: Shape[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as readonly [number, number];
    const b = points[i] as readonly [number, number];
    parts.push(capsule(a[0], a[1], b[0], b[1], r));
  }
  return union(parts);
}

/** A simple polygon (even-odd rule). */
export function polygon(points: readonly (readonly [number, number])[]): Shape {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const n = points.length;
  return {
    x0: Math.min(...xs),
    y0: Math.min(...ys),
    x1: Math.max(...xs),
    y1: Math.max(...ys),
    inside: (x, y) => {
      let inside = false;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const xi = xs[i] as number;
        const yi = ys[i] as number;
        const xj = xs[j] as number;
        const yj = ys[j] as number;
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
      return inside;
    },
  };
}

export function union(shapes: readonly Shape[]): Shape {
  return {
    x0: Math.min(...shapes.map((s) => s.x0)),
    y0: Math.min(...shapes.map((s) => s.y0)),
    x1: Math.max(...shapes.map((s) => s.x1)),
    y1: Math.max(...shapes.map((s) => s.y1)),
    inside: (x, y) => shapes.some((s) => s.inside(x, y)),
  };
}

/** Points of `a` that are not in `b`. */
export function subtract(a: Shape, b: Shape): Shape {
  return { x0: a.x0, y0: a.y0, x1: a.x1, y1: a.y1, inside: (x, y) => a.inside(x, y) && !b.inside(x, y) };
}

/** Points of `a` that are also in `b`. */
export function intersect(a: Shape, b: Shape): Shape {
  return {
    x0: Math.max(a.x0, b.x0),
    y0: Math.max(a.y0, b.y0),
    x1: Math.min(a.x1, b.x1),
    y1: Math.min(a.y1, b.y1),
    inside: (x, y) => a.inside(x, y) && b.inside(x, y),
  };
}

/** The region below the curve `top(x)` (y grows downwards), from `x0` to `x1`. */
export function below(top: (x: number) => number, x0 = 0, x1 = 1, minTop = 0): Shape {
  return { x0, y0: minTop, x1, y1: 1, inside: (x, y) => y >= top(x) };
}

// ---- colour helpers -------------------------------------------------------------------------

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scaleRgb(a: Rgb, k: number): Rgb {
  return [a[0] * k, a[1] * k, a[2] * k];
}

/** A colour from 0..255 integers, for readable palettes. */
export function rgb255(r: number, g: number, b: number): Rgb {
  return [r / 255, g / 255, b / 255];
}
