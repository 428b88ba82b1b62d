import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, createEmoFlowGenerator, ready, tf } from '@emofeedback/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createGeneratorFromFolder,
  folderCheckpointReader,
  loadGeneratorFolder,
  saveGeneratorFolder,
} from '../src/files/checkpoint-folder.js';

const TINY = {
  imageSize: 8,
  channels: [8, 8, 8] as [number, number, number],
  attentionDim: 8,
  condDim: 16,
  timeFeatures: 8,
  groups: 4,
  text: { vocabulary: ['a', 'dog'], hashBuckets: 4, maxTokens: 4, dim: 8 },
  emotion: { fourierFeatures: 1, hidden: 8, tokens: 2 },
};
const REQUEST = { prompts: ['a dog'], emotions: [{ valence: 1, arousal: -1 }], seeds: [5] };

let dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'emoflow-ckpt-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

describe('generator checkpoint folders', () => {
  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });

  it('saves atomically and loads back to identical outputs', async () => {
    const root = await tempDir();
    const g = createEmoFlowGenerator({ ...TINY, seed: 1 });
    for (const v of g.model.weights.variables.values())
      v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 2)));
    const folder = join(root, 'base');
    await saveGeneratorFolder(folder, g);
    await saveGeneratorFolder(folder, g); // replacing an existing checkpoint works too
    expect((await readdir(root)).sort()).toEqual(['base']);
    expect((await readdir(folder)).sort()).toEqual(['manifest.json', 'weights.bin']);
    const copy = await createGeneratorFromFolder(folder);
    const [a] = await g.generate(REQUEST, { steps: 2 });
    const [b] = await copy.generate(REQUEST, { steps: 2 });
    expect(Array.from(b!.data)).toEqual(Array.from(a!.data));
    const other = createEmoFlowGenerator({ ...TINY, seed: 9 });
    await loadGeneratorFolder(folder, other);
    const [c] = await other.generate(REQUEST, { steps: 2 });
    expect(Array.from(c!.data)).toEqual(Array.from(a!.data));
    for (const x of [g, copy, other]) x.dispose();
  });

  it('refuses manifests pointing outside the folder and truncated files', async () => {
    const root = await tempDir();
    const g = createEmoFlowGenerator({ ...TINY, seed: 1 });
    const folder = join(root, 'ckpt');
    await saveGeneratorFolder(folder, g);
    await writeFile(join(root, 'outside.bin'), new Uint8Array(10));
    await expect(folderCheckpointReader(folder)('../outside.bin')).rejects.toThrow(CheckpointError);
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
    manifest.files[0].path = '../outside.bin';
    await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest));
    await expect(createGeneratorFromFolder(folder)).rejects.toThrow(CheckpointError);
    await saveGeneratorFolder(folder, g);
    const weights = await readFile(join(folder, 'weights.bin'));
    await writeFile(join(folder, 'weights.bin'), weights.subarray(0, weights.length - 4));
    await expect(loadGeneratorFolder(folder, g)).rejects.toThrow(/truncated/);
    await expect(createGeneratorFromFolder(join(root, 'missing'))).rejects.toThrow(CheckpointError);
    g.dispose();
  });
});
