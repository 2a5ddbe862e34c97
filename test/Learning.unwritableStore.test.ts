/**
 * A snapshot folder that cannot be written (LRN-2): read-only, without permission, on a full disk,
 * or with a file where a folder should be. Retrying cannot mend any of these, so the snapshot fails
 * at its first attempt, with a reason naming the folder, the error code and the fix, in the manifest's
 * learning section and on stderr (a warning); the capture itself never fails (LRN-1). A failure that
 * may pass (EIO, a file changed while packed) is still retried.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Logger, Ref, TestClock, TestServices } from "effect"
import { FileAccessError } from "../src/domain/FileErrors.js"
import { makeRunLayout } from "../src/domain/RunLayout.js"
import { FilesMemory } from "../src/layers/Files.js"
import { LearningMemory } from "../src/layers/Learning.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessInvocations, ProcessRunnerMemory, type ScriptedProcess } from "../src/layers/ProcessRunner.js"
import { Files } from "../src/services/Files.js"
import { Learning } from "../src/services/Learning.js"
import { OrchestratorConfig } from "../src/services/OrchestratorConfig.js"
import { commandEntry, finishedManifest, snapshotGitScripts } from "./support/learning.js"

const out = (data: string): ScriptedProcess => ({ output: [{ stream: "stdout", data }] })
const repo = {
  ...snapshotGitScripts,
  "npm test": out("ok\n")
}

/** Where the failure strikes: creating the folder, or writing the copy into it. */
type Step = "makeDirectory" | "write"

/** FilesMemory whose `step` fails under `folder` with the system's words for `code`. */
const FilesFailingUnder = (folder: string, code: string, step: Step) =>
  Layer.effect(
    Files,
    Effect.map(Files, (files) => {
      const inside = (target: string) => target === folder || target.startsWith(`${folder}/`)
      const fail = (target: string, operation: string) =>
        new FileAccessError({ path: target, operation, cause: new Error(`${code}: system refused, ${operation} '${target}'`) })
      return Files.of({
        ...files,
        makeDirectory: (dir) => step === "makeDirectory" && inside(dir) ? Effect.fail(fail(dir, "create folder")) : files.makeDirectory(dir),
        writeAtomic: (target, text, options) =>
          step === "write" && inside(target) ? Effect.fail(fail(target, "write")) : files.writeAtomic(target, text, options),
        writeAtomicStream: (target, fill) =>
          step === "write" && inside(target) ? Effect.fail(fail(target, "write")) : files.writeAtomicStream(target, fill)
      })
    })
  ).pipe(Layer.provideMerge(FilesMemory))

const app = (options: { readonly snapshotDir?: string; readonly failing: string; readonly code: string; readonly step: Step }) =>
  LearningMemory(options.snapshotDir === undefined ? {} : { snapshotDir: options.snapshotDir }).pipe(
    Layer.provideMerge(Layer.mergeAll(
      FilesFailingUnder(options.failing, options.code, options.step),
      ProcessRunnerMemory(repo),
      OrchestratorConfigTest("/repo")
    )),
    Layer.provideMerge(Path.layer)
  )

/**
 * The capture, letting `time` pass on the TestClock in 50 ms steps (the in-memory tarball's digest is a
 * real promise, so each step lets it settle), with the warnings it logged and the attempts git saw.
 */
const capture = (time: number) =>
  Effect.gen(function*() {
    const warnings = yield* Ref.make<ReadonlyArray<string>>([])
    const logger = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning") Effect.runSync(Ref.update(warnings, (all) => [...all, [message].flat().map(String).join(" ")]))
    })
    const path = yield* Path.Path
    const { roots } = yield* OrchestratorConfig
    const layout = makeRunLayout(path, roots, "task", "run-1")
    const learning = yield* Learning
    const manifest = finishedManifest(layout, [commandEntry(1, "npm test")])
    const fiber = yield* Effect.fork(learning.capture({ manifest, layout }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))))
    for (let elapsed = 0; elapsed < time; elapsed += 50) {
      yield* Effect.sleep("5 millis").pipe(TestServices.provideLive)
      yield* TestClock.adjust("50 millis")
    }
    const section = yield* Fiber.join(fiber).pipe(
      Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("the capture still waits on the clock") }),
      TestServices.provideLive,
      Effect.orDie
    )
    const attempts = (yield* Effect.flatMap(ProcessInvocations, (p) => p.all)).filter((spec) => spec.command === "git rev-parse HEAD").length
    return { section, warnings: yield* Ref.get(warnings), attempts }
  })

const codes = [
  { code: "EACCES", says: "permission denied", fix: "Make it writable" },
  { code: "EPERM", says: "not permitted", fix: "Make it writable" },
  { code: "EROFS", says: "read-only file system", fix: "writable file system" },
  { code: "ENOSPC", says: "no space left", fix: "Free some space" },
  { code: "ENOTDIR", says: "a file stands where a folder should be", fix: "Move that file away" }
]

describe("Learning.capture: LEARNING_SNAPSHOT_DIR that cannot be written", () => {
  for (const { code, fix, says } of codes) {
    for (const step of ["makeDirectory", "write"] as const) {
      it.effect(`${code} (${step}): one attempt, the folder, the code and the fix in the section and on stderr`, () =>
        Effect.gen(function*() {
          // No time passes: a retry would wait 500 ms on the TestClock, and the join would time out.
          const { attempts, section, warnings } = yield* capture(0)
          assert.isAtMost(attempts, 1, "retrying cannot mend it: no second attempt")
          assert.strictEqual(section.snapshot?.status, "snapshot_failed")
          assert.strictEqual(section.snapshot?.attempts, 1)
          assert.strictEqual(section.validation.status, "snapshot_failed")
          const reason = section.validation.reason ?? ""
          for (const text of ["/snapshots", code, says, fix, "LEARNING_SNAPSHOT_DIR"]) assert.include(reason, text, reason)
          assert.strictEqual(section.alerts.length, 2, JSON.stringify(section.alerts))
          assert.strictEqual(warnings.length, 1, JSON.stringify(warnings))
          assert.include(warnings[0], reason)
          assert.include(warnings[0], "task/run-1")
          assert.include(warnings[0], "the run's result is unaffected")
        }).pipe(Effect.provide(app({ snapshotDir: "/snapshots", failing: "/snapshots", code, step }))))
    }
  }

  it.effect("the default folder: named, with LEARNING_SNAPSHOT_DIR as the way out", () =>
    Effect.gen(function*() {
      const { attempts, section } = yield* capture(0)
      assert.strictEqual(attempts, 1)
      const reason = section.validation.reason ?? ""
      for (const text of ["/repo/.runs/learning-snapshots", "EROFS", "set LEARNING_SNAPSHOT_DIR"]) assert.include(reason, text, reason)
    }).pipe(Effect.provide(app({ failing: "/repo/.runs/learning-snapshots", code: "EROFS", step: "write" }))))

  it.effect("a failure that may pass (EIO) is still tried three times, then said once on stderr", () =>
    Effect.gen(function*() {
      const { attempts, section, warnings } = yield* capture(1600)
      assert.strictEqual(attempts, 3)
      assert.strictEqual(section.snapshot?.attempts, 3)
      assert.strictEqual(section.validation.status, "snapshot_failed")
      assert.include(section.validation.reason ?? "", "EIO")
      assert.strictEqual(warnings.length, 1, JSON.stringify(warnings))
      assert.include(warnings[0], "after 3 attempts")
    }).pipe(Effect.provide(app({ snapshotDir: "/snapshots", failing: "/snapshots", code: "EIO", step: "write" }))))

  it.effect("a folder that can be written: captured, nothing on stderr", () =>
    Effect.gen(function*() {
      const { section, warnings } = yield* capture(0)
      assert.strictEqual(section.snapshot?.status, "captured")
      assert.strictEqual(section.validation.status, "validated")
      assert.deepStrictEqual(warnings, [])
    }).pipe(Effect.provide(app({ snapshotDir: "/snapshots", failing: "/elsewhere", code: "EACCES", step: "write" }))))
})
