import { type ReadyOptions, type ReadyResult, ready } from '@emofeedback/core';

/**
 * `ready()` for browsers. `'auto'` tries WebGPU (a hardware adapter), then WebGL, then wasm, then
 * cpu. Bundlers do not serve the wasm binaries on their own: pass `wasmPaths` (a URL prefix
 * where `tfjs-backend-wasm*.wasm` are served) when wasm may be used.
 */
export function readyBrowser(options: ReadyOptions = {}): Promise<ReadyResult> {
  return ready(options);
}
