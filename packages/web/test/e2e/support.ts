// Shared pieces of the end-to-end suite: find a Chromium, build a page with Vite, serve it on
// 127.0.0.1 and open it in headless Chromium (WebGPU on, SwiftShader where no GPU exists).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../../..');

/** Chromium executables tried in order; `CHROMIUM_PATH` wins when set. */
const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** The Chromium to drive, or null with the reason. */
export function findChromium(): { path: string | null; reason: string } {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    return existsSync(fromEnv)
      ? { path: fromEnv, reason: `CHROMIUM_PATH=${fromEnv}` }
      : { path: null, reason: `CHROMIUM_PATH=${fromEnv} does not exist` };
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  return found
    ? { path: found, reason: found }
    : {
        path: null,
        reason: `no Chromium found (looked for ${CANDIDATES.join(', ')}; set CHROMIUM_PATH to use another)`,
      };
}

/** Flags for headless Chromium without a network: WebGPU on (SwiftShader when there is no GPU). */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
];

/** Starts headless Chromium (playwright gives it a fresh temporary profile). */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Opens a page. Functions handed to `page.evaluate` are serialised as written; when this code runs
 * under tsx (esbuild with `keepNames`), they call an `__name` helper the page must define.
 */
export async function openPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.addInitScript('globalThis.__name = (fn) => fn;');
  return page;
}

const require = createRequire(join(repoRoot, 'packages/core/package.json'));
const WASM_DIST = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

/**
 * Builds a Vite app into a fresh temporary folder and returns it. Apps with a `vite.config.ts`
 * use it; others get the SDK aliased to its sources and the tfjs wasm binaries under `tfjs-wasm/`.
 */
export async function buildApp(root: string): Promise<string> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'emofeedback-e2e-'));
  const hasConfig = existsSync(join(root, 'vite.config.ts'));
  const sdk = (name: string) => join(repoRoot, `packages/${name}/src/index.ts`);
  await build({
    root,
    configFile: hasConfig ? join(root, 'vite.config.ts') : false,
    base: './',
    logLevel: 'error',
    resolve: hasConfig
      ? {}
      : {
          alias: Object.fromEntries(
            ['core', 'reward', 'feedback', 'rl', 'web'].map((n) => [`@emofeedback/${n}`, sdk(n)]),
          ),
        },
    build: { outDir, emptyOutDir: true, target: 'es2022', reportCompressedSize: false, minify: false },
  });
  if (!hasConfig) {
    mkdirSync(join(outDir, 'tfjs-wasm'), { recursive: true });
    for (const f of [
      'tfjs-backend-wasm.wasm',
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm',
    ])
      cpSync(join(WASM_DIST, f), join(outDir, 'tfjs-wasm', f));
  }
  return outDir;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.bin': 'application/octet-stream',
};

/** A static file server on 127.0.0.1 (a secure context, so WebGPU is exposed). */
export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 at a free port. `extra` maps URL paths to bytes served as well
 * (checkpoints for the URL store tests).
 */
export async function serveStatic(
  dir: string,
  extra: Record<string, Uint8Array> = {},
): Promise<StaticServer> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const bytes = extra[path];
    if (bytes) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(bytes);
      return;
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/**
 * Collects the page's console errors and uncaught exceptions (printed after the suite), except
 * failed loads of URLs matching `expected` (requests a test makes fail on purpose).
 */
export function collectPageErrors(page: Page, expected?: RegExp): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expected?.test(m.location().url)) return;
    errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  return errors;
}

/** Folder for screenshots of this run (git-ignored). */
export function artifactsDir(): string {
  const dir = join(repoRoot, 'packages/web/test/artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}
