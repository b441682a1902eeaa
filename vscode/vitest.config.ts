import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      // The real `vscode` module only exists inside the extension host: unit tests use a small mock.
      vscode: fileURLToPath(new URL('./test/unit/vscode-mock.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 10000,
  },
});
