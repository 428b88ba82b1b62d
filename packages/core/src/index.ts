export * from './anchors.js';
export * from './backend/conformance.js';
export * from './backend/ready.js';
export { registerWasmKernels, WASM_REPLACEMENT_KERNELS } from './backend/wasm-kernels.js';
export * from './emotion.js';
export * from './errors.js';
export type {
  GenerateOptions,
  GenerationProgress,
  GenerationRequest,
  Generator,
} from './generator/generator.js';
export * from './image.js';
export * from './ops.js';
export * from './random.js';
export * from './scales.js';
export { tf } from './tf.js';
