import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/grpo-run.ts', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function start(runDir: string, iterations: number, out: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, runDir, String(iterations), out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, done, output: () => stdout };
}

describe('GRPO killed with SIGKILL and resumed', () => {
  it('ends with the same weights as an uninterrupted run with the same seed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'emofeedback-resume-'));
    dirs.push(root);
    const total = 6;

    const straight = start(join(root, 'straight'), total, join(root, 'straight.json'));
    expect(await straight.done).toBe(0);

    // Kill the second run hard after it has finished (and checkpointed) at least 3 iterations.
    const killed = start(join(root, 'killed'), total, join(root, 'never.json'));
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if ((killed.output().match(/iteration \d+/g) ?? []).length >= 3) {
          clearInterval(timer);
          killed.child.kill('SIGKILL');
          resolve();
        }
      }, 20);
    });
    await killed.done;
    const checkpoints = (await readdir(join(root, 'killed'))).filter((n) => n.startsWith('iter-'));
    expect(checkpoints.length).toBeGreaterThan(0);

    const resumed = start(join(root, 'killed'), total, join(root, 'resumed.json'));
    expect(await resumed.done).toBe(0);
    const resumedFrom = Number(/resume (\d+)/.exec(resumed.output())?.[1]);
    // three iterations were reported, so at least the second one is checkpointed
    expect(resumedFrom).toBeGreaterThanOrEqual(2);
    expect(resumedFrom).toBeLessThan(total);

    const a = JSON.parse(await readFile(join(root, 'straight.json'), 'utf8'));
    const b = JSON.parse(await readFile(join(root, 'resumed.json'), 'utf8'));
    expect(b).toEqual(a);
  }, 180_000);
});
