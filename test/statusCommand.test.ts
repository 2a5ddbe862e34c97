/**
 * `status` without a run id (CLI-7) on the test kit's in-memory app: still bad input (exit 2, the same
 * sentence), and the one line says which run to look at: the task's newest, with the command to copy,
 * or that the task has no runs.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import * as Cli from "../src/cli/index.js"
import { TestKit } from "../src/index.js"
import { Files } from "../src/services/Files.js"
import { RunReader } from "../src/services/RunReader.js"
import { failureOf, runCommandLine } from "./support/cliMemory.js"
import { commandStage, nestedStage, pipeline } from "./support/pipelines.js"

const app = TestKit.AppMemory({
  pipelines: { user: [pipeline("ok", [commandStage("build", "make")]), pipeline("nest", [commandStage("prep", "make slow"), nestedStage("inner", "ok")])] },
  scripts: { make: { exitCode: 0 }, "make slow": { duration: "1 second" } }
})

const orch = (...args: ReadonlyArray<string>) => runCommandLine(Cli.rootCommandOn("orch", Layer.empty), args)

const started = (task: string, pipelineId = "ok") =>
  Effect.map(orch("start", pipelineId, "--task", task, "--format", "json"), (result) => {
    const output: { readonly run_id: string } = JSON.parse(result.stdout)
    return output.run_id
  })

/** A run of `nest` in task demo (its nested stage's child made a second after it): both ids. */
const startedNested = Effect.gen(function*() {
  const starting = yield* Effect.fork(started("demo", "nest"))
  yield* TestClock.adjust("2 seconds")
  const runId = yield* Fiber.join(starting)
  const view = yield* (yield* RunReader).status({ runId, taskId: "demo" })
  return { runId, childId: view.manifest.commands[1]?.sub_run_id ?? "" }
})

const onApp = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(app), Effect.provide(NodeContext.layer))


describe("status without --run (CLI-7)", () => {
  it.effect("names the task's newest run and the command that shows it, exit 2", () =>
    onApp(Effect.gen(function*() {
      const older = yield* started("demo")
      yield* TestClock.adjust("2 seconds")
      const newest = yield* started("demo")
      yield* TestClock.adjust("2 seconds")
      yield* started("other")
      assert.notStrictEqual(older, newest)
      for (const args of [["status", "--task", "demo"], ["status", "--task", "demo", "--format", "json"]]) {
        const { code, exit, stdout } = yield* orch(...args)
        assert.strictEqual(code, 2)
        assert.strictEqual(stdout, "")
        assert.strictEqual(
          failureOf(exit),
          `status requires --run <run-id>. The newest run of task demo is ${newest}: ` +
            `codex-orchestrator status --run ${newest} --task demo`
        )
      }
    })))

  it.effect("resume without a run id names the task's newest run and the command that resumes it, exit 2", () =>
    onApp(Effect.gen(function*() {
      const newest = yield* started("demo")
      const { code, exit, stdout } = yield* orch("resume", "--task", "demo")
      assert.strictEqual(code, 2)
      assert.strictEqual(stdout, "")
      assert.strictEqual(
        failureOf(exit),
        `resume requires --run <run-id>. The newest run of task demo is ${newest}: ` +
          `codex-orchestrator resume --run ${newest} --task demo`
      )
      assert.match(failureOf((yield* orch("resume")).exit), /^resume requires --run <run-id>\. Task 0101 has no runs \(in [^)]*\)\.$/)
    })))

  it.effect("a run folder without a manifest (being made, half deleted) is not a run to show", () =>
    onApp(Effect.gen(function*() {
      const runId = yield* started("demo")
      const { layout } = yield* (yield* RunReader).status({ runId, taskId: "demo" })
      const files = yield* TestKit.InMemoryFiles
      yield* files.write(`${layout.cliDir}/2099-01-01T00-00-00-000Z-0123abcd/.owner.json`, "{}")
      const { exit } = yield* orch("status", "--task", "demo")
      assert.include(failureOf(exit), `The newest run of task demo is ${runId}:`)
    })))

  it.effect("the newest run is the one started, not its nested stage's child run (made after it); a --parent-run run is one", () =>
    onApp(Effect.gen(function*() {
      const parent = yield* startedNested
      assert.isTrue(parent.childId > parent.runId, `the child's id is the newer: ${JSON.stringify(parent)}`)
      const newestNamed = Effect.map(orch("status", "--task", "demo"), ({ exit }) => failureOf(exit))
      assert.include(yield* newestNamed, `The newest run of task demo is ${parent.runId}:`)
      // A child of an earlier version (no parent_stage_id) is known by its parent's record of it.
      const files = yield* TestKit.InMemoryFiles
      const { layout } = yield* (yield* RunReader).status({ runId: parent.childId, taskId: "demo" })
      const childText = (yield* files.read(layout.manifest)) ?? "{}"
      const { parent_stage_id: _, ...older } = JSON.parse(childText)
      yield* files.write(layout.manifest, JSON.stringify(older))
      assert.include(yield* newestNamed, `The newest run of task demo is ${parent.runId}:`)
      // A run started with --parent-run naming that run is a run of its own.
      yield* TestClock.adjust("2 seconds")
      const linked = yield* Effect.map(orch("start", "ok", "--task", "demo", "--parent-run", parent.runId, "--format", "json"), (result) => {
        const output: { readonly run_id: string } = JSON.parse(result.stdout)
        return output.run_id
      })
      assert.include(yield* newestNamed, `The newest run of task demo is ${linked}:`)
      // Only children left (their parents' manifests deleted): the newest child, rather than no run.
      yield* files.write(layout.manifest, childText)
      const disk = yield* Files
      for (const own of [parent.runId, linked]) yield* disk.remove(`${layout.cliDir}/${own}/manifest.json`)
      assert.include(yield* newestNamed, `The newest run of task demo is ${parent.childId}:`)
    })))

  it.effect("says so when the task has no runs (the default task here), exit 2", () =>
    onApp(Effect.gen(function*() {
      yield* started("demo")
      const { code, exit } = yield* orch("status")
      assert.strictEqual(code, 2)
      const message = failureOf(exit)
      assert.match(message, /^status requires --run <run-id>\. Task 0101 has no runs \(in [^)]*\.runs\/0101\/cli\)\.$/)
      assert.notInclude(message, "\n")
    })))

  it.effect("an option left without its value at the end is bad input, not taken as the run id (status and resume)", () =>
    onApp(Effect.gen(function*() {
      const runId = yield* started("demo")
      const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
        [["status", "--run", runId, "--task", "demo", "--format"], "--format needs a value. See 'codex-orchestrator status --help'."],
        [["status", "--task", "demo", "--interval"], "--interval needs a value. See 'codex-orchestrator status --help'."],
        [["resume", "--run", runId, "--task", "demo", "--format"], "--format needs a value. See 'codex-orchestrator resume --help'."],
        [["resume", "--task", "demo", "--token"], "--token needs a value. See 'codex-orchestrator resume --help'."]
      ]
      for (const [args, message] of cases) {
        const { code, exit, stdout } = yield* orch(...args)
        assert.strictEqual(code, 2, args.join(" "))
        assert.strictEqual(failureOf(exit), message)
        assert.strictEqual(stdout, "", args.join(" "))
      }
    })))
})

describe("status of a stale child run (RUN-7, D-9)", () => {
  it.effect("says to resume its parent, which settles the child and runs its stage again, not the child on its own", () =>
    onApp(Effect.gen(function*() {
      const { childId, runId } = yield* startedNested
      const { layout } = yield* (yield* RunReader).status({ runId: childId, taskId: "demo" })
      const files = yield* TestKit.InMemoryFiles
      const child = JSON.parse((yield* files.read(layout.manifest)) ?? "{}")
      yield* files.write(layout.manifest, JSON.stringify({ ...child, status: "in_progress", completed_at: null }))
      yield* TestClock.adjust("2 minutes")
      const { code, stdout } = yield* orch("status", "--run", childId, "--task", "demo")
      assert.strictEqual(code, 0)
      assert.include(
        stdout,
        `Status: in_progress — stale: no heartbeat since ${child.heartbeat_at}; it is the child run of stage inner of run ${runId}: ` +
          `resume that run with: resume --run ${runId} --task demo`
      )
      const json = JSON.parse((yield* orch("status", "--run", childId, "--task", "demo", "--format", "json")).stdout)
      assert.strictEqual(json.parent_run_id, runId)
      assert.strictEqual(json.parent_stage_id, "inner")
    })))
})

describe("status (and resume) of a run edited by hand or half written", () => {
  it.effect("a task_id or run_id the id rules refuse is bad input naming the file and the field, on one line", () =>
    onApp(Effect.gen(function*() {
      const runId = yield* started("demo")
      const { layout } = yield* (yield* RunReader).status({ runId, taskId: "demo" })
      const files = yield* TestKit.InMemoryFiles
      const original = (yield* files.read(layout.manifest)) ?? "{}"
      const manifest = layout.relative(layout.manifest)
      const cases: ReadonlyArray<[string, string, string]> = [
        ["task_id", "demo\n\u001b[31mStatus: succeeded", `task_id: Invalid task ID "demo\\n\\u001b[31mStatus: succeeded": control characters are not allowed.`],
        ["run_id", "../../elsewhere", `run_id: Invalid run ID "../../elsewhere": leading dots are not allowed.`]
      ]
      for (const [field, value, issue] of cases) {
        yield* files.write(layout.manifest, JSON.stringify({ ...JSON.parse(original), [field]: value }))
        for (const format of ["text", "json"]) {
          const { code, exit, stdout } = yield* orch("status", "--run", runId, "--task", "demo", "--format", format)
          assert.strictEqual(code, 2, `${field} ${format}`)
          assert.strictEqual(stdout, "", `${field} ${format}`)
          assert.strictEqual(failureOf(exit), `${manifest} is not valid: ${issue}`)
        }
      }
    })))

  it.effect("a field of the wrong shape is one short line naming the file, the field and what was expected (status and resume)", () =>
    onApp(Effect.gen(function*() {
      const runId = yield* started("demo")
      const { layout } = yield* (yield* RunReader).status({ runId, taskId: "demo" })
      const files = yield* TestKit.InMemoryFiles
      const original = JSON.parse((yield* files.read(layout.manifest)) ?? "{}")
      const manifest = layout.relative(layout.manifest)
      const cases: ReadonlyArray<[Record<string, unknown>, string]> = [
        [{ commands: 5 }, "commands: Expected an array, actual 5"],
        [{ commands: [5] }, "commands.0: Expected an object, actual 5"],
        [{ status: 7 }, `status: Expected "queued" | "in_progress" | "succeeded" | "failed" | "cancelled", actual 7`],
        [{ status: 7, child_runs: "x" }, `status: Expected "queued" | "in_progress" | "succeeded" | "failed" | "cancelled", actual 7; child_runs: Expected an array, actual "x"`]
      ]
      for (const [edit, issues] of cases) {
        yield* files.write(layout.manifest, JSON.stringify({ ...original, ...edit }))
        for (const args of [["status", "--run", runId, "--task", "demo"], ["resume", "--run", runId, "--task", "demo"]]) {
          const { code, exit } = yield* orch(...args)
          assert.strictEqual(code, 2, `${args[0]} ${JSON.stringify(edit)}`)
          assert.strictEqual(failureOf(exit), `${manifest} is not valid: ${issues}.`, `${args[0]} ${JSON.stringify(edit)}`)
        }
      }
    })))

  it.effect("a manifest.json that is a folder: one line naming it and the fix, exit 2, nothing on stdout; the task's other runs still list and resume", () =>
    onApp(Effect.gen(function*() {
      const other = yield* started("demo")
      yield* TestClock.adjust("2 seconds")
      const broken = yield* started("demo")
      const { layout } = yield* (yield* RunReader).status({ runId: broken, taskId: "demo" })
      const disk = yield* Files
      yield* disk.remove(layout.manifest)
      yield* (yield* TestKit.InMemoryFiles).write(`${layout.manifest}/stray.txt`, "")
      const manifest = layout.relative(layout.manifest)
      for (const args of [["status", broken], ["status", broken, "--format", "json"], ["resume", broken], ["resume", broken, "--format", "json"]]) {
        const { code, exit, stdout } = yield* orch(...args, "--task", "demo")
        assert.strictEqual(code, 2, args.join(" "))
        assert.strictEqual(stdout, "", args.join(" "))
        assert.strictEqual(
          failureOf(exit),
          `${manifest} is not valid: (root): a folder, not a file. Move that folder aside (if it holds the run's manifest.json, ` +
            `move that file in its place); until then run ${broken} cannot be shown or resumed (the task's other runs are not affected).`
        )
      }
      assert.include(failureOf((yield* orch("status", "--task", "demo")).exit), `The newest run of task demo is ${other}:`)
      assert.strictEqual((yield* orch("status", other, "--task", "demo")).code, 0)
      assert.strictEqual((yield* orch("resume", other, "--task", "demo")).code, 0)
    })))

  it.effect("a run folder without its manifest (being made, or half written) is said as such, not 'not found' (status and resume)", () =>
    onApp(Effect.gen(function*() {
      const runId = yield* started("demo")
      const { layout } = yield* (yield* RunReader).status({ runId, taskId: "demo" })
      const files = yield* TestKit.InMemoryFiles
      const half = "2099-01-01T00-00-00-000Z-0123abcd"
      yield* files.write(`${layout.cliDir}/${half}/.owner.json`, "{}")
      for (const command of ["status", "resume"]) {
        const { code, exit } = yield* orch(command, "--run", half, "--task", "demo")
        assert.strictEqual(code, 2, command)
        assert.strictEqual(
          failureOf(exit),
          `Run '${half}' of task 'demo' has a folder (${layout.relative(layout.cliDir)}/${half}) but no manifest.json: ` +
            "it is being created, or was left half written or half deleted; there is nothing to show or resume yet."
        )
      }
    })))
})
