import { match } from 'ts-pattern';
import { DeviceUnavailableError, UnknownDeviceError } from '../errors.js';
import { tf } from '../tf.js';
import { registerWasmKernels } from './wasm-kernels.js';

/** Where tensors run. `'tensorflow'` is `@tensorflow/tfjs-node(-gpu)`, an optional peer. */
export type Device = 'auto' | 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';
/** A concrete device, as chosen by {@link ready}. */
export type ConcreteDevice = Exclude<Device, 'auto'>;

/** Every device name {@link ready} accepts. */
export const DEVICES: readonly Device[] = ['auto', 'tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];
/** The order `'auto'` tries devices in. */
export const AUTO_ORDER: readonly ConcreteDevice[] = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];

export interface ReadyOptions {
  /** Which device to start; default `'auto'`. */
  device?: Device;
  /**
   * Where the wasm backend finds its `.wasm` files (a URL prefix or a map of file names to
   * URLs). Node finds them on its own; browsers served by a bundler usually need this.
   */
  wasmPaths?: string | Record<string, string>;
  /** Threads for the wasm backend where the platform allows them (browsers with cross-origin isolation). */
  wasmThreads?: number;
}

/** One device that {@link ready} tried. */
export interface DeviceAttempt {
  device: ConcreteDevice;
  ok: boolean;
  reason: string;
}

/** What {@link ready} started, and why. */
export interface ReadyResult {
  /** The device now running tensors. */
  device: ConcreteDevice;
  /** The tfjs backend name (`'tensorflow'`, `'webgpu'`, `'webgl'`, `'wasm'` or `'cpu'`). */
  backend: string;
  /** One sentence on why this device was chosen. */
  reason: string;
  /** Every device tried, in order, with the reason it started or did not. */
  attempts: DeviceAttempt[];
}

// A variable specifier keeps bundlers from trying to resolve optional peers at build time.
async function importOptional(name: string): Promise<unknown> {
  return import(/* @vite-ignore */ name);
}

interface AdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly description?: string };
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

/** A CPU-emulated adapter (SwiftShader, lavapipe): correct, but far slower than wasm. */
function isSoftwareAdapter(adapter: AdapterLike): boolean {
  if (adapter.isFallbackAdapter) return true;
  const text = `${adapter.info?.vendor ?? ''} ${adapter.info?.architecture ?? ''} ${adapter.info?.description ?? ''}`;
  return /swiftshader|llvmpipe|lavapipe|software/i.test(text);
}

function describeAdapter(adapter: AdapterLike): string {
  const info = adapter.info;
  const text = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ').trim();
  return text || 'unnamed adapter';
}

function webgpuApi(): GpuLike | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu;
}

function hasCanvas(): boolean {
  const g = globalThis as { document?: unknown; OffscreenCanvas?: unknown };
  return g.document !== undefined || g.OffscreenCanvas !== undefined;
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs could not initialise its '${name}' backend`);
  await tf.ready();
}

/** Tries to start one device; resolves with the reason, rejects with why it cannot start. */
async function start(device: ConcreteDevice, options: ReadyOptions, auto = false): Promise<string> {
  return match(device)
    .with('tensorflow', async () => {
      let loaded = '';
      for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
        try {
          await importOptional(pkg);
          loaded = pkg;
          break;
        } catch {
          // not installed; try the next one
        }
      }
      if (!loaded)
        throw new Error('neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed');
      await activate('tensorflow');
      return `${loaded} is installed (native TensorFlow)`;
    })
    .with('webgpu', async () => {
      const gpu = webgpuApi();
      if (!gpu) throw new Error('navigator.gpu is not defined (no WebGPU in this runtime)');
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned no adapter');
      if (auto && isSoftwareAdapter(adapter)) {
        throw new Error(
          `the only WebGPU adapter is a software one (${describeAdapter(adapter)}), slower than wasm`,
        );
      }
      await import('@tensorflow/tfjs-backend-webgpu');
      await activate('webgpu');
      return `WebGPU adapter: ${describeAdapter(adapter)}`;
    })
    .with('webgl', async () => {
      if (!hasCanvas()) throw new Error('no canvas in this runtime (WebGL needs a browser)');
      await activate('webgl');
      return 'WebGL is available';
    })
    .with('wasm', async () => {
      if (typeof WebAssembly !== 'object') throw new Error('WebAssembly is not supported here');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (options.wasmPaths) wasm.setWasmPaths(options.wasmPaths as string);
      if (options.wasmThreads) wasm.setThreadsCount(options.wasmThreads);
      registerWasmKernels();
      await activate('wasm');
      return 'WebAssembly with SIMD kernels (XNNPACK) plus the SDK replacement kernels for training';
    })
    .with('cpu', async () => {
      await activate('cpu');
      return 'the plain JavaScript backend, always available';
    })
    .exhaustive();
}

/**
 * Initialises a TensorFlow.js backend and reports what it chose and why.
 *
 * `'auto'` prefers `@tensorflow/tfjs-node(-gpu)` when importable, then WebGPU when a hardware adapter
 * exists, then WebGL in a browser, then wasm, then cpu. A named device that cannot start throws.
 *
 * @throws UnknownDeviceError for a device name outside {@link DEVICES}.
 * @throws DeviceUnavailableError for a named device that cannot start, listing those that can.
 */
export async function ready(options: ReadyOptions = {}): Promise<ReadyResult> {
  const device = options.device ?? 'auto';
  if (!DEVICES.includes(device)) throw new UnknownDeviceError(String(device), DEVICES);
  const attempts: DeviceAttempt[] = [];
  const order = device === 'auto' ? AUTO_ORDER : [device];
  for (const candidate of order) {
    try {
      const why = await start(candidate, options, device === 'auto');
      attempts.push({ device: candidate, ok: true, reason: why });
      const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.device}: ${a.reason}`);
      const reason =
        device === 'auto'
          ? `auto chose ${candidate}: ${why}${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`
          : `${candidate} as requested: ${why}`;
      return { device: candidate, backend: tf.getBackend(), reason, attempts };
    } catch (error) {
      attempts.push({ device: candidate, ok: false, reason: (error as Error).message });
      if (device !== 'auto') {
        throw new DeviceUnavailableError(
          candidate,
          (error as Error).message,
          await availableDevices(options),
          {
            cause: error,
          },
        );
      }
    }
  }
  // cpu always starts, so this is unreachable unless tfjs itself is broken.
  throw new DeviceUnavailableError('auto', attempts.map((a) => `${a.device}: ${a.reason}`).join('; '), []);
}

/**
 * The devices that can start in this runtime, in `'auto'` order. Leaves the current backend
 * selected when it returns.
 */
export async function availableDevices(options: ReadyOptions = {}): Promise<ConcreteDevice[]> {
  const previous = tf.getBackend();
  const found: ConcreteDevice[] = [];
  for (const candidate of AUTO_ORDER) {
    try {
      await start(candidate, options);
      found.push(candidate);
    } catch {
      // not available here
    }
  }
  if (previous) await tf.setBackend(previous);
  return found;
}
