// The web demo in real Chromium: build it with Vite, serve it on 127.0.0.1, then set a target on
// the pad, generate, read the evaluator's readings and run the textual-feedback loop.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  artifactsDir,
  buildApp,
  collectPageErrors,
  findChromium,
  launchChromium,
  openPage,
  repoRoot,
  type StaticServer,
  serveStatic,
} from './support.js';

const chromium = findChromium();

/** Waits until the demo is idle; fails with the status line when it reports an error. */
async function settled(page: Page, timeout = 120_000): Promise<void> {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, {
    timeout,
  });
  const state = await page.evaluate(() => document.body.dataset.state);
  const progress = await page.locator('#progress').textContent();
  expect(state, `the demo reports: ${progress}`).toBe('ready');
}

/** Per-canvas pixel variance (over all channels, 0-255 scale), for every canvas matching `selector`. */
function canvasVariances(page: Page, selector: string): Promise<number[]> {
  return page.evaluate((sel) => {
    return Array.from(document.querySelectorAll<HTMLCanvasElement>(sel)).map((canvas) => {
      const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
        0,
        0,
        canvas.width,
        canvas.height,
      );
      let sum = 0;
      let sq = 0;
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        for (let c = 0; c < 3; c++) {
          const v = data[i + c] as number;
          sum += v;
          sq += v * v;
          n++;
        }
      const mean = sum / n;
      return sq / n - mean * mean;
    });
  }, selector);
}

if (!chromium.path) {
  describe('web demo (no Chromium on this machine)', () => {
    it('Chromium is required in CI', () => {
      expect(process.env.CI, `CI installs Debian's chromium for the demo suite: ${chromium.reason}`).not.toBe(
        'true',
      );
    });

    it('reports why the demo suite did not run', () => {
      console.warn(`[e2e] web demo suite not run: ${chromium.reason}`);
      expect(chromium.reason).toMatch(/Chromium|CHROMIUM_PATH/);
    });
  });
} else {
  const executable = chromium.path;

  describe('web demo in Chromium', () => {
    let server: StaticServer;
    let browser: Browser;
    let page: Page;
    let errors: string[] = [];

    beforeAll(async () => {
      // DEMO_DIST reuses a build (`pnpm --filter @emofeedback/web-demo build`); otherwise build now.
      const dist = process.env.DEMO_DIST ?? (await buildApp(join(repoRoot, 'examples/web-demo')));
      server = await serveStatic(dist);
      browser = await launchChromium(executable);
      page = await openPage(browser, { width: 1360, height: 1000 });
      errors = collectPageErrors(page);
      // wasm: the fastest backend where the only GPU is SwiftShader.
      await page.goto(`${server.url}?device=wasm`);
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      if (errors.length) console.warn(`[e2e] page errors:\n${errors.join('\n')}`);
    });

    it('starts the requested backend, checks WebGPU and loads the models', async () => {
      await settled(page);
      await expect.poll(() => page.locator('#backend-status').textContent()).toBe('wasm');
      await expect.poll(() => page.locator('#webgpu-check').textContent()).toMatch(/WebGPU check: .*adapter/);
      expect(await page.locator('#progress').textContent()).toMatch(/^Ready: /);
    }, 130_000);

    it('sets the target with the mouse and the keyboard', async () => {
      const pad = page.getByTestId('pad');
      const box = (await pad.boundingBox()) as { x: number; y: number; width: number; height: number };
      // The plot spans 28..292 of a 320 viewBox: (valence −1.5, arousal +1.5) is a quarter in.
      const at = (v: number, a: number) => ({
        x: box.x + ((28 + ((v + 3) / 6) * 264) / 320) * box.width,
        y: box.y + ((28 + ((3 - a) / 6) * 264) / 320) * box.height,
      });
      const p = at(-1.5, 1.5);
      await page.mouse.click(p.x, p.y);
      expect(Number(await page.locator('#valence').inputValue())).toBeCloseTo(-1.5, 0);
      expect(Number(await page.locator('#arousal').inputValue())).toBeCloseTo(1.5, 0);
      await pad.focus();
      await page.keyboard.press('Home');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Shift+ArrowUp');
      await expect.poll(() => pad.getAttribute('aria-valuetext')).toMatch(/^valence \+0\.1, arousal \+0\.5/);
      // The target for the rest of the suite: pleasant and excited.
      for (let i = 0; i < 4; i++) await page.keyboard.press('Shift+ArrowRight');
      await page.keyboard.press('Shift+ArrowUp');
      expect(await page.getByTestId('target-text').textContent()).toBe(
        'Target: valence +2.1, arousal +1.0 (pleasant, excited)',
      );
    });

    it('generates images and shows the evaluator’s reading of each on the pad', async () => {
      await page.locator('#images').fill('3');
      await page.locator('#generate').click();
      await settled(page);
      const variances = await canvasVariances(page, '[data-testid="generated"]');
      expect(variances).toHaveLength(3);
      for (const v of variances) expect(v, 'a generated canvas is blank').toBeGreaterThan(20);
      const readings = await page.getByTestId('reading').allTextContents();
      expect(readings).toHaveLength(3);
      for (const r of readings) expect(r).toMatch(/V [+-]\d\.\d\d · A [+-]\d\.\d\d · distance \d+\.\d\d/);
      await expect.poll(() => page.getByTestId('pad-reading').count()).toBe(3);
      expect(await page.locator('.pad-dot-best').count()).toBe(1);
      expect((await canvasVariances(page, '#best-canvas'))[0]).toBeGreaterThan(20);
    }, 120_000);

    it('runs a feedback round: critique, rewritten prompt, best image; saves a screenshot', async () => {
      await page.locator('#images').fill('3');
      await page.locator('#rounds').fill('2');
      await page.locator('#feedback').click();
      await settled(page);
      const rounds = page.getByTestId('trace-round');
      expect(await rounds.count()).toBe(2);
      const first = (await rounds.nth(0).textContent()) as string;
      expect(first).toContain('Prompt: “a boat on the sea”');
      expect(first).toMatch(/Critique: Round 0: the images read valence/);
      expect(first).toMatch(/Next prompt: “a boat on the sea/);
      expect(await rounds.nth(1).locator('.trace-prompt').textContent()).toMatch(
        /^Prompt: “a boat on the sea/,
      );
      expect(await page.getByTestId('trace-done').textContent()).toMatch(/Stopped/);
      expect(await page.getByTestId('generated').count()).toBe(6);
      expect(await page.getByTestId('best-caption').textContent()).toMatch(/^Best: round [12], seed \d+/);
      expect((await canvasVariances(page, '#best-canvas'))[0]).toBeGreaterThan(20);
      const file = join(artifactsDir(), 'web-demo-after-feedback.png');
      await page.screenshot({ path: file, fullPage: true });
      console.info(`[e2e] screenshot of the demo after a feedback round: ${file}`);
    }, 150_000);

    it('fine-tunes the generator with a GRPO iteration and checkpoints it in IndexedDB', async () => {
      await page.locator('#advanced summary').click();
      await page.locator('#grpo-iterations').fill('1');
      await page.locator('#grpo-group').fill('2');
      await page.locator('#grpo-steps').fill('2');
      await page.locator('#grpo-train').click();
      await settled(page);
      const log = await page.getByTestId('grpo-log').textContent();
      expect(log).toMatch(/iteration 1: reward -?\d+\.\d+ ± \d+\.\d+/);
      expect(log).toMatch(/checkpoint of iteration 1 saved to IndexedDB/);
      const stored = await page.evaluate(
        () =>
          new Promise<string[]>((resolve, reject) => {
            const req = indexedDB.open('emofeedback-demo-grpo');
            req.onerror = () => reject(req.error);
            req.onsuccess = () => {
              const keys = req.result.transaction('checkpoints').objectStore('checkpoints').getAllKeys();
              keys.onsuccess = () => resolve(keys.result.map(String));
            };
          }),
      );
      expect(stored).toEqual(['iter-00000001']);
    }, 150_000);
  });
}
