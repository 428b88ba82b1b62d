import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  type CheckpointFiles,
  checkRelativePath,
  type EmoFlowGenerator,
  encodeCheckpoint,
  fromFloat16Bits,
  loadCheckpoint,
  loadGenerator,
  memoryReader,
  ready,
  saveCheckpoint,
  sha256Hex,
  tf,
  toFloat16Bits,
} from '../src/index.js';
import { maxDiff, perturbLoraB, pixels, REQUEST, TINY, tinyGenerator } from './generator-fixtures.js';

const json = (files: CheckpointFiles) => JSON.parse(new TextDecoder().decode(files['manifest.json']));
const withManifest = (
  files: CheckpointFiles,
  edit: (m: Record<string, unknown>) => void,
): CheckpointFiles => {
  const m = json(files);
  edit(m);
  return { ...files, 'manifest.json': new TextEncoder().encode(JSON.stringify(m)) };
};
const snapshot = (g: EmoFlowGenerator) =>
  [...g.model.weights.variables.values()].map((v) => v.dataSync().slice());

describe('checkpoints', () => {
  let g: EmoFlowGenerator;
  let files: CheckpointFiles;

  beforeAll(async () => {
    await ready({ device: 'wasm' });
    g = tinyGenerator();
    for (const v of g.model.weights.variables.values())
      v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 1)));
    files = encodeCheckpoint(g, { metadata: { note: 'test' } });
  });
  afterAll(() => g.dispose());

  it('hashes with SHA-256 exactly as node:crypto does', () => {
    for (const n of [0, 3, 55, 56, 64, 1000]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
      expect(sha256Hex(data)).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('round-trips float16 within half precision', () => {
    for (const x of [0, 1, -2.5, 0.1, 65504, 1e-6, -3.25]) {
      expect(Math.abs(fromFloat16Bits(toFloat16Bits(x)) - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-3 + 6e-8);
    }
  });

  it('save → load gives identical outputs (float32) and close ones (float16)', async () => {
    const written: CheckpointFiles = {};
    const manifest = await saveCheckpoint(g, (p, d) => {
      written[p] = d;
    });
    expect(manifest.kind).toBe('base');
    expect(Object.keys(written)).toEqual(['weights.bin', 'manifest.json']);
    const copy = await loadGenerator(memoryReader(written));
    const a = pixels(await g.generate(REQUEST, { steps: 3 }));
    expect(maxDiff(pixels(await copy.generate(REQUEST, { steps: 3 })), a)).toBe(0);
    expect(copy.config).toEqual(g.config);
    const other = tinyGenerator({}, 99);
    await loadCheckpoint(other, memoryReader(written));
    expect(maxDiff(pixels(await other.generate(REQUEST, { steps: 3 })), a)).toBe(0);
    const half = encodeCheckpoint(g, { dtype: 'float16' });
    expect(half['weights.bin']!.length).toBe(written['weights.bin']!.length / 2);
    const h = await loadGenerator(memoryReader(half));
    expect(maxDiff(pixels(await h.generate(REQUEST, { steps: 3 })), a)).toBeLessThan(0.02);
    for (const x of [copy, other, h]) x.dispose();
  });

  it('saves and loads LoRA adapters separately from the base', async () => {
    const tuned = tinyGenerator({ lora: { rank: 2, targets: ['attention', 'film'] } });
    await loadCheckpoint(tuned, memoryReader(files));
    perturbLoraB(tuned, 0.3);
    const lora = encodeCheckpoint(tuned, { kind: 'lora' });
    expect(json(lora).variables.every((v: { name: string }) => v.name.includes('.lora_'))).toBe(true);
    const fresh = await loadGenerator(memoryReader(files));
    await loadCheckpoint(fresh, memoryReader(lora));
    expect(fresh.adapters!.config.rank).toBe(2);
    const want = pixels(await tuned.generate(REQUEST, { steps: 3 }));
    expect(maxDiff(pixels(await fresh.generate(REQUEST, { steps: 3 })), want)).toBe(0);
    for (const x of [tuned, fresh]) x.dispose();
  });

  it('refuses unsafe paths', () => {
    for (const p of ['../weights.bin', '/etc/passwd', 'a/../../b', 'C:\\x', '', './w', 'a//b']) {
      expect(() => checkRelativePath(p)).toThrow(CheckpointError);
    }
    expect(checkRelativePath('shards/weights-1.bin')).toBe('shards/weights-1.bin');
  });

  it('fails bad checkpoints with CheckpointError and leaves the model unchanged', async () => {
    const target = tinyGenerator({}, 42);
    const before = snapshot(target);
    const bad: [RegExp, CheckpointFiles][] = [
      [
        /'\.\.'/,
        withManifest(files, (m) => {
          (m.files as { path: string }[])[0]!.path = '../weights.bin';
          (m.variables as { file: string }[]).forEach((v) => {
            v.file = '../weights.bin';
          });
        }),
      ],
      [
        /not a plain relative path/,
        withManifest(files, (m) => {
          (m.files as { path: string }[])[0]!.path = '/tmp/weights.bin';
        }),
      ],
      [
        /has shape \[/,
        withManifest(files, (m) => {
          // Same element count (so byte lengths agree), different layout.
          const v = (m.variables as { name: string; shape: number[] }[]).find(
            (x) => x.name === 'stem.weight',
          )!;
          v.shape = [3, 3, v.shape[3]!, v.shape[2]!];
        }),
      ],
      [
        /channels/,
        withManifest(files, (m) => {
          (m.config as { channels: number[] }).channels = [8, 8, 16];
        }),
      ],
      [/truncated/, { ...files, 'weights.bin': files['weights.bin']!.slice(0, 100) }],
      [
        /SHA-256/,
        {
          ...files,
          'weights.bin': files['weights.bin']!.map((b, i) => (i === 1000 ? b ^ 1 : b)),
        },
      ],
      [/does not exist/, { 'manifest.json': files['manifest.json']! }],
      [/not valid JSON/, { ...files, 'manifest.json': new TextEncoder().encode('{"format": ') }],
      [
        /lacks variable/,
        withManifest(files, (m) => {
          (m.variables as unknown[]).pop();
        }),
      ],
    ];
    for (const [what, f] of bad) {
      await expect(loadCheckpoint(target, memoryReader(f)), String(what)).rejects.toThrow(CheckpointError);
      await expect(loadCheckpoint(target, memoryReader(f)), String(what)).rejects.toThrow(what);
      const after = snapshot(target);
      after.forEach((a, i) => {
        expect(maxDiff(a, before[i]!), String(what)).toBe(0);
      });
    }
    await expect(loadGenerator(memoryReader(bad[4]![1]))).rejects.toThrow(/truncated/);
    await expect(loadGenerator(memoryReader(bad[0]![1]))).rejects.toThrow(/'\.\.'/);
    // A model of another size rejects a valid checkpoint.
    const bigger = tinyGenerator({}, 1);
    const wide = (await import('../src/index.js')).createEmoFlowGenerator({ ...TINY, channels: [8, 16, 16] });
    await expect(loadCheckpoint(wide, memoryReader(files))).rejects.toThrow(/channels/);
    for (const x of [target, bigger, wide]) x.dispose();
  });
});
