import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // JSON results feed scripts/test-summary.mjs (the closing "N passed, N failed" line).
    reporters: ["default", ["json", { outputFile: ".test-results/vitest.json" }]],
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
