export {
  eulerStep,
  type SamplerOptions,
  sampleEuler,
  throwIfAborted,
  type VelocityFn,
} from './euler.js';
export {
  type LogProbReduction,
  type SdeCoefficients,
  type SdeSample,
  type SdeSamplerOptions,
  type SdeStep,
  sampleSde,
  sdeCoefficients,
  sdeStdDev,
  sdeStepWithLogProb,
} from './sde.js';
export { timestepGrid } from './timesteps.js';
