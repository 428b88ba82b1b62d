import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CheckpointError,
  checkRelativePath,
  createEmbeddedGenerator,
  type EmoFlowGenerator,
  type Emotion,
  emotion,
  loadCheckpoint,
  loadGenerator,
} from '@emofeedback/core';
import { CliUsageError, numberFlag } from '../io.js';

function folderReader(dir: string) {
  return async (relative: string) => {
    const path = join(dir, checkRelativePath(relative));
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      throw new CheckpointError(
        `Cannot read checkpoint file ${path} (${(error as NodeJS.ErrnoException).code}).`,
        {
          cause: error,
        },
      );
    }
  };
}

/**
 * The shipped generator, or one loaded from a base checkpoint folder; with `lora`, the LoRA
 * adapters a `train` run wrote (its `lora/` folder) are loaded on top.
 */
export async function generatorFromFlags(
  checkpoint: string | undefined,
  lora?: string,
): Promise<EmoFlowGenerator> {
  const generator = checkpoint
    ? await loadGenerator(folderReader(checkpoint))
    : await createEmbeddedGenerator();
  if (lora) {
    try {
      await loadCheckpoint(generator, folderReader(lora));
    } catch (error) {
      generator.dispose();
      throw error;
    }
  }
  return generator;
}

/** Reads `--valence` and `--arousal` as a canonical emotion. */
export function emotionFromFlags(flags: { valence?: string; arousal?: string }): Emotion {
  if (flags.valence === undefined || flags.arousal === undefined) {
    throw new CliUsageError('--valence and --arousal are required (each in [-3, 3])');
  }
  return emotion(
    { valence: numberFlag('valence', flags.valence), arousal: numberFlag('arousal', flags.arousal) },
    'target',
  );
}
