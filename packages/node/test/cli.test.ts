import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/index.js';

// End-to-end: the built `emofeedback` binary as a subprocess (`pnpm test` builds first).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const DATA = fileURLToPath(new URL('../../../../shared/data/bass', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, '--device', 'wasm', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** stderr without the lines tfjs prints on its own. */
const errors = (r: Run) =>
  r.stderr
    .split('\n')
    .filter((l) => l.startsWith('emofeedback:'))
    .join('\n');

let dir: string;
let dataset: string;

beforeAll(async () => {
  expect(existsSync(CLI), 'run `pnpm build` first (pnpm test does)').toBe(true);
  dir = await mkdtemp(join(tmpdir(), 'emofeedback-cli-'));
  // A small rated dataset in the shared layout: images/ + ratings.csv (1-9 SAM).
  dataset = join(dir, 'rated');
  await mkdir(join(dataset, 'images'), { recursive: true });
  const lines = (await readFile(join(DATA, 'ratings.csv'), 'utf8')).trim().split('\n');
  const rows = lines.slice(1, 13);
  for (const row of rows) {
    const file = row.split(',')[0] as string;
    await copyFile(join(DATA, file), join(dataset, file));
  }
  await writeFile(join(dataset, 'ratings.csv'), `${[lines[0], ...rows].join('\n')}\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('emofeedback (built CLI)', () => {
  it('prints help for every command and exits 0', async () => {
    const root = await run(['--help']);
    expect(root.code).toBe(0);
    for (const command of ['generate', 'evaluate', 'refine', 'train', 'report']) {
      expect(root.stdout).toContain(command);
      const r = await run([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout).toMatch(/Usage: emofeedback/);
    }
  });

  it('rejects unknown flags and bad values with one line on stderr and exit code 2', async () => {
    const unknown = await run([
      'generate',
      '--prompt',
      'x',
      '--valence',
      '0',
      '--arousal',
      '0',
      '--out',
      'x.png',
      '--colour',
      'red',
    ]);
    expect(unknown.code).toBe(2);
    expect(errors(unknown)).toMatch(/unknown option '--colour'/);
    const badValence = await run([
      'generate',
      '--prompt',
      'x',
      '--valence',
      '9',
      '--arousal',
      '0',
      '--out',
      join(dir, 'x.png'),
    ]);
    expect(badValence.code).toBe(2);
    expect(errors(badValence)).toMatch(/target\.valence/);
    expect(existsSync(join(dir, 'x.png'))).toBe(false);
    const notPng = await run([
      'generate',
      '--prompt',
      'x',
      '--valence',
      '0',
      '--arousal',
      '0',
      '--out',
      join(dir, 'x.jpg'),
    ]);
    expect(notPng.code).toBe(2);
    const device = await run(['--device', 'tpu', 'evaluate', '--images', dir]);
    expect(device.code).toBe(2);
    expect(errors(device).split('\n')).toHaveLength(1);
  });

  it('generate writes a PNG of the shipped generator', async () => {
    const out = join(dir, 'gen', 'calm.png');
    const r = await run([
      'generate',
      '--prompt',
      'a boat on the calm sea',
      '--valence',
      '2',
      '--arousal',
      '-2',
      '--seed',
      '3',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.out).toBe(out);
    const image = decodeImage(new Uint8Array(await readFile(out)));
    expect(image.width).toBe(result.width);
    const again = join(dir, 'gen', 'again.png');
    await run([
      'generate',
      '--prompt',
      'a boat on the calm sea',
      '--valence',
      '2',
      '--arousal',
      '-2',
      '--seed',
      '3',
      '--out',
      again,
    ]);
    expect(Buffer.compare(await readFile(out), await readFile(again))).toBe(0);
  });

  it('evaluate lists every image, and with ratings prints MAE, Pearson r and CCC per axis', async () => {
    const plain = await run(['evaluate', '--images', join(dataset, 'images'), '--json']);
    expect(plain.code, plain.stderr).toBe(0);
    const listed = JSON.parse(plain.stdout);
    expect(listed.images).toHaveLength(12);
    for (const img of listed.images) {
      expect(img.valence).toBeGreaterThanOrEqual(-3);
      expect(img.arousal).toBeLessThanOrEqual(3);
    }
    const rated = await run([
      'evaluate',
      '--images',
      join(dataset, 'images'),
      '--ratings',
      join(dataset, 'ratings.csv'),
      '--scale',
      'sam9',
      '--json',
    ]);
    expect(rated.code, rated.stderr).toBe(0);
    const report = JSON.parse(rated.stdout);
    for (const axis of ['valence', 'arousal']) {
      expect(Number.isFinite(report.metrics[axis].mae)).toBe(true);
      expect(Math.abs(report.metrics[axis].pearson)).toBeLessThanOrEqual(1);
      expect(Math.abs(report.metrics[axis].ccc)).toBeLessThanOrEqual(1);
      // Rank agreement and slope against the ratings, each with an interval around the estimate.
      const { spearman, slope, n } = report.metrics[axis].agreement;
      expect(n).toBe(12);
      expect(spearman.low).toBeLessThanOrEqual(spearman.value);
      expect(spearman.high).toBeGreaterThanOrEqual(spearman.value);
      expect(slope.low).toBeLessThan(slope.high);
    }
    const text = await run([
      'evaluate',
      '--images',
      join(dataset, 'images'),
      '--ratings',
      join(dataset, 'ratings.csv'),
      '--scale',
      'sam9',
      '--judge',
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/valence\s+\d/);
    expect(text.stdout).toMatch(/Pearson/);
    expect(text.stdout).toMatch(/Spearman ρ \[95%\]\s+slope \[95%\]/);
    expect(text.stdout).toMatch(/arousal .* -?\d\.\d\d \[-?\d\.\d\d, -?\d\.\d\d\]\s*$/m);
  });

  it('evaluate names the file, row or column at fault', async () => {
    const badCsv = join(dir, 'bad');
    await mkdir(join(badCsv, 'images'), { recursive: true });
    await writeFile(join(badCsv, 'ratings.csv'), 'file,valence_mean\nimages/a.png,3\n');
    const missing = await run([
      'evaluate',
      '--images',
      join(badCsv, 'images'),
      '--ratings',
      join(badCsv, 'ratings.csv'),
      '--scale',
      'sam9',
    ]);
    expect(missing.code).toBe(2);
    expect(errors(missing)).toMatch(/arousal/);
    await writeFile(join(badCsv, 'ratings.csv'), 'file,valence_mean,arousal_mean\nimages/a.png,high,3\n');
    const nan = await run([
      'evaluate',
      '--images',
      join(badCsv, 'images'),
      '--ratings',
      join(badCsv, 'ratings.csv'),
      '--scale',
      'sam9',
    ]);
    expect(nan.code).toBe(2);
    expect(errors(nan)).toMatch(/line 2/);
    await writeFile(join(badCsv, 'images', 'a.png'), 'not a png');
    const unreadable = await run(['evaluate', '--images', join(badCsv, 'images')]);
    expect(unreadable.code).toBe(2);
    expect(errors(unreadable)).toMatch(/a\.png/);
    const nothing = await run(['evaluate', '--images', join(dir, 'does-not-exist')]);
    expect(nothing.code).toBe(2);
  });

  it('refine prints the trace with judged errors and the best image', async () => {
    const out = join(dir, 'refine');
    const r = await run([
      'refine',
      '--prompt',
      'a dog in a green meadow',
      '--valence',
      '-2.5',
      '--arousal',
      '2.5',
      '--rounds',
      '2',
      '--images-per-round',
      '3',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const trace = JSON.parse(r.stdout);
    expect(trace.rounds).toHaveLength(2);
    expect(trace.rounds[0].candidates).toHaveLength(3);
    expect(trace.rounds[0].candidates[0].judged.valenceError).toBeGreaterThanOrEqual(0);
    const all = trace.rounds.flatMap((x: { candidates: { scorer: { distance: number } }[] }) => x.candidates);
    expect(trace.best.scorer.distance).toBe(
      Math.min(...all.map((c: { scorer: { distance: number } }) => c.scorer.distance)),
    );
    expect(trace.rounds[1].prompt.startsWith('a dog in a green meadow')).toBe(true);
    expect(existsSync(join(out, 'best.png'))).toBe(true);
    expect(existsSync(join(out, 'trace.json'))).toBe(true);
  });

  it('train runs GRPO resumably, and report writes an HTML page that Chromium renders', async () => {
    const runDir = join(dir, 'run');
    const args = ['train', '--run', runDir, '--groups', '1', '--group-size', '2', '--every', '1', '--json'];
    const first = await run([...args, '--iterations', '1']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).iterations).toBe(1);
    const second = await run([...args, '--iterations', '2']);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ iterations: 2, iterationsThisRun: 1 });
    expect(second.stderr).toMatch(/resuming from iteration 1/);
    expect(existsSync(join(runDir, 'lora', 'manifest.json'))).toBe(true);
    // Iteration lines only: a quality-warning line may follow an iteration.
    const iterationLines = async (run: string) =>
      (await readFile(join(run, 'metrics.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .filter((line) => JSON.parse(line).type === 'iteration');
    const metrics = await iterationLines(runDir);
    expect(metrics).toHaveLength(2);
    // Worker threads (one per core by default on wasm) do not change the run: the same two
    // iterations on the main thread only give the same rewards (iteration 2 samples from the
    // adapters that iteration 1 trained).
    expect(JSON.parse(second.stdout).workers).toBeGreaterThanOrEqual(1);
    const single = join(dir, 'run-single');
    const alone = await run([
      ...args.map((a) => (a === runDir ? single : a)),
      '--iterations',
      '2',
      '--workers',
      '1',
    ]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(JSON.parse(alone.stdout).workers).toBe(1);
    const singleMetrics = await iterationLines(single);
    singleMetrics.forEach((line, i) => {
      expect(JSON.parse(line).rewardMean).toBeCloseTo(JSON.parse(metrics[i] as string).rewardMean, 4);
    });

    const html = join(dir, 'report.html');
    const report = await run([
      'report',
      '--run',
      runDir,
      '--out',
      html,
      '--prompts',
      '1',
      '--trace',
      join(dir, 'refine', 'trace.json'),
    ]);
    expect(report.code, report.stderr).toBe(0);
    const page = await readFile(html, 'utf8');
    expect(page).toMatch(/data:image\/png;base64,/);
    expect(page).toMatch(/<svg/);

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    try {
      const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await tab.goto(`file://${html}`);
      const shot = await tab.screenshot({ fullPage: true, path: join(dir, 'report.png') });
      const image = decodeImage(new Uint8Array(shot));
      let min = 1;
      let max = 0;
      for (const v of image.data) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      expect(max - min).toBeGreaterThan(0.5); // not blank
      expect(await tab.locator('img').count()).toBeGreaterThanOrEqual(2);
      expect(await tab.locator('svg polyline').count()).toBeGreaterThanOrEqual(1);
      const loaded = await tab.$$eval('img', (imgs) =>
        imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0),
      );
      expect(loaded).toBe(true);
    } finally {
      await browser.close();
    }
  }, 300_000);
});
