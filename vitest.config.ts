import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `import … from 'rescoin'` in tests means the sources, never a possibly stale dist/ (tsconfig's paths say the same to tsc).
  resolve: { alias: { rescoin: fileURLToPath(new URL('./index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
