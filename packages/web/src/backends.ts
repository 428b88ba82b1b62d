import {
  availableDevices,
  type ConcreteDevice,
  type DeviceAttempt,
  type ReadyOptions,
  type ReadyResult,
  ready,
} from '@emofeedback/core';

/**
 * The `.wasm` binaries of `@tensorflow/tfjs-backend-wasm`. A bundler does not serve them on its
 * own: copy these files from `node_modules/@tensorflow/tfjs-backend-wasm/dist/` next to the app
 * and pass their URL prefix as `wasmPaths`.
 */
export const TFJS_WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
] as const;

/**
 * `ready()` for browsers. `'auto'` tries WebGPU on a hardware adapter, then WebGL on a hardware
 * renderer, then wasm, then cpu: software WebGPU adapters and software WebGL renderers
 * (SwiftShader, llvmpipe) are skipped for `'auto'`, as wasm is faster than both. A named device
 * starts or throws `DeviceUnavailableError`. Bundlers do not serve the wasm binaries on their own:
 * pass `wasmPaths` (a URL prefix ending in `/` where the {@link TFJS_WASM_FILES} are served) when
 * wasm may be used.
 *
 * @example
 * ```ts
 * const { device, reason } = await readyBrowser({ device: 'auto', wasmPaths: '/tfjs-wasm/' });
 * ```
 */
export async function readyBrowser(options: ReadyOptions = {}): Promise<ReadyResult> {
  if ((options.device ?? 'auto') !== 'auto') return ready(options);
  const gpu = await probeWebGPU();
  if (gpu.adapter && !gpu.software) return ready(options);
  const gl = probeWebGL();
  if (!gl.software) return ready(options);
  // Both GPU paths are emulated on the CPU: start wasm directly, and say why.
  const skipped: DeviceAttempt[] = [
    { device: 'webgpu', ok: false, reason: gpu.summary },
    { device: 'webgl', ok: false, reason: gl.summary },
  ];
  try {
    const wasm = await ready({ ...options, device: 'wasm' });
    const why = wasm.attempts.at(-1)?.reason ?? wasm.reason;
    return {
      ...wasm,
      reason: `auto chose wasm: ${why}; skipped ${skipped.map((a) => `${a.device}: ${a.reason}`).join('; ')}`,
      attempts: [...skipped, ...wasm.attempts],
    };
  } catch {
    return ready(options);
  }
}

/** What {@link probeWebGL} found. */
export interface WebGLProbe {
  /** A WebGL 2 (or 1) context could be created. */
  readonly available: boolean;
  /** The unmasked renderer string where the browser exposes it, else the masked one, or `''`. */
  readonly renderer: string;
  /** The renderer emulates a GPU on the CPU (SwiftShader, llvmpipe). */
  readonly software: boolean;
  /** One sentence for people. */
  readonly summary: string;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software/i;

/** Checks WebGL without starting a tfjs backend: whether a context exists and who renders it. Never throws. */
export function probeWebGL(): WebGLProbe {
  const none = (summary: string): WebGLProbe => ({
    available: false,
    renderer: '',
    software: false,
    summary,
  });
  const g = globalThis as { document?: Document; OffscreenCanvas?: typeof OffscreenCanvas };
  let gl: WebGLRenderingContext | WebGL2RenderingContext | null = null;
  try {
    const canvas = g.OffscreenCanvas
      ? new g.OffscreenCanvas(1, 1)
      : (g.document?.createElement('canvas') as HTMLCanvasElement | undefined);
    if (!canvas) return none('no canvas in this runtime');
    gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as
      | WebGLRenderingContext
      | WebGL2RenderingContext
      | null;
  } catch (error) {
    return none(`WebGL failed: ${(error as Error).message}`);
  }
  if (!gl) return none('this browser has no WebGL');
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  const software = SOFTWARE.test(renderer);
  return {
    available: true,
    renderer,
    software,
    summary: software
      ? `the WebGL renderer is a software one (${renderer}), slower than wasm`
      : `WebGL renderer: ${renderer || 'unnamed'}`,
  };
}

/** The devices that can start in this page, in `'auto'` order (see {@link readyBrowser}). */
export function browserDevices(options: ReadyOptions = {}): Promise<ConcreteDevice[]> {
  return availableDevices(options);
}

/** What {@link probeWebGPU} found. */
export interface WebGPUProbe {
  /** `navigator.gpu` exists (WebGPU needs a secure context: https or localhost). */
  readonly api: boolean;
  /** An adapter was granted. */
  readonly adapter: boolean;
  /** The adapter emulates a GPU on the CPU (SwiftShader, lavapipe): correct, but slow. */
  readonly software: boolean;
  /** Vendor, architecture and description of the adapter, or `''`. */
  readonly description: string;
  /** One sentence for people: what was found, or why WebGPU is not usable. */
  readonly summary: string;
}

interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
}

interface AdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: AdapterInfoLike;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

/**
 * Checks WebGPU without starting a tfjs backend: whether the API exists, whether an adapter is
 * granted, and whether that adapter is a software one. Never throws.
 */
export async function probeWebGPU(): Promise<WebGPUProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu) {
    const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext !== false;
    return {
      api: false,
      adapter: false,
      software: false,
      description: '',
      summary: secure
        ? 'This browser has no WebGPU (navigator.gpu is undefined).'
        : 'WebGPU needs a secure context: open the page over https or from localhost.',
    };
  }
  let adapter: AdapterLike | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return {
      api: true,
      adapter: false,
      software: false,
      description: '',
      summary: `requestAdapter() failed: ${(error as Error).message}`,
    };
  }
  if (!adapter) {
    return {
      api: true,
      adapter: false,
      software: false,
      description: '',
      summary: 'WebGPU exists but no adapter was granted (blocklisted GPU or disabled flag).',
    };
  }
  const info = adapter.info;
  const description = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ').trim();
  const software = adapter.isFallbackAdapter === true || SOFTWARE.test(description);
  return {
    api: true,
    adapter: true,
    software,
    description,
    summary: software
      ? `WebGPU runs on a software adapter (${description || 'unnamed'}): correct but slower than wasm.`
      : `WebGPU adapter: ${description || 'unnamed adapter'}.`,
  };
}
