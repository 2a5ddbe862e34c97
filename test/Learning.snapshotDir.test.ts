/**
 * LEARNING_SNAPSHOT_DIR naming a file (LRN-2): with learning on, no snapshot can ever be stored, so
 * the commands that run pipelines refuse it before anything runs (bad input, D-1), naming the
 * variable, the path and the fix, rather than trying three times after every successful run.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer } from "effect"
import { InvalidSetting } from "../src/domain/Settings.js"
import { EntropySeeded } from "../src/layers/Entropy.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { LearningLive } from "../src/layers/Learning.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessRunnerMemory } from "../src/layers/ProcessRunner.js"
import { Learning } from "../src/services/Learning.js"

const build = (env: Readonly<Record<string, string>>, plant: Effect.Effect<void, never, InMemoryFiles>) =>
  Effect.gen(function*() {
    yield* plant
    return yield* Effect.exit(Effect.asVoid(Learning).pipe(
      Effect.provide(LearningLive.pipe(Layer.provide(Layer.mergeAll(ProcessRunnerMemory({}), EntropySeeded(1), OrchestratorConfigTest("/repo"))))),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    ))
  }).pipe(Effect.provide(Layer.merge(FilesMemory, Path.layer)))

const aFile = Effect.flatMap(InMemoryFiles, (files) => files.write("/snapshots", "not a folder\n"))
const aFolder = Effect.flatMap(InMemoryFiles, (files) => files.write("/snapshots/keep", "\n"))

describe("LEARNING_SNAPSHOT_DIR that is a file", () => {
  it.effect("with learning on: bad input naming the variable, the path and the fix", () =>
    Effect.gen(function*() {
      const exit = yield* build({ LEARNING_PIPELINE_ENABLED: "1", LEARNING_SNAPSHOT_DIR: "/snapshots" }, aFile)
      assert.isTrue(Exit.isFailure(exit), "the layer was built")
      if (Exit.isSuccess(exit)) return
      const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.strictEqual(error?._tag, "InvalidSetting", String(exit.cause))
      if (error?._tag !== "InvalidSetting") return
      assert.strictEqual(error.variable, "LEARNING_SNAPSHOT_DIR")
      assert.include(error.message, "LEARNING_SNAPSHOT_DIR=\"/snapshots\" is a file, not a folder")
      assert.include(error.message, "unset it")
    }))

  it.effect("under a file (a file where a parent folder should be): bad input naming the variable, the file and the fix", () =>
    Effect.gen(function*() {
      for (const dir of ["/snapshots/task", "/snapshots/a/b"]) {
        const exit = yield* build({ LEARNING_PIPELINE_ENABLED: "1", LEARNING_SNAPSHOT_DIR: dir }, aFile)
        const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.instanceOf(error, InvalidSetting, dir)
        assert.strictEqual(
          error?.message,
          `LEARNING_SNAPSHOT_DIR=${JSON.stringify(dir)} lies under /snapshots, which is a file, not a folder: no learning snapshot ` +
            "can be stored there. Point LEARNING_SNAPSHOT_DIR at a folder (it is created when missing), or unset it to use the " +
            "runs folder's learning-snapshots."
        )
      }
      assert.isTrue(Exit.isSuccess(yield* build({ LEARNING_SNAPSHOT_DIR: "/snapshots/task" }, aFile)), "learning off")
      assert.isTrue(Exit.isSuccess(yield* build({ LEARNING_PIPELINE_ENABLED: "1", LEARNING_SNAPSHOT_DIR: "/snapshots/new/x" }, aFolder)))
    }))

  it.effect("with learning off, or a folder, or nothing there yet: accepted", () =>
    Effect.gen(function*() {
      assert.isTrue(Exit.isSuccess(yield* build({ LEARNING_SNAPSHOT_DIR: "/snapshots" }, aFile)))
      assert.isTrue(Exit.isSuccess(yield* build({ LEARNING_PIPELINE_ENABLED: "1", LEARNING_SNAPSHOT_DIR: "/snapshots" }, aFolder)))
      assert.isTrue(Exit.isSuccess(yield* build({ LEARNING_PIPELINE_ENABLED: "1", LEARNING_SNAPSHOT_DIR: "/snapshots" }, Effect.void)))
    }))
})

// Seen on the built CLI: LEARNING_SNAPSHOT_DIR=. stored t/<run>.tar.gz in the repository, so every
// validation stalled on a dirty tree and each snapshot packed the ones before it.
describe("LEARNING_SNAPSHOT_DIR that is the repository itself", () => {
  const refusal = (exit: Exit.Exit<void, unknown>) => {
    const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
    return error instanceof InvalidSetting ? error : undefined
  }

  it.effect("with learning on: bad input naming the variable, the folder, why and the fix", () =>
    Effect.gen(function*() {
      for (const dir of ["/repo", "/repo/", "/repo/src/.."]) {
        const error = refusal(yield* build({ LEARNING_PIPELINE_ENABLED: "1", LEARNING_SNAPSHOT_DIR: dir }, aFolder))
        assert.isDefined(error, dir)
        assert.strictEqual(
          error?.message,
          "LEARNING_SNAPSHOT_DIR=\"/repo\" is the repository itself: each snapshot stored there would be packed into the next " +
            "one and leave the tree dirty, so no validation could pass. Point LEARNING_SNAPSHOT_DIR at a folder inside the " +
            "repository (snapshots leave it out) or outside it, or unset it to use the runs folder's learning-snapshots."
        )
      }
    }))

  it.effect("a folder inside the repository, or learning off: accepted", () =>
    Effect.gen(function*() {
      assert.isTrue(Exit.isSuccess(yield* build({ LEARNING_PIPELINE_ENABLED: "1", LEARNING_SNAPSHOT_DIR: "/repo/snapshots" }, aFolder)))
      assert.isTrue(Exit.isSuccess(yield* build({ LEARNING_SNAPSHOT_DIR: "/repo" }, aFolder)))
    }))
})
