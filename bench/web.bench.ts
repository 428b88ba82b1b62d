// Generation time per image in headless Chromium, for every backend the browser offers.
//
//   npx tsx bench/web.bench.ts [--steps 10] [--batch 4] [--repeats 3] [--budget 60] [--devices webgpu,webgl,wasm,cpu]
//
// Builds a page with the SDK (Vite), serves it on 127.0.0.1 and drives Chromium (CHROMIUM_PATH or
// the system one) with WebGPU enabled. Each backend gets a warm-up call (shader compilation,
// weight upload), then timed batches until `--repeats` or `--budget` seconds are used.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// Declares `window.sdk`, which the harness page sets.
import type {} from '../packages/web/test/e2e/harness/harness.js';
import {
  buildApp,
  findChromium,
  launchChromium,
  openPage,
  repoRoot,
  serveStatic,
} from '../packages/web/test/e2e/support.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    batch: { type: 'string', default: '4' },
    repeats: { type: 'string', default: '3' },
    budget: { type: 'string', default: '60' },
    devices: { type: 'string', default: 'webgpu,webgl,wasm,cpu' },
  },
});
const steps = Number(values.steps);
const batch = Number(values.batch);
const repeats = Number(values.repeats);
const budgetMs = Number(values.budget) * 1000;
const devices = String(values.devices).split(',');

const chromium = findChromium();
if (!chromium.path) {
  console.error(`web bench: ${chromium.reason}`);
  process.exit(1);
}

interface Row {
  device: string;
  backend: string;
  note: string;
  loadMs: number;
  warmupMs: number;
  runs: number[];
}

const dist = await buildApp(join(repoRoot, 'packages/web/test/e2e/harness'));
const server = await serveStatic(dist);
const browser = await launchChromium(chromium.path);
const rows: Row[] = [];
try {
  const page = await openPage(browser);
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const adapter = await page.evaluate(async () => (await window.sdk.web.probeWebGPU()).summary);
  for (const device of devices) {
    const row = await page.evaluate(
      async ({ device, steps, batch, repeats, budgetMs }) => {
        const { core, web, wasmPaths } = window.sdk;
        let backend: string;
        let note = '';
        try {
          const r = await web.readyBrowser({ device: device as 'wasm', wasmPaths });
          backend = r.backend;
          note = r.reason;
        } catch (error) {
          return { device, backend: '-', note: (error as Error).message, loadMs: 0, warmupMs: 0, runs: [] };
        }
        let t = performance.now();
        const generator = await core.createEmbeddedGenerator();
        const loadMs = performance.now() - t;
        const request = (n: number, offset: number) => ({
          prompts: Array.from({ length: n }, () => 'a boat on the sea at golden hour'),
          emotions: Array.from({ length: n }, () => ({ valence: 1.5, arousal: 0.5 })),
          seeds: Array.from({ length: n }, (_, i) => offset + i),
        });
        t = performance.now();
        await generator.generate(request(batch, 0), { steps: 1 });
        const warmupMs = performance.now() - t;
        const runs: number[] = [];
        const started = performance.now();
        while (runs.length < repeats && (runs.length === 0 || performance.now() - started < budgetMs)) {
          t = performance.now();
          await generator.generate(request(batch, 100 * (runs.length + 1)), { steps });
          runs.push(performance.now() - t);
        }
        generator.dispose();
        return { device, backend, note, loadMs, warmupMs, runs };
      },
      { device, steps, batch, repeats, budgetMs },
    );
    rows.push(row);
    const perImage = row.runs.length ? Math.min(...row.runs) / batch : Number.NaN;
    console.error(`  ${device}: ${row.runs.length ? `${perImage.toFixed(0)} ms/image` : row.note}`);
  }

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : Number.NaN;
  };
  console.log(
    `\nEmoFeedback² generation in Chromium ${browser.version()} — emoflow, ${steps} Euler steps, batch ${batch}`,
  );
  console.log(`WebGPU: ${adapter}\n`);
  const header = [
    'device',
    'backend',
    'ms/image (median)',
    'ms/image (best)',
    'images/s',
    'first call ms',
    'runs',
  ];
  const table = rows.map((r) => {
    const med = median(r.runs) / batch;
    const best = r.runs.length ? Math.min(...r.runs) / batch : Number.NaN;
    return r.runs.length
      ? [
          r.device,
          r.backend,
          med.toFixed(1),
          best.toFixed(1),
          (1000 / med).toFixed(2),
          r.warmupMs.toFixed(0),
          String(r.runs.length),
        ]
      : [r.device, 'unavailable', '-', '-', '-', '-', '0'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
  for (const r of rows) if (!r.runs.length) console.log(`\n${r.device}: ${r.note}`);
} finally {
  await browser.close();
  await server.close();
}
