import { existsSync } from 'node:fs';

/**
 * WebGPU in Node through the `webgpu` package (Google's Dawn), an optional peer.
 *
 * Dawn drives the GPU through Vulkan: on Linux it needs the Vulkan loader (`libvulkan1`) and a
 * Vulkan driver (NVIDIA's proprietary driver ships one). Without a GPU, the SwiftShader Vulkan
 * driver that Debian's `chromium` package ships works too: correct, on the CPU, about 50× slower
 * than wasm, which makes it the way to test the WebGPU code path on machines without a GPU.
 */

/** Where Debian's and Ubuntu's chromium packages put SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD_CANDIDATES: readonly string[] = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

/** The first SwiftShader Vulkan driver manifest found on this machine, if any. */
export function findSwiftShaderIcd(): string | undefined {
  return SWIFTSHADER_ICD_CANDIDATES.find((p) => existsSync(p));
}

export interface InstallWebGPUOptions {
  /**
   * A Vulkan driver manifest (ICD JSON) to use instead of the system's drivers, or
   * `'swiftshader'` to use chromium's software driver. Sets `VK_ICD_FILENAMES` for this process.
   */
  readonly vulkanIcd?: string | 'swiftshader';
  /** Dawn toggles / options passed to `webgpu.create()`. */
  readonly dawnOptions?: readonly string[];
}

export interface InstallWebGPUResult {
  readonly installed: boolean;
  readonly reason: string;
}

let installed = false;

/**
 * Makes `navigator.gpu` and the WebGPU globals available in Node from the `webgpu` package,
 * so that `ready({ device: 'webgpu' })` can start tfjs's WebGPU backend. Safe to call twice.
 * Resolves with `installed: false` and the reason when the package is not installed.
 */
export async function installNodeWebGPU(options: InstallWebGPUOptions = {}): Promise<InstallWebGPUResult> {
  if (installed) return { installed: true, reason: 'already installed' };
  if (options.vulkanIcd) {
    const icd = options.vulkanIcd === 'swiftshader' ? findSwiftShaderIcd() : options.vulkanIcd;
    if (!icd)
      return { installed: false, reason: 'no SwiftShader Vulkan driver found (install Debian chromium)' };
    if (!existsSync(icd))
      return { installed: false, reason: `the Vulkan driver manifest ${icd} does not exist` };
    // The Vulkan loader reads this when Dawn creates its instance, after this assignment.
    process.env.VK_ICD_FILENAMES = icd;
  }
  let webgpu: { create(options: string[]): unknown; globals: Record<string, unknown> };
  try {
    const name = 'webgpu';
    webgpu = (await import(/* @vite-ignore */ name)) as typeof webgpu;
  } catch {
    return { installed: false, reason: "the optional 'webgpu' package is not installed" };
  }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([...(options.dawnOptions ?? [])]);
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  installed = true;
  return { installed: true, reason: 'Dawn (webgpu package) installed as navigator.gpu' };
}
