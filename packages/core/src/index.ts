export * from './anchors.js';
export * from './backend/conformance.js';
export * from './backend/ready.js';
export { registerWasmKernels, WASM_REPLACEMENT_KERNELS } from './backend/wasm-kernels.js';
export * from './checkpoint.js';
export { sha256Hex } from './checkpoint-hash.js';
export * from './content/index.js';
export * from './emotion.js';
export * from './emotion-encoder.js';
export * from './errors.js';
export * from './external/index.js';
export type {
  GenerateOptions,
  GenerationProgress,
  GenerationRequest,
  Generator,
} from './generator/generator.js';
export * from './generator/index.js';
export * from './image.js';
export * from './lora.js';
export * from './ops.js';
export * from './random.js';
export * from './samplers/index.js';
export * from './scales.js';
export * from './scenes/index.js';
export * from './text/text-encoder.js';
export * from './text/tokenizer.js';
export { tf } from './tf.js';
export { createEmbeddedGenerator, embeddedCheckpointFiles } from './weights/embedded.js';
