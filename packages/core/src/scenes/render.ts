import { InvalidArgumentError } from '../errors.js';
import type { RgbImage } from '../image.js';
import { SeededRandom } from '../random.js';
import {
  below,
  capsule,
  circle,
  ellipse,
  mix,
  polygon,
  polyline,
  Raster,
  type Rgb,
  rect,
  rgb255,
  scaleRgb,
} from './raster.js';
import {
  SCENE_LIGHTS,
  SCENE_PALETTES,
  SCENE_SETTINGS,
  SCENE_SUBJECTS,
  SCENE_WEATHERS,
  type SceneLight,
  type SceneSetting,
  type SceneSpec,
} from './spec.js';
import { drawSubject } from './subjects.js';

/** Options for {@link renderScene}. */
export interface RenderSceneOptions {
  /** Width and height in pixels (square images). */
  readonly size: number;
  /**
   * Supersampling factor per axis for anti-aliasing; default picks about 160 samples across
   * the image (5 at 32 px, 3 at 64 px, 2 from 80 px up).
   */
  readonly supersample?: number;
}

/** Sky colours [top, horizon] for each light. */
const SKY: Readonly<Record<SceneLight, readonly [Rgb, Rgb]>> = {
  daylight: [rgb255(70, 140, 235), rgb255(180, 215, 250)],
  'golden hour': [rgb255(235, 140, 70), rgb255(255, 215, 120)],
  dusk: [rgb255(55, 45, 115), rgb255(215, 115, 130)],
  night: [rgb255(5, 8, 30), rgb255(30, 40, 85)],
  'harsh light': [rgb255(235, 240, 225), rgb255(255, 255, 245)],
};

/** Per-channel light multipliers applied to everything that does not glow. */
const LIGHT_GAIN: Readonly<Record<SceneLight, Rgb>> = {
  daylight: [1, 1, 1],
  'golden hour': [1.08, 0.9, 0.66],
  dusk: [0.78, 0.66, 0.86],
  night: [0.4, 0.44, 0.66],
  'harsh light': [1.05, 1.08, 1],
};

/** Where the ground meets the sky, per setting. */
const HORIZON: Readonly<Record<SceneSetting, number>> = {
  meadow: 0.6,
  beach: 0.5,
  forest: 0.64,
  city: 0.68,
  desert: 0.58,
  sea: 0.52,
  mountains: 0.66,
  wasteland: 0.6,
};

function vgrad(top: Rgb, bottom: Rgb, y0: number, y1: number): (x: number, y: number) => Rgb {
  return (_x, y) => mix(top, bottom, Math.min(1, Math.max(0, (y - y0) / (y1 - y0))));
}

function drawSky(r: Raster, spec: SceneSpec, rng: SeededRandom, horizon: number): void {
  let [top, bottom] = SKY[spec.light];
  if (spec.weather === 'storm' || spec.weather === 'rain') {
    const grey: Rgb = spec.light === 'night' ? rgb255(20, 22, 30) : rgb255(110, 115, 125);
    top = mix(top, grey, spec.weather === 'storm' ? 0.8 : 0.55);
    bottom = mix(bottom, grey, spec.weather === 'storm' ? 0.7 : 0.45);
  }
  r.fill(rect(0, 0, 1, horizon + 0.02), vgrad(top, bottom, 0, horizon));
  const clearish = spec.weather === 'clear' || spec.weather === 'snow';
  if (spec.light === 'night' && clearish) {
    for (let i = 0; i < 40; i++) {
      const x = rng.uniform();
      const y = rng.uniform(0, horizon * 0.9);
      r.fill(circle(x, y, rng.uniform(0.003, 0.007)), rgb255(255, 255, 230), 1, true);
    }
    if (spec.subject !== 'sun') {
      const mx = spec.x < 0.5 ? 0.82 : 0.18;
      r.fill(circle(mx, 0.14, 0.065), rgb255(245, 240, 210), 1, true);
    }
  }
  if (spec.light === 'golden hour' || spec.light === 'dusk') {
    r.fill(ellipse(0.5, horizon, 0.7, 0.12), rgb255(255, 200, 120), 0.25, true);
  }
  if (spec.weather === 'clear' && (spec.light === 'daylight' || spec.light === 'golden hour')) {
    for (let i = 0; i < 2; i++) {
      const cx = rng.uniform(0.1, 0.9);
      const cy = rng.uniform(0.08, horizon * 0.45);
      const w = rng.uniform(0.08, 0.13);
      for (const [dx, dy, k] of [
        [-w, 0.01, 0.6],
        [0, -0.015, 0.85],
        [w, 0.01, 0.6],
      ] as const) {
        r.fill(ellipse(cx + dx, cy + dy, w * k, w * k * 0.55), rgb255(250, 250, 255), 0.85);
      }
    }
  }
}

function drawSetting(r: Raster, spec: SceneSpec, rng: SeededRandom, horizon: number): void {
  const lit = spec.light === 'night' || spec.light === 'dusk';
  switch (spec.setting) {
    case 'meadow': {
      r.fill(ellipse(0.25, horizon + 0.02, 0.45, 0.08), rgb255(90, 160, 70));
      r.fill(ellipse(0.8, horizon + 0.03, 0.4, 0.07), rgb255(80, 150, 65));
      r.fill(rect(0, horizon, 1, 1), vgrad(rgb255(110, 185, 75), rgb255(60, 135, 45), horizon, 1));
      for (let i = 0; i < 30; i++) {
        const x = rng.uniform();
        const y = rng.uniform(horizon + 0.03, 1);
        r.fill(capsule(x, y, x + rng.uniform(-0.01, 0.01), y - 0.025, 0.003), rgb255(50, 110, 35));
      }
      break;
    }
    case 'beach': {
      r.fill(
        rect(0, horizon, 1, horizon + 0.16),
        vgrad(rgb255(40, 110, 175), rgb255(70, 160, 200), horizon, horizon + 0.16),
      );
      const shore = (x: number) => horizon + 0.15 + 0.015 * Math.sin(x * 14 + spec.seed);
      r.fill(
        below((x) => shore(x) - 0.012),
        rgb255(245, 250, 250),
      );
      r.fill(below(shore), vgrad(rgb255(240, 215, 160), rgb255(225, 190, 130), horizon + 0.15, 1));
      break;
    }
    case 'forest': {
      r.fill(rect(0, horizon, 1, 1), vgrad(rgb255(50, 95, 40), rgb255(35, 65, 30), horizon, 1));
      for (const [row, shade] of [
        [0, rgb255(35, 85, 45)],
        [1, rgb255(25, 70, 35)],
      ] as const) {
        for (let i = 0; i < 9; i++) {
          const x = (i + rng.uniform(-0.2, 0.2) + row * 0.5) / 8;
          const base = horizon + 0.02 + row * 0.05;
          const h = rng.uniform(0.28, 0.42);
          r.fill(rect(x - 0.012, base - 0.05, x + 0.012, base), rgb255(70, 45, 25));
          r.fill(
            polygon([
              [x - 0.07, base - 0.04],
              [x + 0.07, base - 0.04],
              [x, base - h],
            ]),
            shade,
          );
        }
      }
      break;
    }
    case 'city': {
      let x = -0.02;
      while (x < 1) {
        const w = rng.uniform(0.08, 0.16);
        const h = rng.uniform(0.2, 0.45);
        const shade = rgb255(
          ...([90, 100, 120].map((c) => c + rng.int(-25, 25)) as [number, number, number]),
        );
        r.fill(rect(x, horizon - h, x + w - 0.008, horizon), shade);
        for (let wy = horizon - h + 0.03; wy < horizon - 0.03; wy += 0.05) {
          for (let wx = x + 0.015; wx < x + w - 0.03; wx += 0.035) {
            const on = lit ? rng.uniform() < 0.6 : false;
            r.fill(
              rect(wx, wy, wx + 0.015, wy + 0.022),
              on ? rgb255(255, 220, 120) : rgb255(170, 195, 215),
              1,
              on,
            );
          }
        }
        x += w;
      }
      r.fill(rect(0, horizon, 1, 1), rgb255(75, 75, 80));
      for (let i = 0; i < 5; i++) {
        const sx = i * 0.22 + 0.03;
        r.fill(rect(sx, 0.86, sx + 0.1, 0.875), rgb255(235, 225, 150));
      }
      break;
    }
    case 'desert': {
      r.fill(
        below((x) => horizon - 0.05 + 0.04 * Math.sin(x * 5 + 1)),
        rgb255(225, 170, 100),
      );
      r.fill(
        below((x) => horizon + 0.06 + 0.05 * Math.sin(x * 4 + 3)),
        rgb255(240, 195, 120),
      );
      r.fill(
        below((x) => horizon + 0.22 + 0.04 * Math.sin(x * 6)),
        rgb255(230, 180, 105),
      );
      const cx = spec.x < 0.5 ? 0.9 : 0.1;
      const green = rgb255(60, 130, 60);
      r.fill(capsule(cx, horizon + 0.12, cx, horizon - 0.08, 0.02), green);
      r.fill(
        polyline(
          [
            [cx, horizon + 0.02],
            [cx - 0.05, horizon + 0.01],
            [cx - 0.05, horizon - 0.04],
          ],
          0.012,
        ),
        green,
      );
      break;
    }
    case 'sea': {
      r.fill(rect(0, horizon, 1, 1), vgrad(rgb255(45, 110, 170), rgb255(15, 55, 110), horizon, 1));
      for (let i = 0; i < 14; i++) {
        const x = rng.uniform();
        const y = rng.uniform(horizon + 0.04, 1);
        const w = 0.03 + 0.05 * (y - horizon);
        r.fill(ellipse(x, y, w, 0.006), rgb255(150, 200, 230), 0.8);
      }
      break;
    }
    case 'mountains': {
      const peaks: [number, number, number][] = [
        [0.2, horizon - 0.38, 0.32],
        [0.55, horizon - 0.45, 0.35],
        [0.88, horizon - 0.32, 0.28],
      ];
      for (const [px, py, hw] of peaks) {
        r.fill(
          polygon([
            [px - hw, horizon + 0.01],
            [px, py],
            [px + hw, horizon + 0.01],
          ]),
          rgb255(105, 110, 135),
        );
        const k = 0.3;
        r.fill(
          polygon([
            [px - hw * k, py + (horizon - py) * k],
            [px, py],
            [px + hw * k, py + (horizon - py) * k],
            [px, py + (horizon - py) * k * 0.75],
          ]),
          rgb255(245, 245, 250),
        );
      }
      r.fill(rect(0, horizon, 1, 1), vgrad(rgb255(100, 150, 80), rgb255(70, 115, 60), horizon, 1));
      break;
    }
    case 'wasteland': {
      r.fill(rect(0, horizon, 1, 1), vgrad(rgb255(125, 110, 95), rgb255(95, 85, 75), horizon, 1));
      for (let i = 0; i < 7; i++) {
        const x = rng.uniform();
        const y = rng.uniform(horizon + 0.05, 1);
        r.fill(
          polyline(
            [
              [x, y],
              [x + 0.04, y + rng.uniform(-0.02, 0.02)],
              [x + 0.08, y + rng.uniform(-0.03, 0.03)],
            ],
            0.003,
          ),
          rgb255(60, 50, 45),
        );
      }
      const tx = spec.x < 0.5 ? 0.88 : 0.12;
      const bark = rgb255(55, 45, 40);
      r.fill(capsule(tx, horizon + 0.06, tx, horizon - 0.22, 0.012), bark);
      r.fill(capsule(tx, horizon - 0.1, tx - 0.07, horizon - 0.2, 0.007), bark);
      r.fill(capsule(tx, horizon - 0.14, tx + 0.06, horizon - 0.25, 0.007), bark);
      break;
    }
  }
}

function drawClouds(r: Raster, spec: SceneSpec, rng: SeededRandom): void {
  if (spec.weather !== 'storm' && spec.weather !== 'rain') return;
  const dark = spec.weather === 'storm';
  const base: Rgb =
    spec.light === 'night' ? rgb255(35, 35, 45) : dark ? rgb255(70, 72, 82) : rgb255(140, 145, 155);
  for (let i = 0; i < 9; i++) {
    const cx = (i + rng.uniform(-0.3, 0.3)) / 8;
    const cy = rng.uniform(0.02, 0.16);
    r.fill(
      ellipse(cx, cy, rng.uniform(0.1, 0.16), rng.uniform(0.06, 0.09)),
      scaleRgb(base, rng.uniform(0.85, 1.1)),
    );
  }
}

function drawWeatherFront(r: Raster, spec: SceneSpec, rng: SeededRandom): void {
  const night = spec.light === 'night';
  if (spec.weather === 'rain' || spec.weather === 'storm') {
    const n = spec.weather === 'storm' ? 90 : 60;
    const colour: Rgb = night ? rgb255(120, 130, 160) : rgb255(200, 210, 230);
    for (let i = 0; i < n; i++) {
      const x = rng.uniform(-0.1, 1);
      const y = rng.uniform(-0.05, 1);
      const len = rng.uniform(0.05, 0.09);
      r.fill(capsule(x, y, x + len * 0.3, y + len, 0.0035), colour, 0.6);
    }
  }
  if (spec.weather === 'storm') {
    let x = rng.uniform(0.15, 0.85);
    if (Math.abs(x - spec.x) < 0.2) x = spec.x < 0.5 ? spec.x + 0.3 : spec.x - 0.3;
    const pts: [number, number][] = [[x, 0.1]];
    let y = 0.1;
    while (y < 0.55) {
      y += rng.uniform(0.06, 0.1);
      x += rng.uniform(-0.06, 0.06);
      pts.push([x, y]);
    }
    r.fill(polyline(pts, 0.018), rgb255(200, 210, 255), 0.35, true);
    r.fill(polyline(pts, 0.007), rgb255(255, 255, 235), 1, true);
  }
  if (spec.weather === 'snow') {
    for (let i = 0; i < 80; i++) {
      r.fill(
        circle(rng.uniform(), rng.uniform(), rng.uniform(0.006, 0.013)),
        rgb255(250, 250, 255),
        0.9,
        true,
      );
    }
  }
}

/** Light, fog and flicker: per-pixel changes after drawing. */
function applyLight(r: Raster, spec: SceneSpec, rng: SeededRandom): void {
  const gain = LIGHT_GAIN[spec.light];
  const harsh = spec.light === 'harsh light';
  const bands = Array.from({ length: 12 }, () => rng.uniform(0.72, 1.2));
  const storm = spec.weather === 'storm' ? 0.75 : spec.weather === 'rain' ? 0.88 : 1;
  const fog = spec.weather === 'fog';
  const snow = spec.weather === 'snow';
  const fogColour: Rgb = scaleRgb(
    rgb255(205, 210, 215),
    spec.light === 'night' ? 0.35 : spec.light === 'dusk' ? 0.7 : 1,
  );
  r.shade((c, x, y, glow) => {
    for (let k = 0; k < 3; k++) {
      const lit = (c[k] as number) * (gain[k] as number) * storm;
      c[k] = lit + ((c[k] as number) - lit) * glow;
    }
    if (harsh) {
      const band = bands[Math.min(11, Math.floor(y * 12))] as number;
      const dx = x - 0.5;
      const dy = y - 0.5;
      const vignette = 1 - 1.4 * (dx * dx + dy * dy);
      for (let k = 0; k < 3; k++) c[k] = (0.5 + ((c[k] as number) - 0.5) * 1.7) * band * vignette;
    }
    if (snow) {
      // A cold, pale cast: snow light is flat and bluish.
      for (let k = 0; k < 3; k++)
        c[k] = (c[k] as number) * 0.8 + (fogColour[k] as number) * (k === 2 ? 0.22 : 0.18);
    }
    if (fog) {
      const t = 0.3 + 0.2 * (1 - y);
      for (let k = 0; k < 3; k++) c[k] = (c[k] as number) * (1 - t) + (fogColour[k] as number) * t;
    }
  });
}

/** Palette grading: hue tint, then saturation, then brightness (the attributes the labels use). */
function applyPalette(r: Raster, spec: SceneSpec): void {
  const tint: Rgb =
    spec.palette === 'warm'
      ? [1.12, 0.97, 0.78]
      : spec.palette === 'cool'
        ? [0.8, 0.95, 1.15]
        : spec.palette === 'pastel'
          ? [1.03, 0.98, 1.04]
          : [1, 1, 1];
  const sat = 2 * spec.saturation;
  const b = spec.brightness;
  r.shade((c) => {
    let r0 = (c[0] as number) * tint[0];
    let g0 = (c[1] as number) * tint[1];
    let b0 = (c[2] as number) * tint[2];
    const l = 0.299 * r0 + 0.587 * g0 + 0.114 * b0;
    r0 = l + (r0 - l) * sat;
    g0 = l + (g0 - l) * sat;
    b0 = l + (b0 - l) * sat;
    if (b < 0.5) {
      const k = 0.35 + 0.65 * (b / 0.5);
      r0 *= k;
      g0 *= k;
      b0 *= k;
    } else {
      const k = 1 - (b - 0.5);
      r0 = 1 - (1 - Math.min(1, r0)) * k;
      g0 = 1 - (1 - Math.min(1, g0)) * k;
      b0 = 1 - (1 - Math.min(1, b0)) * k;
    }
    c[0] = Math.min(1, Math.max(0, r0));
    c[1] = Math.min(1, Math.max(0, g0));
    c[2] = Math.min(1, Math.max(0, b0));
  });
}

/** Where each copy of the subject goes: [cx, cy, size]. */
export function subjectPlacements(spec: SceneSpec): [number, number, number][] {
  const n = spec.count;
  const s = spec.scale * (n === 1 ? 1 : n === 2 ? 0.72 : 0.58);
  const gap = s * 1.05;
  const half = ((n - 1) * gap) / 2;
  const cx = Math.min(1 - half - s * 0.4, Math.max(half + s * 0.4, spec.x));
  return Array.from({ length: n }, (_, i) => [
    cx - half + i * gap,
    spec.y + (n > 1 && i % 2 === 1 ? 0.03 : 0),
    s,
  ]);
}

/** Throws unless `spec` is a well-formed {@link SceneSpec}. */
export function validateSceneSpec(spec: SceneSpec): void {
  if (spec === null || typeof spec !== 'object')
    throw new InvalidArgumentError('scene', 'expected a SceneSpec object.');
  const oneOf = (field: string, value: unknown, list: readonly string[]) => {
    if (!list.includes(value as string)) {
      throw new InvalidArgumentError(
        `scene.${field}`,
        `'${String(value)}' is not one of ${list.join(', ')}.`,
      );
    }
  };
  oneOf('subject', spec.subject, SCENE_SUBJECTS);
  oneOf('setting', spec.setting, SCENE_SETTINGS);
  oneOf('light', spec.light, SCENE_LIGHTS);
  oneOf('weather', spec.weather, SCENE_WEATHERS);
  oneOf('palette', spec.palette, SCENE_PALETTES);
  for (const field of ['saturation', 'brightness', 'x', 'y', 'scale'] as const) {
    const v = spec[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      throw new InvalidArgumentError(`scene.${field}`, `expected a number in [0, 1], got ${String(v)}.`);
    }
  }
  if (!Number.isInteger(spec.count) || spec.count < 1 || spec.count > 3) {
    throw new InvalidArgumentError('scene.count', `expected 1, 2 or 3, got ${String(spec.count)}.`);
  }
  if (!Number.isInteger(spec.seed))
    throw new InvalidArgumentError('scene.seed', `expected an integer, got ${String(spec.seed)}.`);
}

/**
 * Draws a scene into a square {@link RgbImage}. Pure TypeScript (no canvas), deterministic:
 * the same spec and size always give the same pixels, in Node and in browsers.
 *
 * @throws InvalidArgumentError for a malformed spec or a size outside 8..1024.
 */
export function renderScene(spec: SceneSpec, options: RenderSceneOptions): RgbImage {
  validateSceneSpec(spec);
  const size = options?.size;
  if (!Number.isInteger(size) || size < 8 || size > 1024) {
    throw new InvalidArgumentError('size', `expected an integer in [8, 1024], got ${String(size)}.`);
  }
  const factor = options.supersample ?? Math.min(5, Math.max(2, Math.round(160 / size)));
  if (!Number.isInteger(factor) || factor < 1 || factor > 8) {
    throw new InvalidArgumentError('supersample', `expected an integer in [1, 8], got ${String(factor)}.`);
  }
  const rng = new SeededRandom(spec.seed);
  const r = new Raster(size * factor, size * factor);
  const horizon = HORIZON[spec.setting];
  drawSky(r, spec, rng.fork(), horizon);
  drawClouds(r, spec, rng.fork());
  drawSetting(r, spec, rng.fork(), horizon);
  const subjectRng = rng.fork();
  for (const [cx, cy, s] of subjectPlacements(spec)) drawSubject(r, spec.subject, cx, cy, s, subjectRng);
  drawWeatherFront(r, spec, rng.fork());
  applyLight(r, spec, rng.fork());
  applyPalette(r, spec);
  return { width: size, height: size, data: r.downsample(factor) };
}
