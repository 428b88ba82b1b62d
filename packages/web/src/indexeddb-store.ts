import { CheckpointError } from '@emofeedback/core';
import type { CheckpointStore } from '@emofeedback/rl';

const STORE = 'checkpoints';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Checkpoints in the browser's IndexedDB: one record per checkpoint holding all of its files,
 * written in a single transaction, so a tab closed mid-write keeps the previous state.
 */
export class IndexedDbCheckpointStore implements CheckpointStore {
  private db: Promise<IDBDatabase> | null = null;

  /**
   * @param databaseName one database per training run, e.g. `emofeedback-run-1`.
   * @param factory the IndexedDB factory, default `globalThis.indexedDB`.
   */
  constructor(
    readonly databaseName: string,
    private readonly factory: IDBFactory | undefined = (globalThis as { indexedDB?: IDBFactory }).indexedDB,
  ) {}

  private open(): Promise<IDBDatabase> {
    if (!this.factory)
      return Promise.reject(new CheckpointError('IndexedDB is not available in this runtime.'));
    this.db ??= new Promise((resolve, reject) => {
      const req = (this.factory as IDBFactory).open(this.databaseName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () =>
        reject(new CheckpointError(`Cannot open IndexedDB '${this.databaseName}': ${req.error?.message}`));
    });
    return this.db;
  }

  private async tx(mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await this.open()).transaction(STORE, mode).objectStore(STORE);
  }

  /** Names of the stored checkpoints. */
  async list(): Promise<string[]> {
    return (await request((await this.tx('readonly')).getAllKeys())).map(String);
  }

  /** Writes every file of a checkpoint in one transaction (replacing a checkpoint of that name). */
  async write(name: string, files: Readonly<Record<string, Uint8Array>>): Promise<void> {
    const copy: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(files)) copy[k] = v.slice();
    await request((await this.tx('readwrite')).put(copy, name));
  }

  /**
   * Reads one file of a checkpoint.
   * @throws CheckpointError when the checkpoint or the file does not exist.
   */
  async read(name: string, file: string): Promise<Uint8Array> {
    const record = (await request((await this.tx('readonly')).get(name))) as
      | Record<string, Uint8Array>
      | undefined;
    const data = record?.[file];
    if (!data)
      throw new CheckpointError(
        `Checkpoint '${name}' has no file '${file}' in IndexedDB '${this.databaseName}'.`,
      );
    return new Uint8Array(data);
  }

  /** Deletes a checkpoint; a missing one is not an error. */
  async remove(name: string): Promise<void> {
    await request((await this.tx('readwrite')).delete(name));
  }

  /** Closes the database connection. */
  async close(): Promise<void> {
    if (this.db) (await this.db).close();
    this.db = null;
  }
}
