import type { RgbImage } from '@emofeedback/core';
import { encodePng } from './files/images.js';

/** A named series of (x, y) points for a curve. */
export interface ReportSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** One image of the report, with a caption. */
export interface ReportImage {
  readonly caption: string;
  readonly image: RgbImage;
}

/** Everything the HTML report shows. */
export interface ReportData {
  readonly title: string;
  /** Before/after grids, e.g. the 5×5 valence-arousal grid per prompt. */
  readonly grids: readonly { readonly prompt: string; readonly before: RgbImage; readonly after: RgbImage }[];
  readonly curves: readonly {
    readonly title: string;
    readonly yLabel: string;
    readonly series: readonly ReportSeries[];
  }[];
  readonly trace?: {
    readonly prompt: string;
    readonly target: { readonly valence: number; readonly arousal: number };
    readonly rounds: readonly {
      readonly round: number;
      readonly prompt: string;
      readonly analysis?: string;
      readonly images: readonly ReportImage[];
    }[];
    readonly best?: ReportImage;
  };
  readonly config: Readonly<Record<string, unknown>>;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function dataUri(image: RgbImage): string {
  return `data:image/png;base64,${Buffer.from(encodePng(image)).toString('base64')}`;
}

const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];

/** An inline SVG line chart. */
function chart(title: string, yLabel: string, series: readonly ReportSeries[]): string {
  const W = 520;
  const H = 240;
  const m = { l: 56, r: 12, t: 28, b: 36 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0)
    return `<figure class="chart"><figcaption>${escapeHtml(title)}: no data</figcaption></figure>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const lines = series
    .map((s, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const pts = s.points.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
      const dots =
        s.points.length < 40
          ? s.points
              .map(
                (p) =>
                  `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="2.5" fill="${colour}"/>`,
              )
              .join('')
          : '';
      return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts}"/>${dots}`;
    })
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<tspan fill="${COLOURS[i % COLOURS.length]}" dx="${i ? 14 : 0}">■ ${escapeHtml(s.name)}</tspan>`,
    )
    .join('');
  const ticks = [y0, (y0 + y1) / 2, y1]
    .map(
      (y) =>
        `<text x="${m.l - 6}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(2)}</text><line x1="${m.l}" x2="${W - m.r}" y1="${py(y)}" y2="${py(y)}" stroke="#e5e7eb"/>`,
    )
    .join('');
  return `<figure class="chart"><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">
<text x="${m.l}" y="16" font-weight="600">${escapeHtml(title)}</text>${ticks}
<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#9ca3af"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#9ca3af"/>
${lines}<text x="${m.l}" y="${H - 8}">${legend}</text><text x="${W - m.r}" y="${H - 8}" text-anchor="end">iteration</text>
<text x="12" y="${(H - m.b + m.t) / 2}" transform="rotate(-90 12 ${(H - m.b + m.t) / 2})" text-anchor="middle">${escapeHtml(yLabel)}</text></svg></figure>`;
}

/** Renders the report as one self-contained HTML page (images inline as PNG data URIs). */
export function renderReport(data: ReportData): string {
  const grids = data.grids
    .map(
      (g) => `<section class="grid"><h3>${escapeHtml(g.prompt)}</h3><div class="pair">
<figure><img src="${dataUri(g.before)}" alt="before: ${escapeHtml(g.prompt)}"><figcaption>before RL</figcaption></figure>
<figure><img src="${dataUri(g.after)}" alt="after: ${escapeHtml(g.prompt)}"><figcaption>after RL</figcaption></figure></div>
<p class="note">Rows: valence −3 → 3 (top to bottom); columns: arousal −3 → 3 (left to right).</p></section>`,
    )
    .join('\n');
  const curves = data.curves.map((c) => chart(c.title, c.yLabel, c.series)).join('\n');
  const trace = data.trace
    ? `<h2>Textual feedback: “${escapeHtml(data.trace.prompt)}” → valence ${data.trace.target.valence}, arousal ${data.trace.target.arousal}</h2>
${data.trace.rounds
  .map(
    (r) => `<section class="round"><h3>Round ${r.round}: <q>${escapeHtml(r.prompt)}</q></h3>
${r.analysis ? `<p>${escapeHtml(r.analysis)}</p>` : ''}<div class="thumbs">${r.images
      .map(
        (i) =>
          `<figure><img src="${dataUri(i.image)}" alt="${escapeHtml(i.caption)}"><figcaption>${escapeHtml(i.caption)}</figcaption></figure>`,
      )
      .join('')}</div></section>`,
  )
  .join('\n')}
${data.trace.best ? `<section class="best"><h3>Best over all rounds</h3><figure><img src="${dataUri(data.trace.best.image)}" alt="best image"><figcaption>${escapeHtml(data.trace.best.caption)}</figcaption></figure></section>` : ''}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(data.title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#111827;padding:0 16px}
h1{font-size:24px}h2{margin-top:32px;border-bottom:1px solid #e5e7eb}
.pair,.thumbs{display:flex;gap:16px;flex-wrap:wrap}figure{margin:0}img{image-rendering:pixelated;border:1px solid #d1d5db}
.grid img{width:320px}.thumbs img{width:96px}.best img{width:192px}figcaption,.note{font-size:13px;color:#4b5563}
.charts{display:flex;flex-wrap:wrap;gap:16px}svg text{font-size:11px;fill:#374151}pre{background:#f3f4f6;padding:12px;overflow:auto}
</style></head><body>
<h1>${escapeHtml(data.title)}</h1>
<h2>Valence-arousal grids before and after reward-feedback RL</h2>
${grids}
<h2>Training curves</h2><div class="charts">${curves}</div>
${trace}
<h2>Configuration</h2><pre>${escapeHtml(JSON.stringify(data.config, null, 2))}</pre>
</body></html>
`;
}
