import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointError, InvalidArgumentError } from '@emofeedback/core';
import { CheckpointManager } from '@emofeedback/rl';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderCheckpointStore } from '../src/index.js';

let dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'emofeedback-ckpt-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

describe('FolderCheckpointStore + CheckpointManager', () => {
  it('writes, reads, keeps the last N and finds the latest', async () => {
    const manager = new CheckpointManager(new FolderCheckpointStore(await tempDir()), 2);
    expect(await manager.latest()).toBeNull();
    for (const i of [1, 2, 3, 10])
      await manager.save(i, { 'state.json': new TextEncoder().encode(`{"i":${i}}`) });
    expect(await manager.iterations()).toEqual([3, 10]);
    expect(await manager.latest()).toBe(10);
    expect(new TextDecoder().decode(await manager.read(10, 'state.json'))).toBe('{"i":10}');
    await expect(manager.read(1, 'state.json')).rejects.toThrow(CheckpointError);
  });

  it('rejects names that could escape the folder', async () => {
    const store = new FolderCheckpointStore(await tempDir());
    await expect(store.write('../evil', {})).rejects.toThrow(InvalidArgumentError);
    await expect(store.write('ok', { '../x': new Uint8Array(1) })).rejects.toThrow(InvalidArgumentError);
    await expect(store.read('ok', '../../etc/passwd')).rejects.toThrow(InvalidArgumentError);
  });

  it('never shows a checkpoint that a SIGKILL interrupted mid-write', async () => {
    const dir = await tempDir();
    // A child process writes 8 MB checkpoints in a loop; it is killed at a random moment.
    const writer = fileURLToPath(new URL('./fixtures/checkpoint-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => {
      let dots = 0;
      child.stdout.on('data', (d: Buffer) => {
        dots += d.length;
        if (dots >= 3) resolve();
      });
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    // Every checkpoint the store lists is complete.
    const store = new FolderCheckpointStore(dir);
    const names = await store.list();
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const name of names) {
      const state = JSON.parse(new TextDecoder().decode(await store.read(name, 'state.json')));
      expect((await store.read(name, 'weights.bin')).length).toBe(8 << 20);
      expect(name).toBe(`iter-${String(state.i).padStart(8, '0')}`);
    }
    // and the next write cleans the interrupted temporary away
    await store.write('iter-99999999', { 'state.json': new Uint8Array([123, 125]) });
    expect((await readdir(dir)).filter((e) => e.startsWith('.tmp-'))).toEqual([]);
  });
});
