export { type NodeReadyOptions, readyNode } from './backends.js';
export { FolderCheckpointStore } from './checkpoint-store.js';
export {
  findSwiftShaderIcd,
  type InstallWebGPUOptions,
  type InstallWebGPUResult,
  installNodeWebGPU,
  SWIFTSHADER_ICD_CANDIDATES,
} from './webgpu.js';
