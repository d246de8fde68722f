import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // JSON results feed scripts/test-summary.mjs (the closing "N passed, N failed" line).
    reporters: ["default", ["json", { outputFile: ".test-results/vitest.json" }]],
    include: ["src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
