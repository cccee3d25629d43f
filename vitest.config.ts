import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { wgtorch: fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    // Lavapipe and SwiftShader compile pipelines on the CPU: generous limits, no timed assertions.
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});
