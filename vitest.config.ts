import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests run the built CLI on real processes; unit tests use TestClock and are instant.
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
