/**
 * CP-8 across processes: two control planes (two `start`s of one task at once) over one set of
 * files, whose writes yield between the read and the rename as a disk does. Every validation must
 * be counted in the drift report.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Duration, Effect, Fiber, Layer, Schema, TestClock } from "effect"
import { DriftReport } from "../src/domain/ControlPlane.js"
import { buildRunRequest } from "../src/domain/RunRequestBuilder.js"
import { noGroupSettings } from "../src/domain/TfgrpoGroup.js"
import { ControlPlaneLive } from "../src/layers/ControlPlane.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ControlPlane } from "../src/services/ControlPlane.js"
import { Files } from "../src/services/Files.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const request = (runId: string) =>
  buildRunRequest({
    task: { id: "demo-task", slug: "demo-task", title: "Task demo-task" },
    pipeline: pipeline("p", [commandStage("a", "echo a")], { title: "P" }),
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
