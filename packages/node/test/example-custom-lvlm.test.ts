// The custom-LVLM example (examples/custom-lvlm), run as a newcomer runs it: its command line in a
// child process, pointed at an OpenAI-compatible server through LVLM_BASE_URL / LVLM_MODEL. The
// server is the loopback one from @emofeedback/reward/testing, over real sockets; the example uses
// the built packages, as `pnpm test` builds them first.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toCanonical } from '@emofeedback/core';
import { expectedLoopbackScore, type LoopbackServer } from '@emofeedback/reward/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK_MODEL, startLoopback } from '../../../examples/custom-lvlm/src/loopback.js';
import type { CustomLvlmSummary } from '../../../examples/custom-lvlm/src/run.js';
import { decodeImage } from '../src/index.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/custom-lvlm/', import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');

function runExample(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, 'src/main.ts', ...args], {
      cwd: EXAMPLE,
      env: { ...process.env, EMOFEEDBACK_DEVICE: 'wasm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples/custom-lvlm against an OpenAI-compatible server', () => {
  let server: LoopbackServer;
  let out: string;
  beforeAll(async () => {
    server = await startLoopback();
    out = await mkdtemp(join(tmpdir(), 'emofeedback-custom-lvlm-'));
  });
  afterAll(async () => {
    await server?.close();
    await rm(out, { recursive: true, force: true });
  });

  it('generates, scores every image with the LVLM and keeps the best over the rounds', async () => {
    const target = { valence: 2, arousal: -1.5 };
    const { code, stdout, stderr } = await runExample(
      [
        '--prompt',
        'a boat on the calm sea',
        '--valence',
        String(target.valence),
        '--arousal',
        String(target.arousal),
        '--rounds',
        '2',
        '--images',
        '4',
        '--critic',
        'lvlm',
        '--json',
        '--out',
        out,
      ],
      { LVLM_BASE_URL: server.baseURL, LVLM_MODEL: LOOPBACK_MODEL },
    );
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as CustomLvlmSummary;

    // Every image went to the server as a chat-completions request and came back scored.
    const chat = server.requests.filter((r) => r.path === '/v1/chat/completions');
    const schema = (r: (typeof chat)[number]) =>
      (r.body as { response_format?: { json_schema?: { name?: string } } }).response_format?.json_schema
        ?.name;
    const ratings = chat.filter((r) => schema(r) === 'emotion_rating');
    const critiques = chat.filter((r) => schema(r) === 'prompt_critique');
    expect(ratings).toHaveLength(8);
    expect(critiques).toHaveLength(1);
    expect(chat.every((r) => r.status === 200)).toBe(true);
    expect(summary.evaluatorMetrics).toMatchObject({ calls: 8, successes: 8, failed: 0 });
    expect(summary.evaluator).toContain(LOOPBACK_MODEL);
    expect(summary.critic).toContain(LOOPBACK_MODEL);

    // The LVLM critic's rewrite became round 1's prompt.
    expect(summary.rounds.map((r) => r.prompt)).toEqual([
      'a boat on the calm sea',
      'a boat on the calm sea, in bright daylight, warm colours',
    ]);
    expect(summary.rounds.map((r) => r.scored)).toEqual([4, 4]);

    // The best image is the closest reading over both rounds, and its reading is what the server
    // says about the PNG the example wrote (the server's 1-9 answer on the canonical scale).
    const best = summary.best!;
    const distances = summary.rounds.map((r) => r.best!.distance);
    expect(best.distance).toBeCloseTo(Math.min(...distances), 12);
    expect(best.distance).toBeCloseTo(
      Math.hypot(best.valence - target.valence, best.arousal - target.arousal),
      9,
    );
    const image = decodeImage(await readFile(join(out, 'best.png')));
    const expected = toCanonical(expectedLoopbackScore(image), 'sam9');
    expect(best.valence).toBeCloseTo(expected.valence, 3);
    expect(best.arousal).toBeCloseTo(expected.arousal, 3);
    expect(JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'))).toEqual(summary);
  });

  it('explains a missing endpoint with exit code 2', async () => {
    const { code, stderr } = await runExample(['--out', out], { LVLM_BASE_URL: '', LVLM_MODEL: '' });
    expect(code).toBe(2);
    expect(stderr).toContain('LVLM_BASE_URL');
  });
});
