import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { CheckpointError, InvalidArgumentError } from '@emofeedback/core';
import type { CheckpointStore } from '@emofeedback/rl';

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

function checkName(kind: string, name: string): void {
  if (!SAFE_NAME.test(name) || name === '.' || name === '..') {
    throw new InvalidArgumentError(kind, `'${name}' may only hold letters, digits, '.', '_' and '-'.`);
  }
}

/**
 * Training checkpoints in a folder, one sub-folder per checkpoint. A checkpoint is written into
 * a hidden temporary folder, flushed, then renamed into place, so a process killed mid-write
 * (even with SIGKILL) never leaves a partial checkpoint where {@link list} finds it; stale
 * temporaries are cleaned up on the next write.
 */
export class FolderCheckpointStore implements CheckpointStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async list(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new CheckpointError(`Cannot list checkpoints in ${this.root}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async write(name: string, files: Readonly<Record<string, Uint8Array>>): Promise<void> {
    checkName('checkpoint name', name);
    for (const file of Object.keys(files)) checkName('checkpoint file', file);
    await mkdir(this.root, { recursive: true });
    await this.removeStaleTemporaries();
    const tmp = join(this.root, `.tmp-${name}-${randomBytes(6).toString('hex')}`);
    await mkdir(tmp);
    try {
      for (const [file, data] of Object.entries(files))
        await writeFile(join(tmp, file), data, { flush: true });
      const target = join(this.root, name);
      await rm(target, { recursive: true, force: true });
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw new CheckpointError(`Cannot write checkpoint '${name}': ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async read(name: string, file: string): Promise<Uint8Array> {
    checkName('checkpoint name', name);
    checkName('checkpoint file', file);
    const path = join(this.root, name, file);
    if (!path.startsWith(this.root + sep))
      throw new CheckpointError(`'${file}' points outside ${this.root}.`);
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      throw new CheckpointError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  async remove(name: string): Promise<void> {
    checkName('checkpoint name', name);
    await rm(join(this.root, name), { recursive: true, force: true });
  }

  private async removeStaleTemporaries(): Promise<void> {
    const entries = await readdir(this.root);
    await Promise.all(
      entries
        .filter((e) => e.startsWith('.tmp-'))
        .map((e) => rm(join(this.root, e), { recursive: true, force: true })),
    );
  }
}
