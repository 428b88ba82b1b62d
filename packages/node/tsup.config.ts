import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: false,
    clean: true,
    // The CommonJS build needs import.meta.url to find its worker script.
    shims: true,
    target: 'es2022',
  },
  {
    // The data-parallel worker thread, started from a file so that it runs in any build.
    entry: { 'parallel-worker': 'src/parallel/worker.ts' },
    format: ['esm'],
    sourcemap: false,
    target: 'es2022',
  },
  {
    // The `emofeedback` command line.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    sourcemap: false,
    target: 'es2022',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
