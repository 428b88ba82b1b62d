import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  availableDevices,
  CONFORMANCE_CASES,
  type ConformanceCase,
  ready,
  runConformanceCase,
  tf,
} from '../src/index.js';

// Every backend that can start here (wasm on a plain machine; WebGPU where an adapter exists),
// held to the same forward and gradient checks against the cpu backend.
const devices = await availableDevices();
const backends = devices.filter((d) => d !== 'cpu' && d !== 'tensorflow');

describe.each(backends)('backend conformance on %s', (device) => {
  beforeAll(async () => {
    await ready({ device });
  });
  afterAll(async () => {
    await ready({ device: 'cpu' });
  });

  const tolerance = device === 'wasm' ? 1e-4 : 1e-3;
  for (const [i, c] of CONFORMANCE_CASES.entries()) {
    it(`${c.name} matches cpu to ${tolerance}`, async () => {
      const result = await runConformanceCase(c, device, tolerance, i);
      expect(result.maxError).toBeLessThanOrEqual(tolerance);
      expect(result.passed).toBe(true);
    });
  }
});

describe('conformance harness', () => {
  it('runs on wasm here', () => {
    expect(backends).toContain('wasm');
  });

  it('is exact for cpu against itself and catches a backend that is off by 1e-3', async () => {
    const self = await runConformanceCase(CONFORMANCE_CASES[0]!, 'cpu', 0);
    expect(self.maxError).toBe(0);
    const drifting: ConformanceCase = {
      name: 'drifts off cpu',
      run: () => [tf.add(tf.ones([4]), tf.getBackend() === 'cpu' ? 0 : 2e-3)],
    };
    await ready({ device: 'wasm' });
    const result = await runConformanceCase(drifting, 'wasm', 1e-4);
    expect(result.passed).toBe(false);
    expect(result.maxError).toBeCloseTo(1e-3, 6);
    await ready({ device: 'cpu' });
  });
});
