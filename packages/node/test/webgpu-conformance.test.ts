import { CONFORMANCE_CASES, ready, runConformanceCase } from '@emofeedback/core';
import { afterAll, describe, expect, it } from 'vitest';
import { findSwiftShaderIcd, installNodeWebGPU, readyNode } from '../src/index.js';

// The WebGPU code path, on SwiftShader's Vulkan driver where no GPU exists: CI installs Debian's
// chromium (which ships the driver) and libvulkan1, so the full suite always runs there. On a
// machine without any Vulkan driver, the error path is what gets tested.
const icd = findSwiftShaderIcd();
const probe = await installNodeWebGPU({ vulkanIcd: icd ?? 'swiftshader' });
const adapter = probe.installed
  ? await (
      globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<unknown> } } }
    ).navigator.gpu.requestAdapter()
  : null;

if (!adapter) {
  describe('WebGPU in Node without a Vulkan driver', () => {
    it('is required in CI', () => {
      expect(process.env.CI, 'CI installs chromium and libvulkan1 so the WebGPU suite runs').not.toBe('true');
    });

    it('a request for webgpu fails with the devices available here', async () => {
      const error = await readyNode({ device: 'webgpu' }).catch((e) => e);
      expect(error.code).toBe('DEVICE_UNAVAILABLE');
      expect(error.available).toContain('wasm');
    });
  });
} else {
  describe('WebGPU backend in Node (Dawn)', () => {
    afterAll(async () => {
      await ready({ device: 'cpu' });
    });

    it('finds the SwiftShader driver', () => {
      expect(icd).toMatch(/vk_swiftshader_icd\.json$/);
    });

    it("'auto' does not pick a software adapter", async () => {
      const r = await readyNode({ device: 'auto' });
      expect(r.device).not.toBe('webgpu');
      expect(r.attempts.find((a) => a.device === 'webgpu')?.reason).toMatch(/software/);
    }, 60_000);

    it('starts on request and names the adapter', async () => {
      const r = await readyNode({ device: 'webgpu' });
      expect(r.backend).toBe('webgpu');
      expect(r.reason).toMatch(/SwiftShader/i);
    }, 120_000);

    for (const [i, c] of CONFORMANCE_CASES.entries()) {
      it(`${c.name} matches cpu to 1e-3`, async () => {
        await readyNode({ device: 'webgpu' });
        const result = await runConformanceCase(c, 'webgpu', 1e-3, i);
        expect(result.maxError).toBeLessThanOrEqual(1e-3);
      }, 120_000);
    }
  });
}
