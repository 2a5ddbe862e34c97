import { defineConfig } from "vitest/config"
import { unitProject } from "./vitest.config.js"

/**
 * What `npm run test:mutation` runs against each mutant of src/domain: the unit tests only (the
 * integration tests run the built CLI, which a mutant of the sources never reaches), sharing one
 * module cache as `npm test` does, so a mutant costs its covering tests, not re-importing Effect.
 * Mutants in module-level code (schemas, constants) would need a fresh import each: stryker.config.mjs
 * sets `ignoreStatic` and the README reports them apart.
 */
export default defineConfig({
  test: { ...unitProject.test, testTimeout: 60_000, poolOptions: { threads: { isolate: false } } }
})
