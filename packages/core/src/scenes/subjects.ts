/**
 * Subject drawings. Each draws one subject centred at (cx, cy) with size `s` (a fraction of
 * the image height) using local coordinates u, v in about [-0.5, 0.5]. Colours are canonical
 * (red hearts, black spiders) so a subject stays recognisable under any grading.
 */
import type { SeededRandom } from '../random.js';
import {
  capsule,
  circle,
  ellipse,
  polygon,
  polyline,
  type Raster,
  type Rgb,
  rect,
  rgb255,
  union,
} from './raster.js';
import type { SceneSubject } from './spec.js';

type Pt = readonly [number, number];

/** Maps local subject coordinates to image coordinates. */
class Frame {
  constructor(
    readonly cx: number,
    readonly cy: number,
    readonly s: number,
  ) {}
  x(u: number): number {
    return this.cx + u * this.s;
  }
  y(v: number): number {
    return this.cy + v * this.s;
  }
  p(u: number, v: number): Pt {
    return [this.x(u), this.y(v)];
  }
  len(d: number): number {
    return d * this.s;
  }
}

const BLACK: Rgb = [0.03, 0.03, 0.03];

function flower(r: Raster, f: Frame, rng: SeededRandom): void {
  const green = rgb255(60, 140, 50);
  r.fill(capsule(f.x(0), f.y(-0.1), f.x(0), f.y(0.5), f.len(0.03)), green);
  r.fill(ellipse(f.x(0.11), f.y(0.3), f.len(0.13), f.len(0.05), -0.5), green);
  r.fill(ellipse(f.x(-0.11), f.y(0.38), f.len(0.13), f.len(0.05), 0.5), green);
  const petals: Rgb[] = [
    rgb255(240, 90, 150),
    rgb255(230, 40, 60),
    rgb255(250, 200, 40),
    rgb255(200, 110, 230),
  ];
  const petal = rng.choice(petals);
  const n = 6;
  for (let i = 0; i < n; i++) {
    const a = (i / n) * 2 * Math.PI + 0.3;
    r.fill(
      ellipse(f.x(0.17 * Math.cos(a)), f.y(-0.15 + 0.17 * Math.sin(a)), f.len(0.14), f.len(0.09), a),
      petal,
    );
  }
  r.fill(circle(f.x(0), f.y(-0.15), f.len(0.1)), rgb255(250, 190, 30));
  r.fill(circle(f.x(0), f.y(-0.15), f.len(0.05)), rgb255(170, 90, 20));
}

function sun(r: Raster, f: Frame): void {
  const ray = rgb255(255, 190, 40);
  r.fill(circle(f.x(0), f.y(0), f.len(0.42)), rgb255(255, 240, 150), 0.25, true);
  for (let i = 0; i < 12; i++) {
    const a = (i / 12) * 2 * Math.PI;
    const c = Math.cos(a);
    const sn = Math.sin(a);
    r.fill(
      polygon([
        f.p(0.26 * Math.cos(a - 0.14), 0.26 * Math.sin(a - 0.14)),
        f.p(0.5 * c, 0.5 * sn),
        f.p(0.26 * Math.cos(a + 0.14), 0.26 * Math.sin(a + 0.14)),
      ]),
      ray,
      1,
      true,
    );
  }
  r.fill(circle(f.x(0), f.y(0), f.len(0.29)), rgb255(255, 215, 40), 1, true);
  r.fill(circle(f.x(-0.07), f.y(-0.07), f.len(0.14)), rgb255(255, 240, 140), 0.6, true);
}

function tree(r: Raster, f: Frame): void {
  r.fill(polygon([f.p(-0.07, 0.5), f.p(-0.05, 0.0), f.p(0.05, 0.0), f.p(0.07, 0.5)]), rgb255(110, 70, 35));
  const dark = rgb255(30, 100, 35);
  const light = rgb255(60, 150, 50);
  for (const [u, v, rr] of [
    [0, -0.17, 0.25],
    [-0.2, 0.0, 0.18],
    [0.2, 0.0, 0.18],
    [0, 0.04, 0.2],
  ] as const) {
    r.fill(circle(f.x(u), f.y(v), f.len(rr)), dark);
  }
  r.fill(circle(f.x(-0.07), f.y(-0.2), f.len(0.14)), light);
  r.fill(circle(f.x(0.12), f.y(-0.06), f.len(0.1)), light, 0.7);
}

function house(r: Raster, f: Frame): void {
  r.fill(rect(f.x(0.14), f.y(-0.36), f.x(0.23), f.y(-0.12)), rgb255(120, 60, 45));
  r.fill(rect(f.x(-0.3), f.y(-0.06), f.x(0.3), f.y(0.45)), rgb255(235, 215, 170));
  r.fill(polygon([f.p(-0.4, -0.04), f.p(0, -0.4), f.p(0.4, -0.04)]), rgb255(190, 50, 40));
  r.fill(rect(f.x(-0.07), f.y(0.18), f.x(0.07), f.y(0.45)), rgb255(110, 65, 30));
  const glass = rgb255(120, 190, 235);
  r.fill(rect(f.x(-0.24), f.y(0.04), f.x(-0.11), f.y(0.16)), glass, 1, true);
  r.fill(rect(f.x(0.11), f.y(0.04), f.x(0.24), f.y(0.16)), glass, 1, true);
}

function heart(r: Raster, f: Frame): void {
  const shape = union([
    circle(f.x(-0.14), f.y(-0.09), f.len(0.17)),
    circle(f.x(0.14), f.y(-0.09), f.len(0.17)),
    polygon([f.p(-0.3, -0.03), f.p(0.3, -0.03), f.p(0, 0.38)]),
  ]);
  r.fill(shape, rgb255(225, 25, 55));
  r.fill(ellipse(f.x(-0.16), f.y(-0.13), f.len(0.06), f.len(0.035), -0.6), rgb255(255, 170, 180));
}

function dog(r: Raster, f: Frame): void {
  const fur = rgb255(200, 140, 75);
  const ear = rgb255(105, 60, 30);
  r.fill(circle(f.x(0), f.y(0), f.len(0.27)), fur);
  r.fill(ellipse(f.x(-0.27), f.y(0.06), f.len(0.09), f.len(0.22), 0.25), ear);
  r.fill(ellipse(f.x(0.27), f.y(0.06), f.len(0.09), f.len(0.22), -0.25), ear);
  r.fill(ellipse(f.x(0), f.y(0.13), f.len(0.16), f.len(0.12)), rgb255(245, 225, 190));
  r.fill(circle(f.x(-0.1), f.y(-0.06), f.len(0.04)), BLACK);
  r.fill(circle(f.x(0.1), f.y(-0.06), f.len(0.04)), BLACK);
  r.fill(ellipse(f.x(0), f.y(0.07), f.len(0.065), f.len(0.045)), BLACK);
  r.fill(ellipse(f.x(0), f.y(0.22), f.len(0.05), f.len(0.065)), rgb255(240, 100, 120));
}

function cat(r: Raster, f: Frame): void {
  const fur = rgb255(150, 150, 160);
  r.fill(polygon([f.p(-0.27, -0.05), f.p(-0.24, -0.42), f.p(-0.03, -0.2)]), fur);
  r.fill(polygon([f.p(0.27, -0.05), f.p(0.24, -0.42), f.p(0.03, -0.2)]), fur);
  r.fill(polygon([f.p(-0.22, -0.12), f.p(-0.21, -0.33), f.p(-0.09, -0.2)]), rgb255(240, 160, 175));
  r.fill(polygon([f.p(0.22, -0.12), f.p(0.21, -0.33), f.p(0.09, -0.2)]), rgb255(240, 160, 175));
  r.fill(ellipse(f.x(0), f.y(0.02), f.len(0.29), f.len(0.25)), fur);
  r.fill(ellipse(f.x(0), f.y(0.12), f.len(0.13), f.len(0.09)), rgb255(240, 240, 235));
  const eye = rgb255(120, 210, 60);
  for (const side of [-1, 1]) {
    r.fill(ellipse(f.x(side * 0.11), f.y(-0.02), f.len(0.06), f.len(0.075)), eye);
    r.fill(ellipse(f.x(side * 0.11), f.y(-0.02), f.len(0.018), f.len(0.065)), BLACK);
    for (const dv of [-0.03, 0.04]) {
      r.fill(capsule(f.x(side * 0.12), f.y(0.12), f.x(side * 0.45), f.y(0.12 + dv * 2), f.len(0.01)), BLACK);
    }
  }
  r.fill(polygon([f.p(-0.04, 0.07), f.p(0.04, 0.07), f.p(0, 0.11)]), rgb255(230, 110, 130));
}

function boat(r: Raster, f: Frame): void {
  r.fill(ellipse(f.x(0), f.y(0.34), f.len(0.55), f.len(0.07)), rgb255(40, 110, 180));
  r.fill(capsule(f.x(0), f.y(0.16), f.x(0), f.y(-0.42), f.len(0.018)), rgb255(70, 45, 25));
  r.fill(polygon([f.p(0.03, -0.4), f.p(0.03, 0.1), f.p(0.34, 0.1)]), rgb255(250, 250, 245));
  r.fill(polygon([f.p(-0.03, -0.3), f.p(-0.03, 0.1), f.p(-0.26, 0.1)]), rgb255(230, 80, 60));
  r.fill(polygon([f.p(-0.45, 0.14), f.p(0.45, 0.14), f.p(0.3, 0.34), f.p(-0.3, 0.34)]), rgb255(130, 75, 35));
  r.fill(rect(f.x(-0.4), f.y(0.17), f.x(0.4), f.y(0.2)), rgb255(240, 235, 220));
}

function spider(r: Raster, f: Frame): void {
  const leg = rgb255(15, 12, 12);
  for (const side of [-1, 1]) {
    for (let i = 0; i < 4; i++) {
      const v0 = -0.02 + i * 0.06;
      const knee: Pt = f.p(side * (0.27 + 0.02 * i), v0 - 0.2 + i * 0.06);
      const foot: Pt = f.p(side * (0.44 - 0.02 * Math.abs(i - 1.5)), v0 + 0.12 + i * 0.07);
      r.fill(polyline([f.p(side * 0.05, v0), knee, foot], f.len(0.022)), leg);
    }
  }
  r.fill(ellipse(f.x(0), f.y(0.17), f.len(0.15), f.len(0.19)), rgb255(25, 20, 20));
  r.fill(circle(f.x(0), f.y(-0.04), f.len(0.1)), rgb255(35, 28, 28));
  const red = rgb255(220, 30, 30);
  r.fill(polygon([f.p(-0.05, 0.1), f.p(0.05, 0.1), f.p(0, 0.17)]), red);
  r.fill(polygon([f.p(-0.05, 0.24), f.p(0.05, 0.24), f.p(0, 0.17)]), red);
  r.fill(circle(f.x(-0.04), f.y(-0.07), f.len(0.025)), red, 1, true);
  r.fill(circle(f.x(0.04), f.y(-0.07), f.len(0.025)), red, 1, true);
}

function snake(r: Raster, f: Frame): void {
  const n = 28;
  const green = rgb255(70, 150, 40);
  const band = rgb255(220, 200, 50);
  const pts: Pt[] = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    pts.push(f.p(-0.46 + 0.82 * t, 0.12 + 0.17 * Math.sin(2 * Math.PI * 1.25 * t + 0.6)));
  }
  for (let i = 1; i <= n; i++) {
    const t = i / n;
    const a = pts[i - 1] as Pt;
    const b = pts[i] as Pt;
    const radius = f.len(0.025 + 0.06 * Math.min(1, t * 2.5));
    r.fill(capsule(a[0], a[1], b[0], b[1], radius), Math.floor(i / 3) % 2 === 0 ? green : band);
  }
  const head = pts[n] as Pt;
  const [hx, hy] = head;
  r.fill(
    polyline(
      [
        [hx + f.len(0.06), hy],
        [hx + f.len(0.16), hy],
      ],
      f.len(0.012),
    ),
    rgb255(220, 30, 40),
  );
  r.fill(
    polyline(
      [
        [hx + f.len(0.15), hy],
        [hx + f.len(0.2), hy - f.len(0.03)],
      ],
      f.len(0.01),
    ),
    rgb255(220, 30, 40),
  );
  r.fill(ellipse(hx, hy, f.len(0.12), f.len(0.09)), green);
  r.fill(circle(hx + f.len(0.03), hy - f.len(0.03), f.len(0.018)), BLACK);
}

function skull(r: Raster, f: Frame): void {
  const bone = rgb255(238, 232, 214);
  r.fill(circle(f.x(0), f.y(-0.08), f.len(0.29)), bone);
  r.fill(rect(f.x(-0.17), f.y(0.08), f.x(0.17), f.y(0.32)), bone);
  r.fill(ellipse(f.x(-0.12), f.y(-0.03), f.len(0.085), f.len(0.09)), BLACK);
  r.fill(ellipse(f.x(0.12), f.y(-0.03), f.len(0.085), f.len(0.09)), BLACK);
  r.fill(polygon([f.p(0, 0.06), f.p(-0.045, 0.15), f.p(0.045, 0.15)]), BLACK);
  r.fill(rect(f.x(-0.15), f.y(0.21), f.x(0.15), f.y(0.225)), rgb255(60, 55, 50));
  for (let k = -2; k <= 2; k++) {
    r.fill(rect(f.x(k * 0.06 - 0.007), f.y(0.18), f.x(k * 0.06 + 0.007), f.y(0.3)), rgb255(60, 55, 50));
  }
}

function flame(r: Raster, f: Frame, u: number, v: number, w: number, h: number, color: Rgb): void {
  r.fill(
    union([
      circle(f.x(u), f.y(v), f.len(w)),
      polygon([f.p(u - w * 0.97, v - w * 0.25), f.p(u + w * 0.97, v - w * 0.25), f.p(u, v - h)]),
    ]),
    color,
    1,
    true,
  );
}

function fire(r: Raster, f: Frame): void {
  r.fill(circle(f.x(0), f.y(0.05), f.len(0.5)), rgb255(255, 140, 40), 0.22, true);
  const log = rgb255(95, 55, 25);
  r.fill(capsule(f.x(-0.32), f.y(0.4), f.x(0.32), f.y(0.3), f.len(0.05)), log);
  r.fill(capsule(f.x(-0.32), f.y(0.3), f.x(0.32), f.y(0.4), f.len(0.05)), rgb255(120, 70, 30));
  flame(r, f, -0.14, 0.2, 0.12, 0.45, rgb255(230, 60, 20));
  flame(r, f, 0.15, 0.2, 0.12, 0.4, rgb255(230, 60, 20));
  flame(r, f, 0, 0.16, 0.22, 0.66, rgb255(240, 80, 20));
  flame(r, f, 0, 0.2, 0.15, 0.45, rgb255(255, 150, 30));
  flame(r, f, 0, 0.24, 0.08, 0.24, rgb255(255, 235, 120));
}

function tombstone(r: Raster, f: Frame): void {
  r.fill(ellipse(f.x(0), f.y(0.43), f.len(0.4), f.len(0.09)), rgb255(80, 60, 40));
  const stone = rgb255(140, 140, 148);
  r.fill(
    union([rect(f.x(-0.21), f.y(-0.12), f.x(0.21), f.y(0.42)), circle(f.x(0), f.y(-0.12), f.len(0.21))]),
    stone,
  );
  r.fill(rect(f.x(-0.21), f.y(-0.12), f.x(-0.17), f.y(0.42)), rgb255(105, 105, 112));
  const cut = rgb255(65, 65, 72);
  r.fill(capsule(f.x(0), f.y(-0.2), f.x(0), f.y(0.06), f.len(0.022)), cut);
  r.fill(capsule(f.x(-0.08), f.y(-0.12), f.x(0.08), f.y(-0.12), f.len(0.022)), cut);
  r.fill(rect(f.x(-0.12), f.y(0.15), f.x(0.12), f.y(0.17)), cut);
  r.fill(rect(f.x(-0.1), f.y(0.23), f.x(0.1), f.y(0.25)), cut);
}

const DRAWERS: Readonly<Record<SceneSubject, (r: Raster, f: Frame, rng: SeededRandom) => void>> = {
  flower,
  sun,
  tree,
  house,
  heart,
  dog,
  cat,
  boat,
  spider,
  snake,
  skull,
  fire,
  tombstone,
};

/** Draws one copy of `subject`. */
export function drawSubject(
  r: Raster,
  subject: SceneSubject,
  cx: number,
  cy: number,
  s: number,
  rng: SeededRandom,
): void {
  DRAWERS[subject](r, new Frame(cx, cy, s), rng);
}
