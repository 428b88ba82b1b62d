import { type ReadyOptions, type ReadyResult, ready } from '@emofeedback/core';
import { type InstallWebGPUOptions, installNodeWebGPU } from './webgpu.js';

export interface NodeReadyOptions extends ReadyOptions, InstallWebGPUOptions {}

/**
 * `ready()` for Node: installs WebGPU from the optional `webgpu` package first (when the device
 * is `'auto'` or `'webgpu'`), then lets core pick: `@tensorflow/tfjs-node(-gpu)` when installed,
 * WebGPU on a hardware adapter, wasm, cpu. A named device that cannot start throws
 * `DeviceUnavailableError` listing the devices that can.
 */
export async function readyNode(options: NodeReadyOptions = {}): Promise<ReadyResult> {
  const device = options.device ?? 'auto';
  if (device === 'auto' || device === 'webgpu') await installNodeWebGPU(options);
  return ready(options);
}
