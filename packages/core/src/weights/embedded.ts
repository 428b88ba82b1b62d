import { type CheckpointFiles, loadGenerator, MANIFEST_FILE, memoryReader } from '../checkpoint.js';
import type { EmoFlowGenerator, EmoFlowGeneratorOptions } from '../generator/emoflow.js';
import { EMOFLOW_WEIGHTS } from './emoflow.generated.js';

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The shipped checkpoint's files (manifest and weights), decoded from the package itself. */
export function embeddedCheckpointFiles(): CheckpointFiles {
  return {
    [MANIFEST_FILE]: new TextEncoder().encode(EMOFLOW_WEIGHTS.manifest),
    'weights.bin': decodeBase64(EMOFLOW_WEIGHTS.weights),
  };
}

/**
 * The pretrained EmoFlow generator shipped inside the package: works offline in Node and in
 * browsers (no files to fetch). Call `ready()` first to pick the backend.
 */
export async function createEmbeddedGenerator(options: EmoFlowGeneratorOptions = {}): Promise<EmoFlowGenerator> {
  return loadGenerator(memoryReader(embeddedCheckpointFiles()), { id: EMOFLOW_WEIGHTS.id, ...options });
}
