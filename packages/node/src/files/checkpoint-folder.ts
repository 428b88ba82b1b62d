import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  CheckpointError,
  type CheckpointFiles,
  type CheckpointManifest,
  type CheckpointReader,
  checkRelativePath,
  type EmoFlowGenerator,
  type EmoFlowGeneratorOptions,
  type EncodeCheckpointOptions,
  encodeCheckpoint,
  loadCheckpoint,
  loadGenerator,
  MANIFEST_FILE,
  parseManifest,
} from '@emofeedback/core';

/**
 * A reader for a checkpoint folder that refuses any path leaving the folder (`..`, absolute
 * paths, symlink-free check on the resolved path) with a `CheckpointError`.
 */
export function folderCheckpointReader(folder: string): CheckpointReader {
  const root = resolve(folder);
  return async (relativePath: string) => {
    checkRelativePath(relativePath);
    const path = resolve(root, relativePath);
    const rel = relative(root, path);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new CheckpointError(`'${relativePath}' points outside the checkpoint folder.`);
    }
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      throw new CheckpointError(
        `Cannot read checkpoint file '${relativePath}': ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  };
}

/**
 * Writes checkpoint files into `folder` atomically: everything goes into a hidden temporary
 * sibling folder, flushed, which then replaces `folder` by rename, so a crash never leaves a
 * half-written checkpoint under the final name.
 */
export async function writeCheckpointFolder(folder: string, files: CheckpointFiles): Promise<void> {
  const target = resolve(folder);
  for (const name of Object.keys(files)) checkRelativePath(name);
  parseManifest(files[MANIFEST_FILE] ?? new Uint8Array());
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.tmp-${basename(target)}-${randomBytes(6).toString('hex')}`);
  const old = join(dirname(target), `.old-${basename(target)}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(tmp);
    for (const [name, data] of Object.entries(files)) {
      if (name === MANIFEST_FILE) continue;
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), data, { flush: true });
    }
    // The manifest goes last: a folder with a manifest is complete.
    await writeFile(join(tmp, MANIFEST_FILE), files[MANIFEST_FILE] as Uint8Array, { flush: true });
    let moved = false;
    try {
      await rename(target, old);
      moved = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await rename(tmp, target);
    if (moved) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw new CheckpointError(`Cannot write checkpoint folder ${target}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Saves a generator's base weights (or, with `kind: 'lora'`, its adapters) into a folder, atomically. */
export async function saveGeneratorFolder(
  folder: string,
  generator: EmoFlowGenerator,
  options: EncodeCheckpointOptions = {},
): Promise<CheckpointManifest> {
  const files = encodeCheckpoint(generator, options);
  await writeCheckpointFolder(folder, files);
  return parseManifest(files[MANIFEST_FILE] as Uint8Array);
}

/** Loads a base or LoRA checkpoint folder into an existing generator (all or nothing). */
export async function loadGeneratorFolder(
  folder: string,
  generator: EmoFlowGenerator,
): Promise<CheckpointManifest> {
  return loadCheckpoint(generator, folderCheckpointReader(folder));
}

/** Builds a generator from a base checkpoint folder. */
export async function createGeneratorFromFolder(
  folder: string,
  options: EmoFlowGeneratorOptions = {},
): Promise<EmoFlowGenerator> {
  return loadGenerator(folderCheckpointReader(folder), options);
}
