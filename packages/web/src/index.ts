export { readyBrowser } from './backends.js';
export { type AnyCanvas, drawImage, readCanvas } from './canvas.js';
export { fetchBytes, IndexedDbCheckpointStore } from './indexeddb-store.js';
