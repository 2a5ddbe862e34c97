// @ts-check
/**
 * Mutation testing of the pure domain (`npm run test:mutation`). Not part of .ci/run: on 2 cores it
 * takes a long while; the score it last reached is in the README's testing section.
 * @type {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
const config = {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts" },
  mutate: ["src/domain/**/*.ts"],
  coverageAnalysis: "perTest",
  // Module-level mutants (schema definitions, constants) take effect only on a fresh import, which
  // the shared module cache of vitest.mutation.config.ts does not do: they are reported as ignored.
  ignoreStatic: true,
  concurrency: 2,
  // Added to 1.5 x the covering tests' own time: a mutant that loops (a `while` whose guard is mutated) costs
  // this plus a restarted worker, so it is kept short; a slow machine is already in the measured time.
  timeoutMS: 10_000,
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always"
}
export default config
