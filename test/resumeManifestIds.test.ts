/**
 * `resume` of a run whose manifest was edited by hand or copied from another run's folder (RUN-9,
 * D-1): the ids the manifest records must be the run's own. Its task and run id name folders (the
 * task's metrics and state, the compatibility pointers), and a child run's id names the child's
 * folder: taken from the file as written, `"task_id": "../../x"` wrote outside the runs root.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Option, TestClock } from "effect"
import { TestKit } from "../src/index.js"
import { Files } from "../src/services/Files.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { commandStage, nestedStage, pipeline } from "./support/pipelines.js"

const app = TestKit.AppMemory({
  pipelines: {
    user: [
      pipeline("broken", [commandStage("build", "make"), commandStage("test", "make test")]),
      pipeline("child", [commandStage("inner", "make")]),
      pipeline("parent", [nestedStage("nested", "child"), commandStage("test", "make test")]),
      pipeline("twins", [nestedStage("left", "child", { needs: [] }), nestedStage("right", "child", { needs: [] })])
    ]
  },
  scripts: { make: { exitCode: 0 }, "make test": { exitCode: 1 } }
})

/** Starts `pipelineId` (it fails), edits its manifest with `edit`, resumes it; the failure and every file path after. */
const resumeEdited = (pipelineId: string, edit: (manifest: Record<string, unknown>) => Record<string, unknown>) =>
  Effect.gen(function*() {
    const engine = yield* RunEngine
    const files = yield* TestKit.InMemoryFiles
    const { layout } = yield* engine.start({ pipelineId, taskId: "demo", approvalPolicy: "auto" })
    const manifest: Record<string, unknown> = JSON.parse((yield* files.read(layout.manifest)) ?? "{}")
    yield* files.write(layout.manifest, JSON.stringify(edit(manifest), null, 2))
    const before = yield* files.list
    const exit = yield* Effect.exit(engine.resume({ runId: layout.runId, taskId: "demo" }))
    const written = (yield* files.list).filter((file) => !before.includes(file))
    // Only the tag and message: a resumed run's outcome is far too large for an assertion message.
    const error = Exit.isFailure(exit)
      ? Option.match(Cause.failureOption(exit.cause), {
        onNone: () => ({ _tag: "defect", message: Cause.pretty(exit.cause).slice(0, 500) }),
        onSome: (failure) => ({ _tag: failure._tag, message: failure.message })
      })
      : { _tag: "resumed", message: "the run was resumed" }
    return { error, written, layout }
  }).pipe(Effect.provide(app))

describe("resume of a manifest whose ids are not the run's own (RUN-9, D-1)", () => {
  it.effect("a task_id or run_id other than the run folder's is bad input; nothing is written", () =>
    Effect.gen(function*() {
      for (
        const [field, value] of [
          ["task_id", "../../../../../tmp/elsewhere"],
          ["task_id", "other-task"],
          ["run_id", "other-run"]
        ] as const
      ) {
        const { error, written, layout } = yield* resumeEdited("broken", (m) => ({ ...m, [field]: value }))
        assert.strictEqual(error._tag, "InvalidFile", `${field}=${value}: ${error.message}`)
        const own = field === "task_id" ? "demo" : layout.runId
        assert.include(error.message, `${layout.relative(layout.manifest)} is not valid: ${field}: is "${value}", not "${own}"`)
        assert.deepStrictEqual(written.slice(0, 5), [], `${field}=${value}`)
      }
    }))

  it.effect("a renamed task or run folder: one line names the manifest, the field, both values and the fix", () =>
    Effect.gen(function*() {
      const task = yield* resumeEdited("broken", (m) => ({ ...m, task_id: "old-task" }))
      const manifest = task.layout.relative(task.layout.manifest)
      assert.strictEqual(
        task.error.message,
        `${manifest} is not valid: task_id: is "old-task", not "demo" (the name of its task folder). ` +
          `resume follows only a manifest whose ids are its folders' names (its ids name the folders it writes). ` +
          `If the task folder was renamed, rename it back to old-task and resume with --task old-task, or set "task_id" to "demo" in ${manifest}.`
      )
      const run = yield* resumeEdited("broken", (m) => ({ ...m, run_id: "old-run" }))
      assert.include(
        run.error.message,
        `If the run folder was renamed, rename it back to old-run and resume with --run old-run, or set "run_id" to "${run.layout.runId}" in ${
          run.layout.relative(run.layout.manifest)
        }.`
      )
      // A recorded id that is no valid id is never offered as a folder name.
      const hostile = yield* resumeEdited("broken", (m) => ({ ...m, task_id: "../../x\nerror: forged" }))
      assert.notInclude(hostile.error.message, "rename it back")
      assert.include(hostile.error.message, `set "task_id" to "demo"`)
      for (const { error } of [task, run, hostile]) assert.notMatch(error.message, /[\n\r]/)
    }))

  it.effect("a child run id that is no valid run id (a path) is bad input; nothing is written", () =>
    Effect.gen(function*() {
      const { error, written } = yield* resumeEdited("parent", (m) => ({
        ...m,
        commands: (m["commands"] as ReadonlyArray<Record<string, unknown>>).map((c) =>
          c["kind"] === "subpipeline" ? { ...c, sub_run_id: "../../../elsewhere", status: "running" } : c
        )
      }))
      assert.strictEqual(error._tag, "InvalidFile", error.message)
      assert.include(error.message, `commands.0.sub_run_id: Invalid run ID "../../../elsewhere": leading dots are not allowed`)
      assert.deepStrictEqual(written.slice(0, 5), [])
    }))
})

describe("resume of a manifest whose nested stage names a run that is not its child (RUN-9, D-7)", () => {
  it.effect("is refused naming the field and that run's parent; the other run is left as it is", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const files = yield* TestKit.InMemoryFiles
      // Another run of the task, in progress as far as its manifest says (another orchestrator's, say).
      const other = yield* engine.start({ pipelineId: "broken", taskId: "demo", approvalPolicy: "auto" })
      const otherText = JSON.parse((yield* files.read(other.layout.manifest)) ?? "{}")
      const inProgress = JSON.stringify({ ...otherText, status: "in_progress", completed_at: null })
      yield* files.write(other.layout.manifest, inProgress)
      // This run's nested stage, as a hand edit (or a copy from another folder) left it: naming that run.
      const { layout } = yield* engine.start({ pipelineId: "parent", taskId: "demo", approvalPolicy: "auto" })
      const manifest: Record<string, unknown> = JSON.parse((yield* files.read(layout.manifest)) ?? "{}")
      yield* files.write(layout.manifest, JSON.stringify({
        ...manifest,
        status: "failed",
        commands: (manifest["commands"] as ReadonlyArray<Record<string, unknown>>).map((c) =>
          c["kind"] === "subpipeline" ? { ...c, sub_run_id: other.layout.runId, status: "running" } : c
        )
      }))
      const exit = yield* Effect.exit(engine.resume({ runId: layout.runId, taskId: "demo" }))
      const failure = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      assert.strictEqual(failure?._tag, "InvalidFile", failure?.message)
      assert.include(
        failure?.message ?? "",
        `commands.0.sub_run_id: names run ${other.layout.runId}, which is no child of this run (its parent_run_id is null)`
      )
      assert.strictEqual(yield* files.read(other.layout.manifest), inProgress, "the other run was not touched")
    }).pipe(Effect.provide(app)))
})

describe("a child run records the nested stage that made it (RUN-7)", () => {
  it.effect("as parent_stage_id when it is created; a run that is no child has none", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* (yield* RunEngine).start({ pipelineId: "parent", taskId: "demo", approvalPolicy: "auto" })
      const files = yield* TestKit.InMemoryFiles
      const childPath = `${layout.cliDir}/${manifest.commands[0]?.sub_run_id}/manifest.json`
      const child: Record<string, unknown> = JSON.parse((yield* files.read(childPath)) ?? "{}")
      assert.strictEqual(child["parent_run_id"], layout.runId)
      assert.strictEqual(child["parent_stage_id"], "nested")
      const parent: Record<string, unknown> = JSON.parse((yield* files.read(layout.manifest)) ?? "{}")
      assert.notProperty(parent, "parent_stage_id")
    }).pipe(Effect.provide(app)))

  it.effect("two nested stages of one pipeline side by side (a stage graph): each child names its own stage", () =>
    Effect.gen(function*() {
      // Two children of the task at once wait for each other on the task's files (retried on the clock).
      const running = yield* Effect.fork((yield* RunEngine).start({ pipelineId: "twins", taskId: "demo", approvalPolicy: "auto" }))
      yield* TestClock.adjust("1 minute")
      const { layout, manifest } = yield* Fiber.join(running)
      const files = yield* TestKit.InMemoryFiles
      for (const entry of manifest.commands) {
        const child: Record<string, unknown> = JSON.parse((yield* files.read(`${layout.cliDir}/${entry.sub_run_id}/manifest.json`)) ?? "{}")
        assert.strictEqual(child["parent_stage_id"], entry.id)
      }
      assert.deepStrictEqual(manifest.commands.map((c) => c.id), ["left", "right"])
    }).pipe(Effect.provide(app)))

  it.effect("a running nested stage naming a child of another of the run's stages is refused; that child is left as it is", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const files = yield* TestKit.InMemoryFiles
      const { layout, manifest } = yield* engine.start({ pipelineId: "parent", taskId: "demo", approvalPolicy: "auto" })
      const childId = manifest.commands[0]?.sub_run_id ?? ""
      const childPath = `${layout.cliDir}/${childId}/manifest.json`
      const childText = JSON.stringify({ ...JSON.parse((yield* files.read(childPath)) ?? "{}"), status: "in_progress", parent_stage_id: "test" })
      yield* files.write(childPath, childText)
      const text: Record<string, unknown> = JSON.parse((yield* files.read(layout.manifest)) ?? "{}")
      yield* files.write(layout.manifest, JSON.stringify({
        ...text,
        commands: (text["commands"] as ReadonlyArray<Record<string, unknown>>).map((c) => c["kind"] === "subpipeline" ? { ...c, status: "running" } : c)
      }))
      const exit = yield* Effect.exit(engine.resume({ runId: layout.runId, taskId: "demo" }))
      const failure = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      assert.strictEqual(failure?._tag, "InvalidFile", failure?.message)
      assert.include(
        failure?.message ?? "",
        `commands.0.sub_run_id: names run ${childId}, the child of this run's stage "test" (its parent_stage_id), not of "nested"`
      )
      assert.strictEqual(yield* files.read(childPath), childText, "the child was not touched")
    }).pipe(Effect.provide(app)))
})

describe("resume of a run folder without its .resume-token (D-7)", () => {
  it.effect("says the file is missing, not that it does not match; --token still resumes", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const { layout, manifest } = yield* engine.start({ pipelineId: "broken", taskId: "demo" })
      yield* (yield* Files).remove(layout.resumeToken)
      const exit = yield* Effect.exit(engine.resume({ runId: layout.runId, taskId: "demo" }))
      const failure = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      assert.strictEqual(failure?._tag, "ResumeTokenMismatch")
      assert.include(failure?.message ?? "", `Resume token missing for run ${layout.runId}: the run folder has no .resume-token`)
      const resumed = yield* engine.resume({ runId: layout.runId, taskId: "demo", token: manifest.resume_token })
      assert.strictEqual(resumed.manifest.resume_events.length, 1)
    }).pipe(Effect.provide(app)))
})
