export { type NodeReadyOptions, readyNode } from './backends.js';
export { FolderCheckpointStore } from './checkpoint-store.js';
export { runCli } from './cli/program.js';
export {
  createGeneratorFromFolder,
  folderCheckpointReader,
  loadGeneratorFolder,
  saveGeneratorFolder,
  writeCheckpointFolder,
} from './files/checkpoint-folder.js';
export {
  decodeImage,
  encodePng,
  type ImageFormat,
  type ImageSize,
  type ReadImageOptions,
  readImage,
  resizeImage,
  sniffImageFormat,
  writePng,
} from './files/images.js';
export {
  type LoadRatedDatasetOptions,
  loadRatedDataset,
  type RatedDataset,
  RatedDatasetError,
  type RatedDatasetScale,
  type RatedImage,
} from './files/rated-dataset.js';
export { parallelFlowMatchingStep } from './parallel/flow-matching.js';
export { parallelGrpoIteration, parallelGrpoRunner, workerGrpoEngine } from './parallel/grpo.js';
export type {
  FlowMatchingGradientRequest,
  FlowMatchingGradientResult,
  GeneratorSnapshot,
  GrpoGradientRequest,
  GrpoGradientResult,
  LocalEvaluatorKind,
  NamedArray,
  PlainSamplingOptions,
} from './parallel/protocol.js';
export {
  generatorSnapshot,
  ParallelSampler,
  type ParallelSamplerOptions,
  splitRows,
} from './parallel/sampler.js';
export { parallelLocalEvaluator, withParallelSampling } from './parallel/views.js';
export { type ReportData, type ReportImage, type ReportSeries, renderReport } from './report.js';
export {
  findSwiftShaderIcd,
  type InstallWebGPUOptions,
  type InstallWebGPUResult,
  installNodeWebGPU,
  SWIFTSHADER_ICD_CANDIDATES,
} from './webgpu.js';
