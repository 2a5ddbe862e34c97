/**
 * Learning's records in enforce mode (D-13: enforce redacts everything a run writes). Found by a
 * fault hunt on the built CLI: with CODEX_PRIVACY_GUARD_MODE=enforce the manifest and stage log were
 * redacted, but `learning/scenario.json` held the secret of the replayed command and
 * `learning/scenario-validation.log` the secret its replay printed. The snapshot itself (tarball and
 * diff) stays byte for byte, as the README says; shadow mode changes nothing.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { makeRunLayout } from "../src/domain/RunLayout.js"
import type { PrivacyMode } from "../src/domain/Privacy.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { LearningMemory } from "../src/layers/Learning.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessRunnerMemory } from "../src/layers/ProcessRunner.js"
import { Learning } from "../src/services/Learning.js"
import { OrchestratorConfig } from "../src/services/OrchestratorConfig.js"
import { commandEntry, finishedManifest, snapshotGitScripts } from "./support/learning.js"

/** The last successful command holds one secret and prints another. */
const command = "curl -H 'Authorization: Bearer eyJcommandSecret1' https://api.test"
const scripts = {
  ...snapshotGitScripts,
  [command]: { output: [{ stream: "stdout" as const, data: "ok api_key=printedSec" }, { stream: "stdout" as const, data: "ret42\n" }] }
}

const app = (privacyMode: PrivacyMode) =>
  LearningMemory({ privacyMode }).pipe(
    Layer.provideMerge(Layer.mergeAll(FilesMemory, ProcessRunnerMemory(scripts), OrchestratorConfigTest("/repo"))),
    Layer.provideMerge(Path.layer)
  )

/** Captures a run whose one stage ran `command`; answers every file written with its text. */
const captured = Effect.gen(function*() {
  const path = yield* Path.Path
  const { roots } = yield* OrchestratorConfig
  const layout = makeRunLayout(path, roots, "task", "run-1")
  const section = yield* (yield* Learning).capture({ manifest: finishedManifest(layout, [commandEntry(1, command)]), layout })
  const files = yield* InMemoryFiles
  const written = yield* Effect.forEach(yield* files.list, (file) => Effect.map(files.read(file), (text) => [file, text ?? ""] as const))
  return { section, written }
})

const holding = (written: ReadonlyArray<readonly [string, string]>, secret: string) =>
  written.filter(([, text]) => text.includes(secret)).map(([file]) => file)

describe("Learning in enforce mode: no record holds a secret (D-13)", () => {
  it.effect("scenario.json and the validation log are redacted; the command replayed is the real one", () =>
    Effect.gen(function*() {
      const { section, written } = yield* captured
      assert.strictEqual(section.validation.status, "validated", JSON.stringify(section.validation))
      assert.deepStrictEqual(holding(written, "eyJcommandSecret1"), [])
      assert.deepStrictEqual(holding(written, "printedSecret42"), [])
      const log = written.find(([file]) => file.endsWith("scenario-validation.log"))?.[1] ?? ""
      assert.include(log, "api_key=[REDACTED]")
      assert.include(log, "Authorization: Bearer [REDACTED]")
    }).pipe(Effect.provide(app("enforce"))))

  it.effect("shadow mode writes them as they are", () =>
    Effect.gen(function*() {
      const { written } = yield* captured
      assert.include(holding(written, "eyJcommandSecret1"), "/repo/.runs/task/cli/run-1/learning/scenario.json")
      assert.include(holding(written, "printedSecret42"), "/repo/.runs/task/cli/run-1/learning/scenario-validation.log")
    }).pipe(Effect.provide(app("shadow"))))
})
