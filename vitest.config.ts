import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

/**
 * Tests on real processes: the built CLI (dist/, so `npm test` builds first) and the README's
 * embedding example on the real layers.
 */
const integrationFiles = ["test/integration/**/*.test.ts", "test/readme.*.test.ts"]

/**
 * Unit tests run on the in-memory layers with TestClock. Importing Effect and the app graph is most
 * of their cost, so they share one module cache (`isolate: false`): no unit test may leave global
 * state behind (environment variables, module mocks), which none does.
 */
export const unitProject: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: "unit",
    include: ["test/**/*.test.ts"],
    // test/consumer/ is an app of its own, run on the packed package by test/integration/consumer.test.ts.
    exclude: [...integrationFiles, "test/consumer/**"],
    pool: "threads",
    // Option and Either compared by case and contents (chai alone took none() for some(x)). Unit
    // tests only: the integration files compare JSON, and this would load Effect in each of their workers.
    setupFiles: ["test/support/effectEquality.ts"]
  }
}

/**
 * The integration files that take longest, longest first (wall time of one run of the project,
 * 2026-12-06). Without vitest's results cache (a clean clone, CI) files start largest first, and the
 * README commands test, a small file that runs for ~40 s, started among the last: one worker ran it
 * alone while the other idled.
 */
const slowestIntegrationFiles = [
  "test/integration/recovery.test.ts",
  "test/integration/readmeCommands.test.ts",
  "test/integration/clusterRecovery.test.ts",
  "test/integration/learning.test.ts",
  "test/integration/start.test.ts",
  "test/integration/consumer.test.ts",
  "test/integration/notify.test.ts",
  "test/integration/designToolkit.test.ts",
  "test/integration/gatePipelines.test.ts"
]

/** vitest's order (failed first, then longest or largest first), with the slowest files above moved to the front. */
class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const rank = (file: TestSpecification) => {
      const index = slowestIntegrationFiles.findIndex((slow) => file.moduleId.endsWith(slow))
      return index === -1 ? slowestIntegrationFiles.length : index
    }
    // Array.prototype.sort is stable: the other files keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b))
  }
}

export default defineConfig({
  test: {
    // Integration tests run the built CLI on real processes; unit tests use TestClock and are instant.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    sequence: { sequencer: SlowestFirstSequencer },
    // Read from the root config only (vitest 3.2 sizes and isolates each pool once): the unit
    // project runs on threads, the integration project on forks, so this is per project.
    // Integration tests mostly wait (on child processes, heartbeats, grace periods): two at a time.
    // Each integration file gets a fresh worker (`isolate: true`): sharing the module cache saved
    // ~0.3 s of CPU a file, but with three workers one of them grew past 2.5 GiB and never finished
    // (the files that import the sources in process ran after other files in it); not worth the risk.
    poolOptions: { threads: { isolate: false }, forks: { isolate: true, maxForks: 2 } },
    projects: [
      unitProject,
      {
        extends: true,
        // A test that starts the CLI a dozen times needs more than a minute when the machine is loaded.
        test: { name: "integration", include: integrationFiles, pool: "forks", testTimeout: 180_000 }
      }
    ]
  }
})
