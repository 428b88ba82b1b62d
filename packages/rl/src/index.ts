export { type GroupAdvantageOptions, type GroupAdvantages, groupAdvantages } from './advantages.js';
export {
  CheckpointManager,
  type CheckpointStore,
  checkpointIteration,
  checkpointName,
  MemoryCheckpointStore,
} from './checkpoint-store.js';
export { ExponentialMovingAverage } from './ema.js';
export { type PpoClipTerms, ppoClipLoss } from './ppo.js';
