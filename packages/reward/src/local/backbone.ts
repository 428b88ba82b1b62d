import { EmoFeedbackError, InvalidArgumentError, tf } from '@emofeedback/core';

/**
 * The frozen image backbones the local evaluators can use. All three ship inside the `nsfwjs`
 * package (MIT) as embedded JavaScript modules, so they load offline in Node and in browsers.
 * Only the modules of the backbone in use are loaded.
 *
 * - `mobilenet-v2`: MobileNetV2 (224 px, Keras layers model, 1280-d pooled features). Fast.
 * - `mobilenet-v2-mid`: a second, independently trained MobileNetV2 (224 px, TF-Hub graph model).
 * - `inception-v3`: InceptionV3 (299 px, 2048-d pooled features). About 10× slower.
 */
export type BackboneName = 'mobilenet-v2' | 'mobilenet-v2-mid' | 'inception-v3';

/** Every backbone name. */
export const BACKBONES: readonly BackboneName[] = ['mobilenet-v2', 'mobilenet-v2-mid', 'inception-v3'];

interface ModelModule {
  readonly modelJson: () => Promise<{ default: unknown }>;
  readonly weightBundles: readonly (() => Promise<{ default: unknown }>)[];
}

interface BackboneSpec {
  readonly inputSize: number;
  readonly format: 'layers' | 'graph';
  /** Named intermediate outputs: layer names (layers model) or node names (graph model). */
  readonly endpoints: Readonly<Record<string, string>>;
  /**
   * Endpoints that are spatial feature maps `[N, H, W, C]`, summarised over space by the
   * per-channel mean or standard deviation (`[N, C]`), so that their size does not depend on the
   * input size.
   */
  readonly pooled?: Readonly<Record<string, 'mean' | 'std'>>;
  /** The endpoints concatenated into the default feature vector. */
  readonly featureEndpoints: readonly string[];
  readonly module: () => Promise<ModelModule>;
}

/** The inverted-residual blocks whose expansion activations the MobileNetV2 backbones expose. */
const BLOCKS = [3, 6, 10, 13, 16] as const;

/** `blockN` (spatial mean) and `blockN-std` (spatial standard deviation) of each block's node. */
function pooledBlockEndpoints(node: (block: number) => string): Record<string, string> {
  return Object.fromEntries(
    BLOCKS.flatMap((n) => [
      [`block${n}`, node(n)],
      [`block${n}-std`, node(n)],
    ]),
  );
}

function pooledBlockKinds(extra: readonly string[] = []): Record<string, 'mean' | 'std'> {
  return Object.fromEntries(
    [...BLOCKS.map((n) => `block${n}`), ...extra].flatMap((name) => [
      [name, 'mean' as const],
      [`${name}-std`, 'std' as const],
    ]),
  );
}

const HUB = 'StatefulPartitionedCall/sequential';
const MID = `${HUB}/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2`;
const SPECS: Record<BackboneName, BackboneSpec> = {
  'mobilenet-v2': {
    inputSize: 224,
    format: 'layers',
    endpoints: {
      pool: 'average_pooling2d_1',
      dense: 'dense_1',
      probs: 'dense_3',
      // Expansion activations (ReLU6) of the inverted-residual blocks at 56, 28, 14, 14 and 7 px,
      // summarised over space like the mid backbone's, so that a head can read colour and texture
      // below the pooled vector.
      ...pooledBlockEndpoints((n) => `block_${n}_expand_relu`),
    },
    pooled: pooledBlockKinds(),
    featureEndpoints: ['pool'],
    module: async () => {
      const m = await import('nsfwjs/models/mobilenet_v2');
      return m.MobileNetV2Model as unknown as ModelModule;
    },
  },
  'mobilenet-v2-mid': {
    inputSize: 224,
    format: 'graph',
    endpoints: {
      pool: `${HUB}/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze`,
      probs: `${HUB}/prediction/Softmax`,
      // Expansion activations (ReLU6, so non-negative) of the inverted-residual blocks, i.e. the
      // outputs of the previous block lifted 6×, at 56, 28, 14, 14 and 7 px; and the last 1×1
      // convolution before the pooled feature vector. Each is summarised over space by its
      // per-channel mean (`blockN`) or standard deviation (`blockN-std`).
      ...pooledBlockEndpoints((n) => `${MID}/expanded_conv_${n}/expand/Relu6`),
      top: `${MID}/Conv_1/Relu6`,
      'top-std': `${MID}/Conv_1/Relu6`,
    },
    pooled: pooledBlockKinds(['top']),
    featureEndpoints: ['pool'],
    module: async () => {
      const m = await import('nsfwjs/models/mobilenet_v2_mid');
      return m.MobileNetV2MidModel as unknown as ModelModule;
    },
  },
  'inception-v3': {
    inputSize: 299,
    format: 'layers',
    endpoints: { pool: 'average_pooling2d_10', dense: 'dense_1', probs: 'dense_3' },
    featureEndpoints: ['pool'],
    module: async () => {
      const m = await import('nsfwjs/models/inception_v3');
      return m.InceptionV3Model as unknown as ModelModule;
    },
  },
};

/** A loaded, frozen backbone. Obtain one with {@link acquireBackbone}. */
export interface Backbone {
  readonly name: BackboneName;
  /** Square input size in pixels; every image is resized to it. */
  readonly inputSize: number;
  /** Length of the default feature vector. */
  readonly featureSize: number;
  /** Names of the intermediate outputs {@link Backbone.outputs} can return. */
  readonly endpoints: readonly string[];
  /**
   * Default features of a batch: `[N, H, W, 3]` RGB in [0, 1], any size (resized bilinearly) →
   * `[N, featureSize]`. Runs in batches of `chunk` images. The caller disposes the result.
   */
  features(images: tf.Tensor4D, chunk?: number): tf.Tensor2D;
  /** Named intermediate outputs, each flattened to `[N, d]`, for feature studies. */
  outputs(images: tf.Tensor4D, endpoints: readonly string[], chunk?: number): tf.Tensor2D[];
}

interface Entry {
  promise: Promise<LoadedBackbone>;
  refs: number;
}

interface LoadedBackbone extends Backbone {
  dispose(): void;
}

const cache = new Map<BackboneName, Entry>();

/** A counted reference to a shared backbone; `release()` frees it when the last user releases. */
export interface BackboneLease {
  readonly backbone: Backbone;
  release(): void;
}

/**
 * Loads a backbone once per process (later calls share it) and counts users; each lease must be
 * released once. The tfjs backend should be chosen (`ready()`) before the first call.
 * @throws InvalidArgumentError for an unknown name; EmoFeedbackError (`CHECKPOINT`) when the
 *   embedded model cannot be loaded.
 */
export async function acquireBackbone(name: BackboneName): Promise<BackboneLease> {
  if (!(name in SPECS))
    throw new InvalidArgumentError(
      'backbone',
      `unknown backbone '${String(name)}'; known: ${BACKBONES.join(', ')}.`,
    );
  let entry = cache.get(name);
  if (!entry) {
    const created: Entry = { promise: loadBackbone(name), refs: 0 };
    entry = created;
    cache.set(name, created);
    created.promise.catch(() => {
      if (cache.get(name) === created) cache.delete(name);
    });
  }
  entry.refs++;
  const current = entry;
  let backbone: LoadedBackbone;
  try {
    backbone = await current.promise;
  } catch (err) {
    current.refs--;
    throw err;
  }
  let released = false;
  return {
    backbone,
    release: () => {
      if (released) return;
      released = true;
      current.refs--;
      if (current.refs === 0 && cache.get(name) === current) {
        cache.delete(name);
        backbone.dispose();
      }
    },
  };
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function loadBackbone(name: BackboneName): Promise<LoadedBackbone> {
  const spec = SPECS[name];
  let artifacts: tf.io.ModelArtifacts;
  try {
    const mod = await spec.module();
    const json = (await mod.modelJson()).default as {
      modelTopology: unknown;
      format?: string;
      weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    };
    const shards = await Promise.all(mod.weightBundles.map(async (load) => (await load()).default as string));
    const bytes = shards.map(decodeBase64);
    const total = bytes.reduce((s, b) => s + b.length, 0);
    const weightData = new Uint8Array(total);
    let offset = 0;
    for (const b of bytes) {
      weightData.set(b, offset);
      offset += b.length;
    }
    artifacts = {
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      format: json.format,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: weightData.buffer,
    };
  } catch (cause) {
    throw new EmoFeedbackError(
      'CHECKPOINT',
      `Cannot load the ${name} backbone from nsfwjs: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const handler: tf.io.IOHandler = { load: async () => artifacts };
  const size = spec.inputSize;
  const prep = (x: tf.Tensor4D) =>
    x.shape[1] === size && x.shape[2] === size ? x : tf.image.resizeBilinear(x, [size, size], false, true);

  /** Runs the model to the given layer or node names. */
  let run: (x: tf.Tensor4D, names: readonly string[]) => tf.Tensor[];
  let dispose: () => void;
  if (spec.format === 'layers') {
    const model = await tf.loadLayersModel(handler);
    const sub = new Map<string, tf.LayersModel>();
    const modelFor = (names: readonly string[]) => {
      const key = names.join('|');
      let m = sub.get(key);
      if (!m) {
        const outputs = names.map((n) => model.getLayer(n).output as tf.SymbolicTensor);
        m = tf.model({ inputs: model.inputs, outputs });
        sub.set(key, m);
      }
      return m;
    };
    run = (x, names) => {
      const out = modelFor(names).predict(x);
      return Array.isArray(out) ? out : [out as tf.Tensor];
    };
    dispose = () => model.dispose();
  } else {
    const model = await tf.loadGraphModel(handler);
    run = (x, names) => {
      const out = model.execute(x, [...names]);
      return Array.isArray(out) ? out : [out];
    };
    dispose = () => model.dispose();
  }

  const outputs = (images: tf.Tensor4D, endpoints: readonly string[], chunk = 16): tf.Tensor2D[] => {
    for (const e of endpoints)
      if (!(e in spec.endpoints))
        throw new InvalidArgumentError(
          'endpoints',
          `unknown endpoint '${e}'; known: ${Object.keys(spec.endpoints).join(', ')}.`,
        );
    const n = images.shape[0];
    const parts: tf.Tensor2D[][] = endpoints.map(() => []);
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      const outs = tf.tidy(() => {
        const x = prep(tf.slice(images, [start, 0, 0, 0], [count, -1, -1, -1]));
        // A node requested twice (mean and std of one map) is computed once.
        const nodes = [...new Set(endpoints.map((e) => spec.endpoints[e] as string))];
        const maps = run(x, nodes);
        return endpoints.map((e) => {
          const o = maps[nodes.indexOf(spec.endpoints[e] as string)] as tf.Tensor;
          const pool = spec.pooled?.[e];
          if (pool === undefined) return tf.reshape(o, [count, -1]) as tf.Tensor2D;
          const { mean, variance } = tf.moments(o, [1, 2]);
          return (pool === 'mean' ? mean : tf.sqrt(tf.relu(variance))) as tf.Tensor2D;
        });
      });
      for (const [i, o] of outs.entries()) parts[i]?.push(o);
    }
    return parts.map((p) => {
      if (p.length === 1) return p[0] as tf.Tensor2D;
      const joined = tf.concat(p, 0);
      tf.dispose(p);
      return joined;
    });
  };

  // Warm up once so that the first real call does not pay for kernel set-up, and measure the size.
  const probe = tf.zeros([1, size, size, 3]) as tf.Tensor4D;
  const first = outputs(probe, spec.featureEndpoints);
  const featureSize = first.reduce((s, t) => s + (t.shape[1] as number), 0);
  tf.dispose([probe, ...first]);

  return {
    name,
    inputSize: size,
    featureSize,
    endpoints: Object.keys(spec.endpoints),
    outputs,
    features: (images, chunk) => {
      const outs = outputs(images, spec.featureEndpoints, chunk);
      if (outs.length === 1) return outs[0] as tf.Tensor2D;
      const joined = tf.concat(outs, 1);
      tf.dispose(outs);
      return joined;
    },
    dispose,
  };
}
