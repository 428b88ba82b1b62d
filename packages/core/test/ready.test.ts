import { afterAll, describe, expect, it } from 'vitest';
import { availableDevices, DeviceUnavailableError, ready, tf, UnknownDeviceError } from '../src/index.js';

describe('ready()', () => {
  afterAll(async () => {
    await ready({ device: 'cpu' });
  });

  it('starts cpu on request and says why', async () => {
    const r = await ready({ device: 'cpu' });
    expect(r.device).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(r.reason).toMatch(/cpu as requested/);
    expect(r.attempts).toEqual([{ device: 'cpu', ok: true, reason: expect.any(String) }]);
  });

  it('starts wasm on request and computes on it', async () => {
    const r = await ready({ device: 'wasm' });
    expect(r.backend).toBe('wasm');
    const s = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]);
    expect(s).toBe(6);
  });

  it("'auto' skips what is missing and records why", async () => {
    const r = await ready({ device: 'auto' });
    expect(['tensorflow', 'webgpu', 'wasm', 'cpu']).toContain(r.device);
    expect(r.reason).toMatch(/^auto chose/);
    const tried = r.attempts.map((a) => a.device);
    expect(tried[tried.length - 1]).toBe(r.device);
    for (const failed of r.attempts.filter((a) => !a.ok)) expect(failed.reason.length).toBeGreaterThan(5);
    if (!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
      expect(r.attempts.find((a) => a.device === 'webgpu')?.ok).toBe(false);
    }
  });

  it('rejects unknown devices with the list of known ones', async () => {
    await expect(ready({ device: 'tpu' as never })).rejects.toThrow(UnknownDeviceError);
    await expect(ready({ device: 'tpu' as never })).rejects.toThrow(
      /known devices: auto, tensorflow, webgpu/,
    );
  });

  it('throws DeviceUnavailableError for a named device that cannot start, listing those that can', async () => {
    const hasTfNode = await import(/* @vite-ignore */ ['@tensorflow', 'tfjs-node'].join('/')).then(
      () => true,
      () => false,
    );
    if (hasTfNode) return expect(hasTfNode).toBe(true); // the optional peer is installed here
    const error = await ready({ device: 'tensorflow' }).catch((e) => e);
    expect(error).toBeInstanceOf(DeviceUnavailableError);
    expect(error.code).toBe('DEVICE_UNAVAILABLE');
    expect(error.available).toContain('wasm');
    expect(error.available).toContain('cpu');
    expect(error.message).toMatch(/Devices available here: .*wasm.*cpu/);
  });

  it('lists the devices available here', async () => {
    const devices = await availableDevices();
    expect(devices).toContain('cpu');
    expect(devices).toContain('wasm');
  });
});
