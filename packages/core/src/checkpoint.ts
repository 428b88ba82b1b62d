import { sha256Hex } from './checkpoint-hash.js';
import { CheckpointError } from './errors.js';
import {
  EmoFlowGenerator,
  type EmoFlowGeneratorOptions,
  type SamplingDefaults,
} from './generator/emoflow.js';
import { type EmoFlowConfig, EmoFlowModel, emoFlowConfig } from './generator/emoflow-model.js';
import { type LoraConfig, loraConfig } from './lora.js';
import { tf } from './tf.js';

/** The format tag every EmoFlow checkpoint manifest carries. */
export const CHECKPOINT_FORMAT = 'emoflow-checkpoint';
/** The manifest version this SDK writes and reads. */
export const CHECKPOINT_VERSION = 1;
/** File name of the manifest inside a checkpoint. */
export const MANIFEST_FILE = 'manifest.json';

/** Storage type of a weight: float32, or float16 (half the size; outputs stay within ~1e-3). */
export type WeightDtype = 'float32' | 'float16';

/** One stored tensor. */
export interface ManifestVariable {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: WeightDtype;
  /** Relative path of the file that holds it. */
  readonly file: string;
  readonly offset: number;
  readonly byteLength: number;
}

/** One weight file with its length and SHA-256. */
export interface ManifestFile {
  readonly path: string;
  readonly byteLength: number;
  readonly sha256: string;
}

/**
 * A checkpoint's manifest. `kind: 'base'` holds the network's base weights; `kind: 'lora'` only
 * the adapters (saved and loaded separately from the base).
 */
export interface CheckpointManifest {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  readonly kind: 'base' | 'lora';
  readonly config: EmoFlowConfig;
  /** Adapter settings (lora checkpoints). */
  readonly lora?: LoraConfig;
  /** Sampling defaults the weights were tuned for (base checkpoints). */
  readonly sampling?: SamplingDefaults;
  /** Free-form information about how the weights were made. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly variables: readonly ManifestVariable[];
  readonly files: readonly ManifestFile[];
}

/** A checkpoint as files: relative path → bytes. */
export type CheckpointFiles = Record<string, Uint8Array>;

/** Reads one file of a checkpoint by its relative path. */
export type CheckpointReader = (relativePath: string) => Promise<Uint8Array> | Uint8Array;
/** Writes one file of a checkpoint by its relative path. */
export type CheckpointWriter = (relativePath: string, data: Uint8Array) => Promise<void> | void;

/** Options of {@link encodeCheckpoint}. */
export interface EncodeCheckpointOptions {
  /** What to save; default `base`. */
  readonly kind?: 'base' | 'lora';
  /** Storage type; default float32. */
  readonly dtype?: WeightDtype;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

const SAFE_PATH = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/**
 * Checks that a path stays inside its checkpoint: relative, forward slashes, no `.`/`..`
 * segments, no drive letters.
 * @throws CheckpointError otherwise.
 */
export function checkRelativePath(path: unknown): string {
  if (
    typeof path !== 'string' ||
    !SAFE_PATH.test(path) ||
    path.split('/').some((s) => s === '.' || s === '..')
  ) {
    throw new CheckpointError(
      `Checkpoint path ${JSON.stringify(path)} is not a plain relative path inside the checkpoint folder (no '..', no absolute paths).`,
    );
  }
  return path;
}

// ---- float16 ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half bits, rounding to nearest even. */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = 0;
  return sign | half;
}

/** IEEE half bits → number. */
export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function encodeValues(values: Float32Array, dtype: WeightDtype): Uint8Array {
  if (dtype === 'float32')
    return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, toFloat16Bits(values[i] as number), true);
  return out;
}

function decodeValues(bytes: Uint8Array, dtype: WeightDtype, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  if (dtype === 'float32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  else for (let i = 0; i < count; i++) out[i] = fromFloat16Bits(view.getUint16(i * 2, true));
  return out;
}

const BYTES: Record<WeightDtype, number> = { float32: 4, float16: 2 };

// ---- encode ----

function namedVariables(generator: EmoFlowGenerator, kind: 'base' | 'lora'): Map<string, tf.Variable> {
  if (kind === 'base') return generator.model.weights.variables;
  const adapters = generator.model.adapters;
  if (!adapters)
    throw new CheckpointError('Cannot save a LoRA checkpoint: the generator has no adapters attached.');
  return adapters.variables;
}

/**
 * Serialises a generator's base weights or its LoRA adapters into `manifest.json` plus
 * `weights.bin` (little-endian, tensors back to back).
 */
export function encodeCheckpoint(
  generator: EmoFlowGenerator,
  options: EncodeCheckpointOptions = {},
): CheckpointFiles {
  const kind = options.kind ?? 'base';
  const dtype = options.dtype ?? 'float32';
  const vars = namedVariables(generator, kind);
  const chunks: Uint8Array[] = [];
  const variables: ManifestVariable[] = [];
  let offset = 0;
  for (const [name, v] of vars) {
    const bytes = encodeValues(v.dataSync() as Float32Array, dtype);
    variables.push({
      name,
      shape: [...v.shape],
      dtype,
      file: 'weights.bin',
      offset,
      byteLength: bytes.length,
    });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const weights = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    weights.set(c, at);
    at += c.length;
  }
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    kind,
    config: generator.config,
    ...(kind === 'lora'
      ? { lora: generator.model.adapters?.config as LoraConfig }
      : { sampling: generator.sampling }),
    ...(options.metadata ? { metadata: options.metadata } : {}),
    variables,
    files: [{ path: 'weights.bin', byteLength: weights.length, sha256: sha256Hex(weights) }],
  };
  return {
    [MANIFEST_FILE]: new TextEncoder().encode(JSON.stringify(manifest, null, 1)),
    'weights.bin': weights,
  };
}

/** Saves a checkpoint through a writer callback (weights first, manifest last). */
export async function saveCheckpoint(
  generator: EmoFlowGenerator,
  write: CheckpointWriter,
  options: EncodeCheckpointOptions = {},
): Promise<CheckpointManifest> {
  const files = encodeCheckpoint(generator, options);
  for (const [path, data] of Object.entries(files)) if (path !== MANIFEST_FILE) await write(path, data);
  await write(MANIFEST_FILE, files[MANIFEST_FILE] as Uint8Array);
  return parseManifest(files[MANIFEST_FILE] as Uint8Array);
}

// ---- decode ----

/**
 * Parses and validates a manifest: format and version, safe relative paths, offsets inside
 * their files, byte lengths that match shapes and dtypes, a config the SDK can build.
 * @throws CheckpointError naming what is wrong.
 */
export function parseManifest(bytes: Uint8Array): CheckpointManifest {
  let m: CheckpointManifest;
  try {
    m = JSON.parse(new TextDecoder().decode(bytes)) as CheckpointManifest;
  } catch (error) {
    throw new CheckpointError(`The checkpoint manifest is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (m === null || typeof m !== 'object' || m.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`Not an EmoFlow checkpoint manifest (format must be '${CHECKPOINT_FORMAT}').`);
  }
  if (m.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(
      `Unsupported checkpoint version ${String(m.version)}; this SDK reads version ${CHECKPOINT_VERSION}.`,
    );
  }
  if (m.kind !== 'base' && m.kind !== 'lora')
    throw new CheckpointError(`Unknown checkpoint kind ${JSON.stringify(m.kind)}.`);
  try {
    emoFlowConfig(m.config as Parameters<typeof emoFlowConfig>[0]);
    if (m.kind === 'lora') loraConfig(m.lora);
  } catch (error) {
    throw new CheckpointError(`The checkpoint's configuration is invalid: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!Array.isArray(m.files) || !Array.isArray(m.variables)) {
    throw new CheckpointError('The checkpoint manifest lacks its files or variables list.');
  }
  const files = new Map<string, ManifestFile>();
  for (const f of m.files) {
    checkRelativePath(f?.path);
    if (!Number.isInteger(f.byteLength) || f.byteLength < 0 || typeof f.sha256 !== 'string') {
      throw new CheckpointError(`File entry '${f.path}' needs an integer byteLength and a sha256.`);
    }
    files.set(f.path, f);
  }
  const names = new Set<string>();
  for (const v of m.variables) {
    if (typeof v?.name !== 'string' || names.has(v.name)) {
      throw new CheckpointError(
        `Variable entry ${JSON.stringify(v?.name)} is missing a name or repeats one.`,
      );
    }
    names.add(v.name);
    checkRelativePath(v.file);
    const file = files.get(v.file);
    if (!file)
      throw new CheckpointError(
        `Variable '${v.name}' points to '${v.file}', which the manifest does not list.`,
      );
    if (v.dtype !== 'float32' && v.dtype !== 'float16') {
      throw new CheckpointError(`Variable '${v.name}' has unsupported dtype ${JSON.stringify(v.dtype)}.`);
    }
    const shape = v.shape as unknown;
    if (!Array.isArray(shape) || shape.some((d: unknown) => !Number.isInteger(d) || (d as number) < 0)) {
      throw new CheckpointError(`Variable '${v.name}' has an invalid shape.`);
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const dtype: WeightDtype = v.dtype;
    if (v.byteLength !== count * BYTES[dtype]) {
      throw new CheckpointError(
        `Variable '${v.name}' of shape [${shape.join(', ')}] (${dtype}) needs ${count * BYTES[dtype]} bytes, the manifest says ${v.byteLength}.`,
      );
    }
    if (!Number.isInteger(v.offset) || v.offset < 0 || v.offset + v.byteLength > file.byteLength) {
      throw new CheckpointError(`Variable '${v.name}' lies outside '${v.file}' (${file.byteLength} bytes).`);
    }
  }
  return m;
}

/** Reads and validates the manifest through a reader. */
export async function readManifest(read: CheckpointReader): Promise<CheckpointManifest> {
  return parseManifest(await readChecked(read, MANIFEST_FILE));
}

async function readChecked(read: CheckpointReader, path: string): Promise<Uint8Array> {
  checkRelativePath(path);
  try {
    return await read(path);
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(`Cannot read checkpoint file '${path}': ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Decoded tensors of a checkpoint, keyed by variable name (plain arrays: nothing allocated on a backend). */
export async function readCheckpointValues(
  read: CheckpointReader,
  manifest?: CheckpointManifest,
): Promise<{ manifest: CheckpointManifest; values: Map<string, { shape: number[]; data: Float32Array }> }> {
  const m = manifest ?? (await readManifest(read));
  const data = new Map<string, Uint8Array>();
  for (const f of m.files) {
    const bytes = await readChecked(read, f.path);
    if (bytes.length !== f.byteLength) {
      throw new CheckpointError(
        `Checkpoint file '${f.path}' has ${bytes.length} bytes but the manifest says ${f.byteLength} (truncated or replaced).`,
      );
    }
    const hash = sha256Hex(bytes);
    if (hash !== f.sha256) {
      throw new CheckpointError(
        `Checkpoint file '${f.path}' fails its SHA-256 check (corrupted or replaced).`,
      );
    }
    data.set(f.path, bytes);
  }
  const values = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const v of m.variables) {
    const file = data.get(v.file) as Uint8Array;
    const count = v.shape.reduce((a, b) => a * b, 1);
    values.set(v.name, {
      shape: [...v.shape],
      data: decodeValues(file.subarray(v.offset, v.offset + v.byteLength), v.dtype, count),
    });
  }
  return { manifest: m, values };
}

const SHAPE_KEYS = [
  'architecture',
  'imageSize',
  'channels',
  'attentionDim',
  'heads',
  'condDim',
  'timeFeatures',
  'groups',
] as const;

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkConfigMatches(model: EmoFlowConfig, stored: EmoFlowConfig): void {
  for (const key of SHAPE_KEYS) {
    if (!sameJson(model[key], stored[key])) {
      throw new CheckpointError(
        `The checkpoint was made for ${key} = ${JSON.stringify(stored[key])}, but this model has ${JSON.stringify(model[key])}.`,
      );
    }
  }
  if (!sameJson(model.text, stored.text)) {
    throw new CheckpointError(
      'The checkpoint was made for a different text encoder (vocabulary, buckets, token limit or width).',
    );
  }
  if (!sameJson(model.emotion, stored.emotion)) {
    throw new CheckpointError('The checkpoint was made for a different emotion encoder configuration.');
  }
}

function checkAgainst(
  targets: Map<string, tf.Variable>,
  values: Map<string, { shape: number[]; data: Float32Array }>,
  what: string,
): void {
  for (const [name, v] of targets) {
    const got = values.get(name);
    if (!got) throw new CheckpointError(`The ${what} checkpoint lacks variable '${name}'.`);
    if (!sameJson(got.shape, v.shape)) {
      throw new CheckpointError(
        `Variable '${name}' has shape [${got.shape.join(', ')}] in the checkpoint but [${v.shape.join(', ')}] in the model.`,
      );
    }
  }
  for (const name of values.keys()) {
    if (!targets.has(name))
      throw new CheckpointError(`The ${what} checkpoint has variable '${name}', which the model does not.`);
  }
  for (const [name, got] of values) {
    for (const x of got.data) {
      if (!Number.isFinite(x)) throw new CheckpointError(`Variable '${name}' holds non-finite values.`);
    }
  }
}

/** Assigns every value at once, after all checks passed, so a failed load changes nothing. */
function assignAll(
  targets: Map<string, tf.Variable>,
  values: Map<string, { shape: number[]; data: Float32Array }>,
): void {
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, got] of values) tensors.set(name, tf.tensor(got.data, got.shape));
  for (const [name, t] of tensors) (targets.get(name) as tf.Variable).assign(t);
  tf.dispose([...tensors.values()]);
}

/**
 * Loads a base or LoRA checkpoint into an existing generator. Everything is read, hashed,
 * decoded and checked against the model before any weight changes; a LoRA checkpoint replaces
 * the attached adapters (attaching them when the generator has none).
 * @throws CheckpointError for unsafe paths, config or shape mismatches, truncated or corrupted
 * files; the generator is then left exactly as it was.
 */
export async function loadCheckpoint(
  generator: EmoFlowGenerator,
  read: CheckpointReader,
): Promise<CheckpointManifest> {
  const { manifest, values } = await readCheckpointValues(read);
  checkConfigMatches(generator.config, manifest.config);
  if (manifest.kind === 'base') {
    checkAgainst(generator.model.weights.variables, values, 'base');
    assignAll(generator.model.weights.variables, values);
    if (manifest.sampling) generator.sampling = { ...generator.sampling, ...manifest.sampling };
    return manifest;
  }
  const wanted = manifest.lora as LoraConfig;
  const current = generator.model.adapters;
  if (current && sameJson(current.config, wanted)) {
    checkAgainst(current.variables, values, 'LoRA');
    assignAll(current.variables, values);
    return manifest;
  }
  // Build the adapters aside, check, and only then swap them in.
  const probe = new EmoFlowModel(manifest.config);
  try {
    const adapters = probe.attachAdapters(wanted);
    checkAgainst(adapters.variables, values, 'LoRA');
  } finally {
    probe.dispose();
  }
  const enabled = current?.enabled ?? true;
  const adapters = generator.model.attachAdapters(wanted);
  adapters.enabled = enabled;
  assignAll(adapters.variables, values);
  return manifest;
}

/**
 * Builds a generator from a base checkpoint (its config comes from the manifest).
 * @throws CheckpointError for an invalid checkpoint or a LoRA-only one.
 */
export async function loadGenerator(
  read: CheckpointReader,
  options: EmoFlowGeneratorOptions = {},
): Promise<EmoFlowGenerator> {
  const manifest = await readManifest(read);
  if (manifest.kind !== 'base')
    throw new CheckpointError('A LoRA checkpoint has no base weights; load a base checkpoint first.');
  const { values } = await readCheckpointValues(read, manifest);
  const generator = new EmoFlowGenerator(
    new EmoFlowModel(emoFlowConfig(manifest.config as Parameters<typeof emoFlowConfig>[0])),
    {
      ...options,
      sampling: { ...manifest.sampling, ...options.sampling },
    },
  );
  try {
    checkAgainst(generator.model.weights.variables, values, 'base');
    assignAll(generator.model.weights.variables, values);
  } catch (error) {
    generator.dispose();
    throw error;
  }
  return generator;
}

/** A reader over in-memory files (tests, embedded weights, IndexedDB blobs). */
export function memoryReader(files: Readonly<Record<string, Uint8Array>>): CheckpointReader {
  return (path) => {
    const data = files[path];
    if (!data) throw new CheckpointError(`Checkpoint file '${path}' does not exist.`);
    return data;
  };
}
