import { CheckpointManager } from '@emofeedback/rl';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { IndexedDbCheckpointStore } from '../src/index.js';

// fake-indexeddb implements the IndexedDB specification in JavaScript; the e2e suite exercises
// the same store in real Chromium.
describe('IndexedDbCheckpointStore', () => {
  it('writes, lists, reads, keeps the last N and removes', async () => {
    const store = new IndexedDbCheckpointStore('run-1', new IDBFactory());
    const manager = new CheckpointManager(store, 2);
    for (const i of [1, 2, 3]) await manager.save(i, { 'w.bin': new Uint8Array([i, i + 1]) });
    expect(await manager.iterations()).toEqual([2, 3]);
    expect(Array.from(await manager.read(3, 'w.bin'))).toEqual([3, 4]);
    await expect(manager.read(3, 'missing.bin')).rejects.toThrow(/has no file 'missing.bin'/);
    await store.close();
  });

  it('fails with a CheckpointError where IndexedDB does not exist', async () => {
    const store = new IndexedDbCheckpointStore('x', undefined);
    await expect(store.list()).rejects.toThrow(/IndexedDB is not available/);
  });
});
