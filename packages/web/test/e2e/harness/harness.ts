// Puts the SDK on `window` so that the end-to-end tests can drive it with page.evaluate().
import * as core from '@emofeedback/core';
import * as rl from '@emofeedback/rl';
import * as web from '../../../src/index.js';

declare global {
  interface Window {
    sdk: { core: typeof core; rl: typeof rl; web: typeof web; wasmPaths: string };
  }
}

window.sdk = { core, rl, web, wasmPaths: new URL('tfjs-wasm/', document.baseURI).href };
document.body.dataset.ready = 'true';
