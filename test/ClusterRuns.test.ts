/**
 * A `cloud` run on the cluster executor (issue 18) through the test kit's production wiring, with
 * the cluster in memory: the stages run on the runner (not as local processes), their output is the
 * stage log, exit codes are recorded, and each entry says where it ran (executor, runner, host,
 * attempt, idempotency key). Live clock: the cluster's own fibers poll on it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Effect, Fiber, Layer, Stream } from "effect"
import { stageLine } from "../src/hud/HudFormat.js"
import { reduceHudAll } from "../src/hud/HudState.js"
import { EventBus } from "../src/services/EventBus.js"
import { AppMemory } from "../src/layers/App.js"
import { ClusterExecutorLive } from "../src/layers/ClusterExecutor.js"
import { ProcessInvocations, ProcessRunnerMemory, type ScriptedProcess } from "../src/layers/ProcessRunner.js"
import { executorFromRun } from "../src/layers/Executor.js"
import { CloudExecutor } from "../src/services/Executor.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { logFile, manifestFile } from "./support/files.js"
import { commandStage, pipeline } from "./support/pipelines.js"
import { memoryCluster } from "./support/cluster.js"

const remoteScripts = {
  "echo one": { output: [{ stream: "stdout", data: "one\n" }] },
  "exit 3": { exitCode: 3 },
  "echo three": { output: [{ stream: "stdout", data: "three\n" }] }
} satisfies Record<string, ScriptedProcess>

const threeStages = pipeline("three", [
  commandStage("one", "echo one"),
  commandStage("two", "exit 3", { allowFailure: true }),
  commandStage("three", "echo three", { runsOn: ["linux"] })
])

const runnerSide = memoryCluster(["linux"]).pipe(Layer.provideMerge(ProcessRunnerMemory(remoteScripts)))

/** A runner with --keep-failed, as runnerWorkspace.ts keeps the worktree of an attempt that failed: /ws/worktrees/<stage>-kept. */
const keepingRunner = (scripts: Record<string, ScriptedProcess>) =>
  memoryCluster([], {
    prepare: (request) =>
      Effect.succeed({
        spec: { command: request.command, cwd: request.cwd, env: request.env },
        release: (end) => Effect.succeed(end.succeeded ? undefined : `/ws/worktrees/${request.stageId}-kept`)
      })
  }).pipe(Layer.provideMerge(ProcessRunnerMemory(scripts)))

describe("cloud runs on the cluster executor", () => {
  it.live("stages run on the runner; exit codes, output and the runner are recorded", () =>
    Effect.gen(function*() {
      const cloud = yield* Layer.build(ClusterExecutorLive().pipe(Layer.provideMerge(runnerSide)))
      yield* Effect.gen(function*() {
        const engine = yield* RunEngine
        const stream = yield* (yield* EventBus).subscribe
        const collector = yield* Effect.fork(Stream.runCollect(stream.pipe(Stream.takeUntil((e) => e.type === "run:completed"))))
        const { layout, manifest } = yield* engine.start({ taskId: "cluster-task", pipelineId: "three", executionMode: "cloud" })
        const events = Chunk.toReadonlyArray(yield* Fiber.join(collector))
        // stage:runner for each stage, after its stage:started; the HUD's rows show the runner.
        const placed = events.flatMap((e) => (e.type === "stage:runner" ? [[e.stageId, e.attempt, e.executor, e.runner, e.host]] : []))
        assert.deepStrictEqual(placed, ["one", "two", "three"].map((id) => [id, 1, "cluster", "memory:1", "memory-host"]))
        const hud = reduceHudAll(events)
        assert.deepStrictEqual(hud.stages.map((stage) => stage.runner), ["memory:1", "memory:1", "memory:1"])
        assert.match(hud.stages.map((stage) => stageLine(stage, hud.finishedAtMs ?? 0)).join("\n"), /\[01\] SUCCEEDED one [0-9.]+s on memory:1 /)
        assert.strictEqual(manifest.status, "succeeded")
        assert.strictEqual(manifest.cloud_fallback_reason, null)
        const local = yield* Effect.flatMap(ProcessInvocations, (p) => p.all)
        assert.deepStrictEqual(local, [], "no local process")
        const written = yield* manifestFile(layout.manifest)
        assert.deepStrictEqual(written.commands.map((c) => c.exit_code), [0, 3, 0])
        for (const [i, entry] of written.commands.entries()) {
          assert.strictEqual(entry.remote?.executor, "cluster")
          assert.strictEqual(entry.remote?.runner, "memory:1")
          assert.strictEqual(entry.remote?.host, "memory-host")
          assert.strictEqual(entry.remote?.attempt, 1)
          assert.strictEqual(entry.remote?.idempotency_key, `cli-command:${manifest.run_id}:${entry.id}:attempt-1`)
          assert.deepStrictEqual(entry.remote?.deliveries, [{ runner: "memory:1", host: "memory-host" }], `entry ${i}`)
        }
        const chunks = (yield* logFile(layout.stageLog(3, "three"))).flatMap((e) => e.type === "exec:chunk" ? [e.data] : [])
        assert.deepStrictEqual(chunks, ["three\n"])
        const remote = yield* Effect.provide(Effect.flatMap(ProcessInvocations, (p) => p.all), cloud)
        assert.deepStrictEqual(remote.map((spec) => spec.command), ["echo one", "exit 3", "echo three"])
        assert.strictEqual(remote[0]?.env["CODEX_ORCHESTRATOR_RUN_ID"], manifest.run_id)
      }).pipe(Effect.provide(AppMemory({ pipelines: { user: [threeStages] }, cloudExecutor: Layer.succeed(CloudExecutor, Context.get(cloud, CloudExecutor)) })))
    }).pipe(Effect.scoped))

  it.live("runner --keep-failed: the kept worktree is in the entry's remote record, the stage's log and its summary", () =>
    Effect.gen(function*() {
      const keeping = keepingRunner(remoteScripts)
      const cloud = yield* Layer.build(ClusterExecutorLive().pipe(Layer.provideMerge(keeping)))
      const stages = pipeline("kept", [commandStage("ok", "echo one"), commandStage("bad", "exit 3", { allowFailure: true })])
      yield* Effect.gen(function*() {
        const { layout } = yield* (yield* RunEngine).start({ taskId: "cluster-task", pipelineId: "kept", executionMode: "cloud" })
        const [ok, bad] = (yield* manifestFile(layout.manifest)).commands
        // Before: only the runner's own log said where the worktree was kept.
        assert.strictEqual(ok?.remote?.kept_worktree, undefined)
        assert.strictEqual(bad?.remote?.kept_worktree, "/ws/worktrees/bad-kept")
        const said = "runner memory:1 kept this attempt's worktree (runner --keep-failed): /ws/worktrees/bad-kept"
        assert.strictEqual(bad?.summary, `Exited with code 3 — ${said}`)
        const chunks = (yield* logFile(layout.stageLog(2, "bad"))).flatMap((e) => e.type === "exec:chunk" ? [[e.stream, e.data]] : [])
        assert.deepStrictEqual(chunks, [["stderr", `${said}\n`]])
      }).pipe(Effect.provide(AppMemory({ pipelines: { user: [stages] }, cloudExecutor: Layer.succeed(CloudExecutor, Context.get(cloud, CloudExecutor)) })))
    }).pipe(Effect.scoped))

  it.live("runner --keep-failed: a stage that could not start in its worktree names the kept worktree in its failure", () =>
    Effect.gen(function*() {
      const keeping = keepingRunner({ "cd-less": { spawnError: "spawn /bin/sh ENOENT (its cwd is not in the commit)" } })
      const cloud = yield* Layer.build(ClusterExecutorLive().pipe(Layer.provideMerge(keeping)))
      const stages = pipeline("unstartable", [commandStage("nostart", "cd-less", { allowFailure: true })])
      yield* Effect.gen(function*() {
        const { layout } = yield* (yield* RunEngine).start({ taskId: "cluster-task", pipelineId: "unstartable", executionMode: "cloud" })
        const [entry] = (yield* manifestFile(layout.manifest)).commands
        // Before: the reason alone; the kept worktree only in the runner's log.
        assert.include(entry?.summary ?? "", "(its cwd is not in the commit); its worktree is kept (runner --keep-failed): /ws/worktrees/nostart-kept")
      }).pipe(Effect.provide(AppMemory({ pipelines: { user: [stages] }, cloudExecutor: Layer.succeed(CloudExecutor, Context.get(cloud, CloudExecutor)) })))
    }).pipe(Effect.scoped))

  it.live("a redelivered attempt: its summary is the output of the delivery that ended it; the log keeps both", () =>
    Effect.gen(function*() {
      // As the cluster executor hands on a stage whose runner stopped mid-stage (the runner's SIGINT
      // or kill -9): the first delivery's start and output, then the second's. Seen by hand: the
      // summary said "start on localhost:34502" of a stage that ran to its end on localhost:34501.
      const bytes = (text: string) => Chunk.of(new TextEncoder().encode(text))
      const redelivered = executorFromRun("cluster", (_request, onEvent) =>
        Effect.gen(function*() {
          yield* onEvent({ _tag: "Started", pid: undefined, remote: { runner: "runner-b", host: "h" } })
          yield* onEvent({ _tag: "Output", stream: "stdout", chunks: bytes("start on runner-b\n") })
          yield* onEvent({ _tag: "Output", stream: "stderr", chunks: bytes("warm-up on runner-b\n") })
          yield* onEvent({ _tag: "Started", pid: undefined, remote: { runner: "runner-a", host: "h" } })
          yield* onEvent({ _tag: "Output", stream: "stdout", chunks: bytes("start on runner-a\nend\n") })
          yield* onEvent({ _tag: "Exited", exit: { exitCode: 0, signal: null }, remote: { runner: "runner-a", host: "h" } })
          return { exitCode: 0, signal: null }
        }))
      const app = AppMemory({ pipelines: { user: [pipeline("long", [commandStage("l", "long job")])] }, cloudExecutor: Layer.succeed(CloudExecutor, redelivered) })
      yield* Effect.gen(function*() {
        const { layout } = yield* (yield* RunEngine).start({ taskId: "cluster-task", pipelineId: "long", executionMode: "cloud" })
        const [entry] = (yield* manifestFile(layout.manifest)).commands
        assert.strictEqual(entry?.summary, "start on runner-a\nend")
        assert.deepStrictEqual(entry?.remote?.deliveries?.map((d) => d.runner), ["runner-b", "runner-a"])
        const chunks = (yield* logFile(layout.stageLog(1, "l"))).flatMap((e) => e.type === "exec:chunk" ? [e.data] : [])
        assert.deepStrictEqual(chunks, ["start on runner-b\n", "warm-up on runner-b\n", "start on runner-a\nend\n"])
      }).pipe(Effect.provide(app))
    }))
})
