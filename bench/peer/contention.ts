/**
 * How many cores this process really gets now: the same integer loop on one thread, then on
 * `n` worker threads at once. On an idle machine with n cores the second takes as long as the
 * first (n cores available); on a shared one, longer. Printed with the results so that a
 * loaded machine shows in the figures.
 */
import { Worker } from 'node:worker_threads';

const LOOP =
  'let x = 0; const t = performance.now(); for (let i = 0; i < 2e8; i++) x = (x + i) % 1000003; return performance.now() - t;';

export async function availableCores(n: number): Promise<number> {
  const single = new Function(LOOP) as () => number;
  single();
  const one = single();
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(
            `const { parentPort } = require('node:worker_threads'); parentPort.postMessage((() => { ${LOOP} })());`,
            { eval: true },
          );
          w.once('message', () => {
            void w.terminate();
            resolve();
          });
          w.once('error', reject);
        }),
    ),
  );
  const parallel = performance.now() - t0;
  return Math.min(n, (n * one) / parallel);
}
