import { CheckpointError, tf } from '@emofeedback/core';

/** Packs named float32 tensors into one buffer plus a JSON-able index. */
export interface PackedTensors {
  readonly index: { name: string; shape: number[]; offset: number; length: number }[];
  readonly bytes: Uint8Array;
}

export async function packTensors(
  named: readonly { name: string; tensor: tf.Tensor }[],
): Promise<PackedTensors> {
  const arrays = await Promise.all(named.map(async (n) => (await n.tensor.data()) as Float32Array));
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const all = new Float32Array(total);
  const index: PackedTensors['index'] = [];
  let offset = 0;
  named.forEach((n, i) => {
    const a = arrays[i] as Float32Array;
    all.set(a, offset);
    index.push({ name: n.name, shape: [...n.tensor.shape], offset, length: a.length });
    offset += a.length;
  });
  return { index, bytes: new Uint8Array(all.buffer) };
}

/** Unpacks {@link packTensors}; checks lengths so a truncated file fails instead of loading garbage. */
export function unpackTensors(
  index: PackedTensors['index'],
  bytes: Uint8Array,
  what: string,
): Map<string, tf.Tensor> {
  const needed = index.reduce((s, e) => Math.max(s, e.offset + e.length), 0) * 4;
  if (bytes.byteLength !== needed) {
    throw new CheckpointError(
      `${what} has ${bytes.byteLength} bytes; its index needs ${needed} (truncated or mismatched).`,
    );
  }
  const floats = new Float32Array(bytes.slice().buffer);
  const out = new Map<string, tf.Tensor>();
  for (const e of index) {
    if (e.shape.reduce((a, b) => a * b, 1) !== e.length) {
      throw new CheckpointError(`${what}: entry ${e.name} has shape [${e.shape}] but ${e.length} values.`);
    }
    out.set(e.name, tf.tensor(floats.subarray(e.offset, e.offset + e.length), e.shape, 'float32'));
  }
  return out;
}
