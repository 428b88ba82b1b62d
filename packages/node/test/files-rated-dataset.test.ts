import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RgbImage } from '@emofeedback/core';
import { loadRatedDataset, RatedDatasetError, writePng } from '@emofeedback/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const shared = resolve(repo, '..', 'shared', 'data');

let root: string;
const img = (v: number): RgbImage => ({ width: 3, height: 2, data: new Float32Array(18).fill(v) });

/** Writes a dataset folder with the given CSV text and images. */
async function dataset(
  name: string,
  csv: string,
  images: Record<string, RgbImage | string> = {},
): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'images'), { recursive: true });
  await writeFile(join(dir, 'ratings.csv'), csv);
  for (const [file, content] of Object.entries(images)) {
    if (typeof content === 'string') await writeFile(join(dir, file), content);
    else await writePng(join(dir, file), content);
  }
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'emofeedback-rated-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('loadRatedDataset', () => {
  it('reads images and converts ratings to the canonical scale', async () => {
    const dir = await dataset(
      'ok',
      'file,valence_mean,arousal_mean,note\nimages/a.png,7,1,"x, y"\nb.png,4,5.5,\n',
      {
        'images/a.png': img(0.2),
        'images/b.png': img(0.8),
      },
    );
    const ds = await loadRatedDataset(dir, { scale: 'likert7' });
    expect(ds.items.map((i) => [i.file, i.valence, i.arousal])).toEqual([
      ['images/a.png', 3, -3],
      ['b.png', 0, 1.5],
    ]);
    expect(ds.items[0]?.row.note).toBe('x, y');
    expect(ds.items[0]?.image.data[0]).toBeCloseTo(0.2, 2);
    const sam = await loadRatedDataset(dir, {
      scale: 'canonical',
      columns: { valence: 'arousal_mean', arousal: 'arousal_mean' },
      limit: 1,
    });
    expect(sam.items).toHaveLength(1);
    const resized = await loadRatedDataset(dir, { scale: 'likert7', resize: { width: 8, height: 8 } });
    expect([resized.items[1]?.image.width, resized.items[1]?.image.height]).toEqual([8, 8]);
  });

  it('accepts plain valence/arousal columns and the SAM 9-point scale', async () => {
    const dir = await dataset('sam', 'file,valence,arousal\nimages/a.png,9,5\n', {
      'images/a.png': img(0.5),
    });
    const ds = await loadRatedDataset(dir, { scale: 'sam9' });
    expect(ds.items[0]?.valence).toBeCloseTo(3, 12);
    expect(ds.items[0]?.arousal).toBeCloseTo(0, 12);
  });

  it('names the missing ratings file, missing column, bad row and missing image', async () => {
    await expect(loadRatedDataset(join(root, 'nowhere'), { scale: 'likert7' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const noCol = await dataset('nocol', 'file,valence_mean\nimages/a.png,4\n', { 'images/a.png': img(0.5) });
    await expect(loadRatedDataset(noCol, { scale: 'likert7' })).rejects.toThrow(/missing the arousal column/);
    const nan = await dataset(
      'nan',
      'file,valence_mean,arousal_mean\nimages/a.png,4,4\nimages/a.png,high,4\n',
      {
        'images/a.png': img(0.5),
      },
    );
    const err = await loadRatedDataset(nan, { scale: 'likert7' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RatedDatasetError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', line: 3, column: 'valence_mean' });
    expect(String(err)).toMatch(/ratings\.csv, line 3: valence_mean is 'high', not a number/);
    const out = await dataset('range', 'file,valence_mean,arousal_mean\nimages/a.png,8,4\n', {
      'images/a.png': img(0.5),
    });
    await expect(loadRatedDataset(out, { scale: 'likert7' })).rejects.toThrow(/outside the likert7 scale/);
    const missing = await dataset('missing', 'file,valence_mean,arousal_mean\nimages/gone.png,4,4\n');
    await expect(loadRatedDataset(missing, { scale: 'likert7' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      line: 2,
    });
    await expect(loadRatedDataset(missing, { scale: 'likert7' })).rejects.toThrow(/gone\.png/);
  });

  it('names an unreadable image', async () => {
    const dir = await dataset('bad', 'file,valence_mean,arousal_mean\nimages/a.png,4,4\n', {
      'images/a.png': 'plain text',
    });
    await expect(loadRatedDataset(dir, { scale: 'likert7' })).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      file: join(dir, 'images', 'a.png'),
    });
  });

  it('reads the shared BASS ratings', async () => {
    const bass = await loadRatedDataset(join(shared, 'bass'), { scale: 'sam9', limit: 3 });
    expect(bass.items).toHaveLength(3);
    expect(bass.items[0]?.image.width).toBe(300);
    // abuse.png: valence 1.729 on 1-9 → (1.729 − 5) · 0.75.
    expect(bass.items[0]?.valence).toBeCloseTo((1.729166667 - 5) * 0.75, 6);
  });
});
