// The browser runtime in real Chromium: backends (WebGPU against wasm), canvas round trips,
// IndexedDB and URL checkpoint stores. A small harness page puts the SDK on `window`.
import { join } from 'node:path';
import { embeddedCheckpointFiles } from '@emofeedback/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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

if (!chromium.path) {
  describe('browser runtime (no Chromium on this machine)', () => {
    it('Chromium is required in CI', () => {
      expect(
        process.env.CI,
        `CI installs Debian's chromium for the browser suite: ${chromium.reason}`,
      ).not.toBe('true');
    });

    it('reports why the browser suite did not run', () => {
      console.warn(`[e2e] browser runtime suite not run: ${chromium.reason}`);
      expect(chromium.reason).toMatch(/Chromium|CHROMIUM_PATH/);
    });
  });
} else {
  const executable = chromium.path;
  // A checkpoint served over HTTP for the URL store.
  const served: Record<string, Uint8Array> = {
    '/ckpt/index.json': new TextEncoder().encode(JSON.stringify({ checkpoints: ['iter-00000007'] })),
    '/ckpt/iter-00000007/manifest.json': new TextEncoder().encode('{"format":"test"}'),
    '/ckpt/iter-00000007/weights.bin': new Uint8Array([1, 2, 3, 250, 251, 252]),
    // The shipped generator's checkpoint, served as files.
    ...Object.fromEntries(
      Object.entries(embeddedCheckpointFiles()).map(([f, bytes]) => [`/model/${f}`, bytes]),
    ),
  };

  describe('browser runtime in Chromium', () => {
    let server: StaticServer;
    let browser: Browser;
    let page: Page;
    let errors: string[] = [];

    beforeAll(async () => {
      const dist = await buildApp(join(repoRoot, 'packages/web/test/e2e/harness'));
      server = await serveStatic(dist, served);
      browser = await launchChromium(executable);
      page = await openPage(browser);
      errors = collectPageErrors(page, /\/ckpt\/iter-00000007\/other\.bin$/);
      await page.goto(server.url);
      await page.waitForFunction(() => document.body.dataset.ready === 'true');
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      if (errors.length) console.warn(`[e2e] page errors:\n${errors.join('\n')}`);
    });

    it('starts wasm from the served binaries, and cpu', async () => {
      const result = await page.evaluate(async () => {
        const { web, wasmPaths } = window.sdk;
        const wasm = await web.readyBrowser({ device: 'wasm', wasmPaths });
        const cpu = await web.readyBrowser({ device: 'cpu' });
        return { wasm: wasm.backend, cpu: cpu.backend, devices: await web.browserDevices({ wasmPaths }) };
      });
      expect(result.wasm).toBe('wasm');
      expect(result.cpu).toBe('cpu');
      expect(result.devices).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    });

    it('finds WebGPU and WebGL, and auto skips software ones for wasm', async () => {
      const result = await page.evaluate(async () => {
        const { web, wasmPaths } = window.sdk;
        const probe = await web.probeWebGPU();
        const gl = web.probeWebGL();
        const auto = await web.readyBrowser({ device: 'auto', wasmPaths });
        const gpu = await web.readyBrowser({ device: 'webgpu' });
        const webgl = await web.readyBrowser({ device: 'webgl' });
        return {
          probe,
          gl,
          auto: auto.device,
          autoReason: auto.reason,
          gpu: gpu.backend,
          webgl: webgl.backend,
        };
      });
      expect(result.probe.api).toBe(true);
      expect(result.probe.adapter).toBe(true);
      expect(result.gpu).toBe('webgpu');
      expect(result.gl.available).toBe(true);
      expect(result.webgl).toBe('webgl');
      if (!result.probe.software) expect(result.auto).toBe('webgpu');
      else if (!result.gl.software) expect(result.auto).toBe('webgl');
      else {
        expect(result.auto).toBe('wasm');
        expect(result.autoReason).toMatch(/skipped webgpu: .*software.*webgl: .*software/);
      }
      console.info(
        `[e2e] WebGPU: ${result.probe.summary} WebGL: ${result.gl.summary}. auto chose ${result.auto}.`,
      );
    }, 60_000);

    it('WebGPU matches wasm to 1e-3 on every conformance case (forward and gradients)', async () => {
      const results = await page.evaluate(async () => {
        const { core, web, wasmPaths } = window.sdk;
        const tf = core.tf;
        await web.readyBrowser({ device: 'wasm', wasmPaths });
        await web.readyBrowser({ device: 'webgpu' });
        const read = async (backend: string, i: number) => {
          await tf.setBackend(backend);
          const c = core.CONFORMANCE_CASES[i] as (typeof core.CONFORMANCE_CASES)[number];
          const outs = tf.tidy(() => c.run(new core.SeededRandom(i)));
          const data = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
          tf.dispose(outs);
          return data;
        };
        const out: { name: string; maxError: number; values: number }[] = [];
        for (let i = 0; i < core.CONFORMANCE_CASES.length; i++) {
          const ref = await read('wasm', i);
          const got = await read('webgpu', i);
          let maxError = 0;
          let values = 0;
          ref.forEach((r, j) => {
            const g = got[j] as Float32Array;
            if (g.length !== r.length) maxError = Number.POSITIVE_INFINITY;
            for (let e = 0; e < r.length; e++) {
              const err = Math.abs((g[e] as number) - (r[e] as number)) / (1 + Math.abs(r[e] as number));
              maxError = Number.isNaN(err) ? Number.POSITIVE_INFINITY : Math.max(maxError, err);
              values++;
            }
          });
          out.push({ name: (core.CONFORMANCE_CASES[i] as { name: string }).name, maxError, values });
        }
        return out;
      });
      const worst = Math.max(...results.map((r) => r.maxError));
      console.info(
        `[e2e] WebGPU vs wasm, ${results.length} cases, max relative error ${worst.toExponential(2)}:\n` +
          results.map((r) => `  ${r.maxError.toExponential(2)}  ${r.name}`).join('\n'),
      );
      expect(results.length).toBeGreaterThan(5);
      for (const r of results) expect(r.maxError, r.name).toBeLessThanOrEqual(1e-3);
    }, 120_000);

    it("the shipped generator's forward pass on WebGPU matches wasm to 1e-3", async () => {
      // One velocity evaluation of the flow model (a full sampling run takes minutes on SwiftShader).
      const result = await page.evaluate(async () => {
        const { core, web, wasmPaths } = window.sdk;
        const tf = core.tf;
        const run = async (device: 'wasm' | 'webgpu') => {
          await web.readyBrowser({ device, wasmPaths });
          const generator = await core.createEmbeddedGenerator();
          const cond = generator.model.encode(
            ['a boat on the sea at golden hour', 'a spider in a dark forest at night'],
            [
              { valence: 2, arousal: 1 },
              { valence: -2, arousal: 1.5 },
            ],
          );
          const { noise } = generator.initialNoise([11, 12]);
          const velocity = generator.model.velocity(noise, 0.7, cond);
          const data = (await velocity.data()) as Float32Array;
          tf.dispose([velocity, noise]);
          core.disposeConditioning(cond);
          generator.dispose();
          return { data, id: generator.id, shape: velocity.shape };
        };
        const wasm = await run('wasm');
        const gpu = await run('webgpu');
        let maxError = 0;
        let scale = 0;
        for (let e = 0; e < wasm.data.length; e++) {
          const ref = wasm.data[e] as number;
          maxError = Math.max(maxError, Math.abs((gpu.data[e] as number) - ref) / (1 + Math.abs(ref)));
          scale = Math.max(scale, Math.abs(ref));
        }
        return { maxError, scale, id: wasm.id, shape: wasm.shape };
      });
      console.info(
        `[e2e] ${result.id} velocity [${result.shape.join('×')}]: max relative |WebGPU − wasm| ${result.maxError.toExponential(2)}`,
      );
      expect(result.scale).toBeGreaterThan(0.1);
      expect(result.maxError).toBeLessThanOrEqual(1e-3);
    }, 120_000);

    it('round-trips a tensor through a canvas exactly (8-bit values)', async () => {
      const result = await page.evaluate(async () => {
        const { core, web, wasmPaths } = window.sdk;
        const tf = core.tf;
        await web.readyBrowser({ device: 'wasm', wasmPaths });
        const rng = new core.SeededRandom(3);
        const values = Float32Array.from({ length: 2 * 8 * 8 * 3 }, () => rng.int(0, 256) / 255);
        const batch = tf.tensor4d(values, [2, 8, 8, 3]);
        const canvas = new OffscreenCanvas(1, 1);
        await web.drawTensor(canvas, batch, 1, 'image');
        const back = web.canvasToTensor(canvas);
        const expected = tf.slice(batch, [1, 0, 0, 0], [1, -1, -1, -1]);
        const maxError = (await tf.max(tf.abs(tf.sub(back, expected))).data())[0] as number;
        const shape = back.shape;
        // Nearest-neighbour scaling onto a page canvas keeps every pixel's value.
        const page = document.getElementById('canvas') as HTMLCanvasElement;
        await web.drawTensor(page, batch, 0);
        const big = web.readCanvas(page);
        const small = (await tf.slice(batch, [0, 0, 0, 0], [1, -1, -1, -1]).data()) as Float32Array;
        let scaledError = 0;
        for (let y = 0; y < 64; y++)
          for (let x = 0; x < 64; x++)
            for (let ch = 0; ch < 3; ch++) {
              const a = big.data[(y * 64 + x) * 3 + ch] as number;
              const b = small[(Math.floor(y / 8) * 8 + Math.floor(x / 8)) * 3 + ch] as number;
              scaledError = Math.max(scaledError, Math.abs(a - b));
            }
        tf.dispose([batch, back, expected]);
        return { maxError, shape, scaledError, size: [big.width, big.height] };
      });
      expect(result.shape).toEqual([1, 8, 8, 3]);
      expect(result.maxError).toBeLessThan(1 / 510);
      expect(result.size).toEqual([64, 64]);
      expect(result.scaledError).toBeLessThan(1 / 510);
    });

    it('keeps checkpoints in IndexedDB across store instances', async () => {
      const result = await page.evaluate(async () => {
        const { rl, web } = window.sdk;
        const name = `e2e-${Date.now()}`;
        const first = new web.IndexedDbCheckpointStore(name);
        const manager = new rl.CheckpointManager(first, 2);
        for (const i of [1, 2, 3]) await manager.save(i, { 'w.bin': new Uint8Array([i, i * 2, 255]) });
        await first.close();
        const second = new web.IndexedDbCheckpointStore(name);
        const again = new rl.CheckpointManager(second, 2);
        const iterations = await again.iterations();
        const bytes = Array.from(await again.read(3, 'w.bin'));
        const missing = await again.read(3, 'nope.bin').catch((e: { code?: string; message: string }) => e);
        await second.remove('iter-00000002');
        const after = await second.list();
        await second.close();
        indexedDB.deleteDatabase(name);
        return { iterations, bytes, missing: (missing as { code?: string }).code, after };
      });
      expect(result.iterations).toEqual([2, 3]);
      expect(result.bytes).toEqual([3, 6, 255]);
      expect(result.missing).toBe('CHECKPOINT');
      expect(result.after).toEqual(['iter-00000003']);
    });

    it('reads checkpoints from URLs and copies them into IndexedDB', async () => {
      const result = await page.evaluate(async () => {
        const { web } = window.sdk;
        const remote = new web.UrlCheckpointStore('ckpt');
        const names = await remote.list();
        const weights = Array.from(await remote.read('iter-00000007', 'weights.bin'));
        const local = new web.IndexedDbCheckpointStore(`e2e-url-${Date.now()}`);
        await web.copyCheckpoint(remote, local, 'iter-00000007', ['manifest.json', 'weights.bin']);
        const copied = new TextDecoder().decode(await local.read('iter-00000007', 'manifest.json'));
        const notFound = await remote.read('iter-00000007', 'other.bin').catch((e: Error) => e.message);
        const readOnly = await remote.write('x').catch((e: Error) => e.message);
        await local.close();
        return { names, weights, copied, notFound, readOnly };
      });
      expect(result.names).toEqual(['iter-00000007']);
      expect(result.weights).toEqual([1, 2, 3, 250, 251, 252]);
      expect(result.copied).toBe('{"format":"test"}');
      expect(result.notFound).toMatch(/HTTP 404/);
      expect(result.readOnly).toMatch(/read-only/);
    });

    it('loads the generator from URLs and from IndexedDB, with the same images as the shipped one', async () => {
      const result = await page.evaluate(async () => {
        const { core, web, wasmPaths } = window.sdk;
        await web.readyBrowser({ device: 'wasm', wasmPaths });
        const request = {
          prompts: ['a dog in a meadow'],
          emotions: [{ valence: 2, arousal: 1 }],
          seeds: [5],
        };
        const sample = async (g: Awaited<ReturnType<typeof core.createEmbeddedGenerator>>) => {
          const [image] = await g.generate(request, { steps: 4 });
          g.dispose();
          return (image as { data: Float32Array }).data;
        };
        const shipped = await sample(await core.createEmbeddedGenerator());
        const fromUrl = await sample(await core.loadGenerator(web.urlReader('model/')));
        const store = new web.IndexedDbCheckpointStore(`e2e-model-${Date.now()}`);
        const files = Object.keys(core.embeddedCheckpointFiles());
        await web.copyCheckpoint(
          new web.UrlCheckpointStore('.', { checkpoints: ['model'] }),
          store,
          'model',
          files,
        );
        const fromDb = await sample(await core.loadGenerator(web.storeReader(store, 'model')));
        await store.close();
        const diff = (a: Float32Array, b: Float32Array) =>
          a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
        return { url: diff(shipped, fromUrl), db: diff(shipped, fromDb), files, n: shipped.length };
      });
      expect(result.files).toContain('manifest.json');
      expect(result.n).toBeGreaterThan(0);
      expect(result.url).toBe(0);
      expect(result.db).toBe(0);
    }, 60_000);
  });
}
