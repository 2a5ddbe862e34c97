/**
 * CP-8 across processes: two control planes (two `start`s of one task at once) over one set of
 * files, whose writes yield between the read and the rename as a disk does. Every validation must
 * be counted in the drift report.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Duration, Effect, Fiber, Layer, Schema, TestClock } from "effect"
import { DriftReport } from "../src/domain/ControlPlane.js"
import { FileAccessError } from "../src/domain/FileErrors.js"
import { buildRunRequest } from "../src/domain/RunRequestBuilder.js"
import { noGroupSettings } from "../src/domain/TfgrpoGroup.js"
import { ControlPlaneLive, ControlPlaneMemory } from "../src/layers/ControlPlane.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ControlPlane } from "../src/services/ControlPlane.js"
import { Files } from "../src/services/Files.js"
import { withLogs } from "./support/logs.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const request = (runId: string, title = "P") =>
  buildRunRequest({
    task: { id: "demo-task", slug: "demo-task", title: "Task demo-task" },
    pipeline: pipeline("p", [commandStage("a", "echo a")], { title }),
    group: noGroupSettings,
    runId,
    paths: { artifactRoot: `.runs/demo-task/cli/${runId}`, runsRoot: ".runs", outRoot: "out" },
    requestedAt: "2025-11-24T00:30:09.180Z"
  })

/** The in-memory files, with every write and exclusive create yielding first, as a real one would. */
const slowWrites = Layer.effect(
  Files,
  Effect.map(Files, (files) =>
    Files.of({
      ...files,
      writeAtomic: (path, text) => Effect.zipRight(Effect.yieldNow(), files.writeAtomic(path, text)),
      createExclusive: (path, text) => Effect.zipRight(Effect.yieldNow(), files.createExclusive(path, text))
    }))
)

describe("drift report across processes", () => {
  it.scoped("two control planes validating one task at once lose no sample", () =>
    Effect.gen(function*() {
      const shared = yield* Layer.build(Layer.mergeAll(FilesMemory, Path.layer, OrchestratorConfigTest("/repo")))
      const process = Layer.fresh(ControlPlaneLive).pipe(
        Layer.provide(slowWrites),
        Layer.provide(Layer.succeedContext(shared)),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
      )
      const planes = [yield* Layer.build(process), yield* Layer.build(process)].map((ctx) => Context.get(ctx, ControlPlane))
      const validations = planes.flatMap((plane, p) =>
        Array.from({ length: 5 }, (_, i) =>
          Effect.flatMap(request(`2025-11-24T00-30-09-180Z-0000000${p}${i}`), (req) => plane.validate(req, { taskId: "demo-task" }))))
      const fiber = yield* Effect.fork(Effect.all(validations, { concurrency: "unbounded" }))
      // Lock waits are on the clock: let it run until every validation is done.
      while (fiber.unsafePoll() === null) yield* TestClock.adjust(Duration.millis(50))
      yield* Fiber.join(fiber)
      const text = yield* Effect.flatMap(InMemoryFiles, (files) => files.read("/repo/out/demo-task/control-plane/drift.json"))
        .pipe(Effect.provide(shared))
      const report = yield* Schema.decodeUnknown(Schema.parseJson(DriftReport))(text ?? "")
      assert.strictEqual(report.total_samples, 10)
      const locks = yield* Effect.flatMap(InMemoryFiles, (files) => files.list).pipe(Effect.provide(shared))
      assert.deepStrictEqual(locks.filter((file) => file.endsWith(".lock")), [])
    }))

  it.scoped("a lock another process keeps holding delays the count, and does not lose it or fail the run", () =>
    Effect.gen(function*() {
      const shared = yield* Layer.build(Layer.mergeAll(FilesMemory, Path.layer, OrchestratorConfigTest("/repo")))
      const lockPath = "/repo/out/demo-task/control-plane/drift.json.lock"
      yield* Effect.flatMap(InMemoryFiles, (files) => files.write(lockPath, "run other\n")).pipe(Effect.provide(shared))
      const plane = Context.get(
        yield* Layer.build(ControlPlaneLive.pipe(
          Layer.provide(Layer.succeedContext(shared)),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
        )),
        ControlPlane
      )
      const fiber = yield* Effect.fork(Effect.flatMap(request("2025-11-24T00-30-09-180Z-00000001"), (req) => plane.validate(req, { taskId: "demo-task" })))
      while (fiber.unsafePoll() === null) yield* TestClock.adjust(Duration.millis(50))
      const section = yield* Fiber.join(fiber)
      assert.strictEqual(section.drift.total_samples, 1)
      // The other holder's lock is theirs to release.
      assert.strictEqual(yield* Effect.flatMap(InMemoryFiles, (files) => files.read(lockPath)).pipe(Effect.provide(shared)), "run other\n")
    }))
})

/** The in-memory files, where no drift report can be written (a full disk). */
const fullDisk = Layer.effect(
  Files,
  Effect.map(Files, (files) =>
    Files.of({
      ...files,
      writeAtomic: (path) => new FileAccessError({ path, operation: "write", cause: new Error("ENOSPC: no space left on device") })
    }))
)

const liveOn = (files: Layer.Layer<Files, never, Files>, env: ReadonlyArray<readonly [string, string]>) =>
  ControlPlaneLive.pipe(
    Layer.provide(files),
    Layer.provide(Layer.mergeAll(FilesMemory, Path.layer, OrchestratorConfigTest("/repo"))),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(env))))
  )

const warnings = (logged: ReadonlyArray<readonly [string, string]>) => logged.filter(([level]) => level === "WARN").map(([, text]) => text)

describe("shadow mode says on stderr what it only recorded (CP-4)", () => {
  it.effect("an invalid request: one warning naming the first problem and the drift report, and the run goes on", () =>
    Effect.gen(function*() {
      const plane = yield* ControlPlane
      const [section, logged] = yield* withLogs(
        Effect.flatMap(request("2025-11-24T00-30-09-180Z-00000001", ""), (req) => plane.validate(req, { taskId: "demo-task" }))
      )
      assert.strictEqual(section.validation.status, "failed")
      const lines = warnings(logged)
      assert.strictEqual(lines.length, 1, JSON.stringify(logged))
      const line = lines[0] ?? ""
      assert.include(line, "did not validate (1 error)")
      assert.include(line, "$.pipeline.title")
      assert.include(line, "out/demo-task/control-plane/drift.json")
      assert.include(line, "CODEX_CONTROL_PLANE_MODE=enforce")
    }).pipe(Effect.provide(ControlPlaneMemory())))

  it.effect("a valid request says nothing", () =>
    Effect.gen(function*() {
      const plane = yield* ControlPlane
      const [section, logged] = yield* withLogs(
        Effect.flatMap(request("2025-11-24T00-30-09-180Z-00000001"), (req) => plane.validate(req, { taskId: "demo-task" }))
      )
      assert.strictEqual(section.validation.status, "passed")
      assert.deepStrictEqual(warnings(logged), [])
    }).pipe(Effect.provide(ControlPlaneMemory())))

  it.effect("a drift report that cannot be written: one warning naming it and the reason, and the run goes on", () =>
    Effect.gen(function*() {
      const plane = yield* ControlPlane
      const [section, logged] = yield* withLogs(
        Effect.flatMap(request("2025-11-24T00-30-09-180Z-00000001"), (req) => plane.validate(req, { taskId: "demo-task" }))
      )
      assert.strictEqual(section.validation.status, "passed")
      const lines = warnings(logged)
      assert.strictEqual(lines.length, 1, JSON.stringify(logged))
      assert.include(lines[0] ?? "", "out/demo-task/control-plane/drift.json")
      assert.include(lines[0] ?? "", "No space left on device")
    }).pipe(Effect.provide(liveOn(fullDisk, []))))

  it.effect("enforce mode still fails on a drift report it cannot write", () =>
    Effect.gen(function*() {
      const plane = yield* ControlPlane
      const error = yield* Effect.flip(
        Effect.flatMap(request("2025-11-24T00-30-09-180Z-00000001"), (req) => plane.validate(req, { taskId: "demo-task" }))
      )
      assert.strictEqual(error._tag, "FileAccessError")
    }).pipe(Effect.provide(liveOn(fullDisk, [["CODEX_CONTROL_PLANE_MODE", "enforce"]]))))
})
