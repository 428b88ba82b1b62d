import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Where the wasm backend's binaries are served, relative to the page. */
const WASM_DIR = 'tfjs-wasm/';
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

/**
 * Serves the `.wasm` files of @tensorflow/tfjs-backend-wasm under `tfjs-wasm/` in dev and copies
 * them into the build, so that `readyBrowser({ wasmPaths: 'tfjs-wasm/' })` finds them.
 */
function tfjsWasm(): Plugin {
  return {
    name: 'tfjs-wasm-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0]?.split('/').pop() ?? '';
        if (!req.url?.includes(`/${WASM_DIR}`) || !WASM_FILES.includes(name)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        createReadStream(join(wasmDist, name)).pipe(res);
      });
    },
    generateBundle() {
      for (const name of WASM_FILES)
        this.emitFile({
          type: 'asset',
          fileName: `${WASM_DIR}${name}`,
          source: readFileSync(join(wasmDist, name)),
        });
    },
  };
}

// Inside the monorepo the SDK is bundled from its TypeScript sources, so the demo runs without
// building the packages first; an app outside it imports the published packages instead.
const sdk = (name: string) => join(here, `../../packages/${name}/src/index.ts`);
const alias = Object.fromEntries(
  ['core', 'reward', 'feedback', 'rl', 'web']
    .filter((name) => existsSync(sdk(name)))
    .map((name) => [`@emofeedback/${name}`, sdk(name)]),
);

export default defineConfig({
  base: './',
  resolve: { alias },
  plugins: [tfjsWasm()],
  build: { target: 'es2022', chunkSizeWarningLimit: 8192 },
  worker: { format: 'es' },
});
