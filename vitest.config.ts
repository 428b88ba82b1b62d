import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

// Tests run against the TypeScript sources; `pnpm build` checks the published bundles.
export default defineConfig({
  resolve: {
    alias: {
      '@emofeedback/core': pkg('core'),
      '@emofeedback/reward/testing': fileURLToPath(
        new URL('./packages/reward/src/testing/index.ts', import.meta.url),
      ),
      '@emofeedback/reward': pkg('reward'),
      '@emofeedback/feedback': pkg('feedback'),
      '@emofeedback/rl': pkg('rl'),
      '@emofeedback/node': pkg('node'),
      '@emofeedback/web': pkg('web'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
