export {
  browserDevices,
  probeWebGL,
  probeWebGPU,
  readyBrowser,
  TFJS_WASM_FILES,
  type WebGLProbe,
  type WebGPUProbe,
} from './backends.js';
export { type AnyCanvas, canvasToTensor, drawImage, drawTensor, readCanvas } from './canvas.js';
export { IndexedDbCheckpointStore } from './indexeddb-store.js';
export {
  copyCheckpoint,
  fetchBytes,
  storeReader,
  UrlCheckpointStore,
  type UrlCheckpointStoreOptions,
  urlReader,
} from './url-store.js';
