import { CheckpointError, InvalidArgumentError } from '@emofeedback/core';

/**
 * Where training checkpoints live. Each checkpoint is a named set of files written as a unit:
 * `write` must be atomic (a crash mid-write leaves either the old state or the new one, never a
 * broken checkpoint that `list` reports). Node: `FolderCheckpointStore` in `@emofeedback/node`;
 * browsers and tests: {@link MemoryCheckpointStore}.
 */
export interface CheckpointStore {
  /** Names of complete checkpoints, in any order. */
  list(): Promise<string[]>;
  write(name: string, files: Readonly<Record<string, Uint8Array>>): Promise<void>;
  read(name: string, file: string): Promise<Uint8Array>;
  remove(name: string): Promise<void>;
}

/** Checkpoint names sort by iteration: `iter-00000042`. */
export function checkpointName(iteration: number): string {
  if (!Number.isInteger(iteration) || iteration < 0) {
    throw new InvalidArgumentError('iteration', `expected an integer ≥ 0, got ${iteration}.`);
  }
  return `iter-${String(iteration).padStart(8, '0')}`;
}

/** The iteration a checkpoint name stands for, or null for names not made by {@link checkpointName}. */
export function checkpointIteration(name: string): number | null {
  const m = /^iter-(\d{8,})$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** An in-memory store (browsers, tests). */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly checkpoints = new Map<string, Map<string, Uint8Array>>();

  async list(): Promise<string[]> {
    return [...this.checkpoints.keys()];
  }

  async write(name: string, files: Readonly<Record<string, Uint8Array>>): Promise<void> {
    this.checkpoints.set(name, new Map(Object.entries(files).map(([k, v]) => [k, v.slice()])));
  }

  async read(name: string, file: string): Promise<Uint8Array> {
    const data = this.checkpoints.get(name)?.get(file);
    if (!data) throw new CheckpointError(`Checkpoint '${name}' has no file '${file}'.`);
    return data.slice();
  }

  async remove(name: string): Promise<void> {
    this.checkpoints.delete(name);
  }
}

/** Saves numbered checkpoints, keeps the last N, and finds the latest to resume from. */
export class CheckpointManager {
  constructor(
    readonly store: CheckpointStore,
    readonly keepLast = 3,
  ) {
    if (!Number.isInteger(keepLast) || keepLast < 1) {
      throw new InvalidArgumentError('keepLast', `expected an integer ≥ 1, got ${keepLast}.`);
    }
  }

  /** Complete checkpoints, oldest first. */
  async iterations(): Promise<number[]> {
    return (await this.store.list())
      .map(checkpointIteration)
      .filter((i): i is number => i !== null)
      .sort((a, b) => a - b);
  }

  async latest(): Promise<number | null> {
    const all = await this.iterations();
    return all.length ? (all[all.length - 1] as number) : null;
  }

  /** Writes a checkpoint atomically, then removes all but the newest `keepLast`. */
  async save(iteration: number, files: Readonly<Record<string, Uint8Array>>): Promise<void> {
    await this.store.write(checkpointName(iteration), files);
    const all = await this.iterations();
    for (const old of all.slice(0, Math.max(0, all.length - this.keepLast))) {
      await this.store.remove(checkpointName(old));
    }
  }

  async read(iteration: number, file: string): Promise<Uint8Array> {
    return this.store.read(checkpointName(iteration), file);
  }
}
