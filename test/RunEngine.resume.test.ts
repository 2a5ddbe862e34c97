/**
 * RunEngine `status`, `watch` and `resume` on the deterministic test kit: scripted processes, an
 * in-memory run store and TestClock. SPEC RUN-8, RUN-9, CLI-6, CLI-7, CFG-11; DECISIONS D-7, D-8, D-9.
 *
 * Crashed runs (a run whose orchestrator vanished mid-stage) cannot be produced by the engine itself:
 * interrupting a run records it `cancelled` (D-8). They are written with RunStore.create instead, as
 * a manifest `in_progress` whose heartbeat stopped, plus an owner record.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Ref, Schema, Stream, TestClock } from "effect"
import { CliManifest, RunOwner as RunOwnerRecord, type RunOwner, StatusManifest } from "../src/domain/Manifest.js"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import { makeRunLayout, type RunLayout } from "../src/domain/RunLayout.js"
import { AppMemory, type MemoryAppOptions, type ScriptedProcess } from "../src/layers/App.js"
import { HostMemory } from "../src/layers/Host.js"
import { InstructionsMemory } from "../src/layers/Instructions.js"
import { PromptPacksMemory } from "../src/layers/PromptPacks.js"
import { PrompterScripted } from "../src/layers/Prompter.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessInvocations, ProcessRunnerMemory } from "../src/layers/ProcessRunner.js"
import { orchestrationLayer } from "../src/layers/App.js"
import { CloudSyncDisabled } from "../src/layers/CloudSync.js"
import { ControlPlaneMemory } from "../src/layers/ControlPlane.js"
import { LearningMemory } from "../src/layers/Learning.js"
import { RunReaderLive } from "../src/layers/RunReader.js"
import { InMemoryFiles } from "../src/layers/Files.js"
import { RunStoreMemory } from "../src/layers/RunStore.js"
import { Host } from "../src/services/Host.js"
import { OrchestratorConfig } from "../src/services/OrchestratorConfig.js"
import { PipelineCatalog } from "../src/services/PipelineCatalog.js"
import { RunEngine, type ResumeRequest, type StartRequest, type StatusView } from "../src/services/RunEngine.js"
import { type RunFiles, RunStore } from "../src/services/RunStore.js"
import { decodeJson, fileText, listFiles, manifestFile, onlyManifestPath } from "./support/files.js"
import { queuedManifest } from "./support/manifests.js"
import { at, commandStage, nestedStage, pipeline } from "./support/pipelines.js"
import { EntropySeeded } from "../src/layers/Entropy.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

/** Three stages; `./second` fails on its first run and succeeds (after 10 s) on every later one. */
const flow = pipeline("flow", [
  commandStage("first", "echo first"),
  commandStage("second", "./second"),
  commandStage("third", "echo third")
])

/** Matches the manifest of test/support/manifests.ts (one stage `hello`). */
const trivial = pipeline("trivial", [commandStage("hello", "echo hello", { title: "Say hello" })], {
  title: "Trivial Pipeline"
})

const abc = pipeline("abc", [commandStage("a", "echo a"), commandStage("b", "echo b"), commandStage("c", "echo c")])

const scripts = {
  "echo first": { output: [{ stream: "stdout", data: "first\n" }] },
  "./second": [
    { output: [{ stream: "stderr", data: "broken\n" }], exitCode: 2 },
    { output: [{ stream: "stdout", data: "fixed\n" }], duration: "10 seconds" }
  ],
  "echo third": { output: [{ stream: "stdout", data: "third\n" }] },
  "echo hello": { output: [{ stream: "stdout", data: "hello\n" }], duration: "2 seconds" },
  "echo a": { output: [{ stream: "stdout", data: "a\n" }] },
  "echo b": { output: [{ stream: "stdout", data: "b\n" }], duration: "1 second" },
  "echo c": { output: [{ stream: "stdout", data: "c\n" }] }
} satisfies Record<string, ScriptedProcess | ReadonlyArray<ScriptedProcess>>

const app = (
  pipelines: ReadonlyArray<PipelineDefinition>,
  options: Omit<MemoryAppOptions, "pipelines"> = {}
) => AppMemory({ scripts, ...options, pipelines: { user: pipelines } })

/** A run id of the ID-2 form, for runs written directly into the store. */
const crashedRunId = "1970-01-01T00-00-00-000Z-deadbeef"

// ---------------------------------------------------------------------------------------------
// An instrumented kit: the same engine, with a catalog the test can edit, every manifest state
// the resumed run wrote, and an optional rendezvous that holds resumes until all have arrived.

class Probe extends Context.Tag("test/RunEngineResumeProbe")<
  Probe,
  {
    /** Replaces the pipelines of codex.orchestrator.json (as if the user edited it). */
    readonly setPipelines: (pipelines: ReadonlyArray<PipelineDefinition>) => Effect.Effect<void>
    /** Each distinct manifest file content, in order, after every update of a run taken over by resume. */
    readonly manifestWrites: Effect.Effect<ReadonlyArray<string>>
  }
>() {}

interface ProbeOptions {
  readonly scripts?: MemoryAppOptions["scripts"]
  readonly host?: MemoryAppOptions["host"]
  /**
   * Two resumes at the same moment: holds each `readOwner` until this many callers have reached it,
   * either before the owner is read (each has read only the manifest) or right after.
   */
  readonly rendezvous?: { readonly parties: number; readonly at: "beforeOwnerRead" | "afterOwnerRead" }
  /** Runs once, as the first takeover claim is made (what another process does in that instant). */
  readonly atFirstClaim?: (store: RunStore["Type"]) => Effect.Effect<void, unknown>
}

const probeLayer = (initial: ReadonlyArray<PipelineDefinition>, options: ProbeOptions) =>
  Layer.effectContext(Effect.gen(function*() {
    const inner = yield* RunStore
    const inspect = yield* InMemoryFiles
    const pipelines = yield* Ref.make(initial)
    const writes = yield* Ref.make<ReadonlyArray<string>>([])
    const arrived = yield* Ref.make(0)
    const everyoneArrived = yield* Deferred.make<void>()

    const gate = options.rendezvous === undefined ? Effect.void : Effect.gen(function*() {
      const count = yield* Ref.updateAndGet(arrived, (n) => n + 1)
      if (count >= (options.rendezvous?.parties ?? 0)) yield* Deferred.succeed(everyoneArrived, undefined)
      yield* Deferred.await(everyoneArrived)
    })

    const record = (layout: RunLayout) =>
      Effect.flatMap(inspect.read(layout.manifest), (text) =>
        text === undefined
          ? Effect.void
          : Ref.update(writes, (all) => all[all.length - 1] === text ? all : [...all, text]))

    const recorded = (files: RunFiles): RunFiles => ({
      ...files,
      update: (change, updateOptions) => Effect.tap(files.update(change, updateOptions), () => record(files.layout))
    })

    const claims = yield* Ref.make(0)
    const firstClaim = (store: RunStore["Type"]) =>
      Effect.flatMap(Ref.getAndUpdate(claims, (n) => n + 1), (n) =>
        n === 0 && options.atFirstClaim !== undefined ? Effect.orDie(options.atFirstClaim(store)) : Effect.void)
    const store: RunStore["Type"] = RunStore.of({
      ...inner,
      claimTakeover: (layout, previous, claimant, isAlive) =>
        Effect.zipRight(firstClaim(store), inner.claimTakeover(layout, previous, claimant, isAlive)),
      open: (layout) => Effect.map(inner.open(layout), recorded),
      readOwner: (layout) =>
        options.rendezvous?.at === "afterOwnerRead"
          ? Effect.zipLeft(inner.readOwner(layout), gate)
          : Effect.zipRight(gate, inner.readOwner(layout))
    })
    const catalog = PipelineCatalog.of({
      taskMetadata: (taskId) => Effect.succeed({ slug: taskId, title: `Task ${taskId}` }),
      notifyTargets: Effect.succeed([]),
      load: Effect.map(Ref.get(pipelines), (user) => ({
        configPath: "codex.orchestrator.json",
        configFound: true,
        user,
        defaultPipeline: undefined,
        builtins: []
      }))
    })
    const probe = Probe.of({
      setPipelines: (next) => Ref.set(pipelines, next),
      manifestWrites: Ref.get(writes)
    })
    return Context.make(RunStore, store).pipe(Context.add(PipelineCatalog, catalog), Context.add(Probe, probe))
  }))

/** AppMemory's graph with the probe between the in-memory store and the engine. */
const probedApp = (pipelines: ReadonlyArray<PipelineDefinition>, options: ProbeOptions = {}) =>
  orchestrationLayer().pipe(
    Layer.provideMerge(Layer.mergeAll(CloudSyncDisabled, ControlPlaneMemory(), LearningMemory({ enabled: false }))),
    Layer.provideMerge(RunReaderLive),
    Layer.provideMerge(probeLayer(pipelines, options)),
    Layer.provideMerge(Layer.mergeAll(
      ProcessRunnerMemory(options.scripts ?? scripts),
      RunStoreMemory(),
      HostMemory(options.host),
      PrompterScripted(),
      InstructionsMemory({}),
      PromptPacksMemory({})
    )),
    Layer.provideMerge(OrchestratorConfigTest("/repo")),
    Layer.provideMerge(EntropySeeded(0)),
    Layer.provideMerge(Path.layer)
  )

// ---------------------------------------------------------------------------------------------
// Helpers

/** Lets `time` pass on the TestClock and returns the outcome of `effect`, which must be done by then. */
const settled = <A, E, R>(effect: Effect.Effect<A, E, R>, time: Duration.DurationInput = "1 minute") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(time)
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), `not finished within ${Duration.format(time)}`)
    return yield* Fiber.join(fiber)
  })

const startSettled = (request: StartRequest, time?: Duration.DurationInput) =>
  Effect.flatMap(RunEngine, (engine) => settled(engine.start(request), time))

const resumeSettled = (request: ResumeRequest, time?: Duration.DurationInput) =>
  Effect.flatMap(RunEngine, (engine) => settled(engine.resume(request), time))

/**
 * The failure of an effect expected to fail before it runs anything; a resume that was wrongly
 * accepted is interrupted (it would wait on the TestClock forever) and fails the test.
 */
const refused = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(0)
    const exit = yield* Fiber.poll(fiber)
    if (Option.isNone(exit)) {
      yield* Fiber.interrupt(fiber)
      return assert.fail("expected a refusal, but it went on running")
    }
    if (Exit.isSuccess(exit.value)) return assert.fail("expected a refusal, but it succeeded")
    return yield* Effect.flip(exit.value)
  })

const invokedCommands = Effect.flatMap(ProcessInvocations, (p) => p.all).pipe(
  Effect.map((all) => all.map((spec) => spec.command))
)

/** How many times each command ran. */
const invocationCounts = Effect.map(invokedCommands, (all) => {
  const counts: Record<string, number> = {}
  for (const command of all) counts[command] = (counts[command] ?? 0) + 1
  return counts
})

/** Every file of the in-memory store with its content. */
const snapshot = Effect.gen(function*() {
  const files = yield* InMemoryFiles
  const paths = yield* files.list
  return yield* Effect.forEach(paths, (path) => Effect.map(files.read(path), (text) => [path, text] as const))
})

/** The paths whose content differs from `before` (added, removed or changed). */
const changedSince = (before: ReadonlyArray<readonly [string, string | undefined]>) =>
  Effect.map(snapshot, (after) => {
    const old = new Map(before)
    const now = new Map(after)
    return [...new Set([...old.keys(), ...now.keys()])].filter((path) => old.get(path) !== now.get(path)).sort()
  })

/** The run id of the only CLI run of task 0101 (for runs whose outcome is not back yet). */
const onlyRunId = Effect.map(onlyManifestPath("0101"), (path) => path.split("/").at(-2) ?? "")

const runLayout = (runId: string, taskId = "0101") =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig
    return makeRunLayout(path, config.roots, taskId, runId)
  })

/**
 * A run of `trivial` as an orchestrator left it: the manifest (status `in_progress` and the stage
 * `running` unless overridden, heartbeat at `heartbeatAt`), and `.owner.json` when `owner` is given.
 */
const writeRun = (options: {
  readonly runId?: string
  readonly heartbeatAt: number
  readonly owner?: Omit<RunOwner, "since">
  readonly manifest?: Partial<CliManifest>
}) =>
  Effect.gen(function*() {
    const runId = options.runId ?? crashedRunId
    const layout = yield* runLayout(runId)
    const base = queuedManifest(layout, "0101", runId, at(0))
    const manifest: CliManifest = {
      ...base,
      status: "in_progress",
      heartbeat_at: at(options.heartbeatAt),
      updated_at: at(options.heartbeatAt),
      commands: base.commands.map((c) => ({ ...c, status: "running" as const, started_at: at(0) })),
      ...options.manifest
    }
    const files = yield* (yield* RunStore).create(layout, manifest)
    if (options.owner !== undefined) yield* files.writeOwner({ ...options.owner, since: at(0) })
    return { layout, manifest }
  })

/**
 * A crashed run of `parent` (prep done, its nested stage `child` running in child run `childId`, its
 * orchestrator pid 777) and that child run of `kid` as `child` describes it (its stage `work` running).
 */
const writeNestedCrash = (childId: string, child: { readonly heartbeatAt: number; readonly owner: Omit<RunOwner, "since">; readonly manifest?: Partial<CliManifest> }) =>
  Effect.gen(function*() {
    const [template] = (yield* writeRun({ runId: childId, heartbeatAt: 0 })).manifest.commands
    assert.isDefined(template)
    const entry = { ...template!, started_at: at(0) }
    yield* writeRun({
      runId: childId,
      heartbeatAt: child.heartbeatAt,
      owner: child.owner,
      manifest: {
        pipeline_id: "kid",
        parent_run_id: crashedRunId,
        commands: [{ ...entry, id: "work", title: "Stage work", command: "./work", status: "running" }],
        ...child.manifest
      }
    })
    yield* writeRun({
      heartbeatAt: 0,
      owner: { pid: 777, host: "test-host" },
      manifest: {
        pipeline_id: "parent",
        commands: [
          { ...entry, id: "prep", title: "Stage prep", command: "echo a", status: "succeeded", completed_at: at(0), exit_code: 0 },
          { ...entry, index: 2, id: "child", title: "Stage child", command: null, kind: "subpipeline", status: "running", sub_run_id: childId }
        ]
      }
    })
  })

/**
 * A crashed run of `parent` whose nested stage `child` runs child run `childId` (pipeline `mid`), whose
 * own nested stage `inner` runs `innerRunId`; both left by the crashed orchestrator, pid 777.
 */
const writeTwoLevelCrash = (entry: CliManifest["commands"][number], childId: string, innerRunId: string, child: Partial<CliManifest> = {}) =>
  Effect.gen(function*() {
    const nested = { ...entry, command: null, kind: "subpipeline" as const, status: "running" as const }
    yield* writeRun({
      runId: childId,
      heartbeatAt: 0,
      owner: { pid: 777, host: "test-host" },
      manifest: {
        pipeline_id: "mid",
        parent_run_id: crashedRunId,
        commands: [{ ...nested, id: "inner", title: "Stage inner", sub_run_id: innerRunId }],
        ...child
      }
    })
    yield* writeRun({
      heartbeatAt: 0,
      owner: { pid: 777, host: "test-host" },
      manifest: { pipeline_id: "parent", commands: [{ ...nested, id: "child", title: "Stage child", sub_run_id: childId }] }
    })
  })

/** Overwrites the run folder's `.resume-token` and leaves the manifest's resume_token as it was. */
const tamperResumeToken = (layout: RunLayout, token: string) =>
  Effect.gen(function*() {
    const store = yield* RunStore
    const original = yield* store.read(layout)
    const files = yield* store.create(layout, { ...original, resume_token: token })
    yield* files.update(() => original, { force: true })
    assert.strictEqual(yield* fileText(layout.resumeToken), `${token}\n`)
    assert.strictEqual((yield* manifestFile(layout.manifest)).resume_token, original.resume_token)
  })

/** Collects a watch with the TestClock time of each emission. */
const timedWatch = (runId: string, interval: Duration.DurationInput) =>
  Effect.flatMap(RunEngine, (engine) =>
    engine.watch({ runId }, Duration.decode(interval)).pipe(
      Stream.mapEffect((view) => Effect.map(TestClock.currentTimeMillis, (ms) => ({ ms, view }))),
      Stream.runCollect,
      Effect.map(Chunk.toReadonlyArray)
    ))

const failedFlowRun = startSettled({ pipelineId: "flow" })

/** What status reads of a manifest: the StatusManifest fields, nothing else. */
const statusPart = (manifest: CliManifest) => Schema.decodeUnknownSync(StatusManifest)(manifest)

// ---------------------------------------------------------------------------------------------

describe("RunEngine.status (CLI-7, D-9)", () => {
  it.effect("reads a finished run as written and never writes", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "flow" })
      const before = yield* snapshot
      yield* TestClock.adjust("1 hour")
      const view = yield* (yield* RunEngine).status({ runId: manifest.run_id })
      assert.deepStrictEqual(yield* changedSince(before), [], "status changed a file")

      assert.deepStrictEqual(view.manifest, statusPart(yield* manifestFile(layout.manifest)))
      assert.strictEqual(view.manifest.status, "failed")
      assert.strictEqual(view.layout.manifest, layout.manifest)
      assert.isFalse(view.stale, "a finished run is never stale")
      assert.deepStrictEqual([view.owner?.pid, view.owner?.host, view.owner?.since], [4242, "test-host", at(0)])
    }).pipe(Effect.provide(app([flow]))))

  it.effect("reads a running run without writing, and heartbeats keep it fresh (RUN-8)", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "long" }))
      // Between two heartbeats, so that any write by status would show in updated_at.
      yield* TestClock.adjust("22 seconds")
      const runId = yield* onlyRunId

      const before = yield* snapshot
      const view = yield* engine.status({ runId })
      assert.deepStrictEqual(yield* changedSince(before), [], "status changed a file")
      assert.strictEqual(view.manifest.status, "in_progress")
      assert.strictEqual(view.manifest.commands[0]?.status, "running")
      assert.strictEqual(view.manifest.heartbeat_at, at(20000))
      assert.isFalse(view.stale)

      // Well past heartbeat_stale_after_seconds since the start, but the heartbeat is recent.
      yield* TestClock.adjust("40 seconds")
      const later = yield* engine.status({ runId })
      assert.strictEqual(later.manifest.heartbeat_at, at(60000))
      assert.isFalse(later.stale)

      yield* TestClock.adjust("40 seconds")
      const { manifest } = yield* Fiber.join(fiber)
      assert.strictEqual(manifest.status, "succeeded")
    }).pipe(Effect.provide(app([pipeline("long", [commandStage("work", "./work")])], {
      scripts: { "./work": { duration: "100 seconds" } }
    }))))

  it.effect("reads only its part of the manifest: a damaged section elsewhere still shows the status, resume names the field", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "flow" })
      const files = yield* InMemoryFiles
      const damaged = { ...JSON.parse((yield* files.read(layout.manifest)) ?? "{}"), control_plane: { drift: "broken" } }
      yield* files.write(layout.manifest, JSON.stringify(damaged))
      const engine = yield* RunEngine

      const view = yield* engine.status({ runId: manifest.run_id })
      assert.deepStrictEqual(view.manifest, statusPart(manifest))

      const error = yield* Effect.flip(engine.resume({ runId: manifest.run_id }))
      assert(error._tag === "InvalidFile", error._tag)
      assert.include(error.message, `${layout.relative(layout.manifest)} is not valid: control_plane`)

      // A damaged field status shows is reported as such.
      yield* files.write(layout.manifest, JSON.stringify({ ...damaged, commands: [{ id: 1 }] }))
      const statusError = yield* Effect.flip(engine.status({ runId: manifest.run_id }))
      assert(statusError._tag === "InvalidFile", statusError._tag)
      assert.include(statusError.message, "commands.0.")
    }).pipe(Effect.provide(app([flow]))))

  it.effect("an unknown run is RunNotFound naming the task and the runs folder; nothing is written", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const error = yield* Effect.flip(engine.status({ runId: "2020-01-01T00-00-00-000Z-00000000", taskId: "demo-task" }))
      assert(error._tag === "RunNotFound")
      assert.strictEqual(error.runId, "2020-01-01T00-00-00-000Z-00000000")
      assert.strictEqual(error.taskId, "demo-task")
      assert.strictEqual(error.runsDir, ".runs/demo-task/cli")
      assert.include(error.message, "'2020-01-01T00-00-00-000Z-00000000'")
      assert.include(error.message, "task 'demo-task'")
      assert.include(error.message, ".runs/demo-task/cli")

      const byEnvTask = yield* Effect.flip(engine.status({ runId: "nope" }))
      assert(byEnvTask._tag === "RunNotFound")
      assert.include(byEnvTask.message, "task '0101'")
      assert.include(byEnvTask.message, ".runs/0101/cli")

      assert.deepStrictEqual(yield* listFiles, [])
    }).pipe(Effect.provide(app([flow]))))

  it.effect("an invalid run id is InvalidId (ID-3), for status, watch and resume", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const error = yield* Effect.flip(engine.status({ runId: "../x" }))
      assert(error._tag === "InvalidId")
      assert.strictEqual(error.label, "run")
      assert.strictEqual(error.value, "../x")
      assert.isTrue(error.message.startsWith("Invalid run ID \"../x\": leading dots are not allowed."), error.message)

      const watched = yield* Effect.flip(Stream.runCollect(engine.watch({ runId: "../x" }, Duration.seconds(1))))
      assert.strictEqual(watched._tag, "InvalidId")
      const resumed = yield* refused(engine.resume({ runId: "a/b" }))
      assert(resumed._tag === "InvalidId")
      assert.strictEqual(resumed.reason, "slashes are not allowed.")
      assert.deepStrictEqual(yield* listFiles, [])
    }).pipe(Effect.provide(app([flow]))))

  it.effect("stale (D-9): a non-terminal run whose heartbeat is older than heartbeat_stale_after_seconds", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      yield* writeRun({ heartbeatAt: 0 })
      yield* writeRun({ runId: "short-stale", heartbeatAt: 0, manifest: { heartbeat_stale_after_seconds: 10 } })
      yield* writeRun({ runId: "queued-run", heartbeatAt: 0, manifest: { status: "queued" } })
      const stale = (runId: string) => Effect.map(engine.status({ runId }), (view) => view.stale)

      yield* TestClock.adjust("10 seconds")
      assert.isFalse(yield* stale(crashedRunId))
      assert.isFalse(yield* stale("short-stale"), "10 s old is not older than 10 s")
      yield* TestClock.adjust("1 millis")
      assert.isTrue(yield* stale("short-stale"), "the manifest's own heartbeat_stale_after_seconds applies")
      assert.isFalse(yield* stale(crashedRunId))

      yield* TestClock.adjust(Duration.millis(20_000 - 1))
      assert.isFalse(yield* stale(crashedRunId), "exactly 30 s old is not older than 30 s")
      yield* TestClock.adjust("1 millis")
      assert.isTrue(yield* stale(crashedRunId))
      assert.isTrue(yield* stale("queued-run"))
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("a finished run is never stale, however old its heartbeat", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      for (const status of ["succeeded", "failed", "cancelled"] as const) {
        yield* writeRun({ runId: `done-${status}`, heartbeatAt: 0, manifest: { status, completed_at: at(0) } })
      }
      yield* TestClock.adjust("1 day")
      for (const status of ["succeeded", "failed", "cancelled"] as const) {
        const view = yield* engine.status({ runId: `done-${status}` })
        assert.strictEqual(view.manifest.status, status)
        assert.isFalse(view.stale, status)
      }
    }).pipe(Effect.provide(app([trivial]))))
})

// ---------------------------------------------------------------------------------------------

describe("RunEngine.watch (CLI-7)", () => {
  it.effect("emits the first view at once, then only changes, and ends with the finished run", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const run = yield* Effect.fork(engine.start({ pipelineId: "long" }))
      yield* TestClock.adjust(0)
      const runId = yield* onlyRunId
      const watch = yield* Effect.fork(timedWatch(runId, "1 second"))
      yield* TestClock.adjust(0)

      yield* TestClock.adjust("29 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(watch)), "the watch ended before the run did")
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(Option.isSome(yield* Fiber.poll(watch)), "the watch did not end after the run finished")
      const emitted = yield* Fiber.join(watch)
      const { manifest } = yield* Fiber.join(run)

      const first = emitted[0]
      assert.strictEqual(first?.ms, 0, "the first view comes at once")
      assert.strictEqual(first?.view.manifest.status, "in_progress")
      assert.strictEqual(first?.view.manifest.commands[0]?.status, "running")

      // Only changes: no two emitted views in a row are the same manifest.
      for (const [i, current] of emitted.entries()) {
        const previous = emitted[i - 1]
        if (previous === undefined) continue
        assert.notDeepEqual(current.view.manifest, previous.view.manifest, `emission ${i}`)
      }
      // 32 polls; the manifest changed at the start, at 5 heartbeats and at the end.
      assert.strictEqual(emitted.length, 7, emitted.map((e) => `${e.ms}:${e.view.manifest.heartbeat_at}`).join(" "))

      const last = emitted[emitted.length - 1]
      assert.strictEqual(last?.view.manifest.status, "succeeded")
      // status reads its part of the manifest: exactly that part of the final one.
      assert.deepStrictEqual(last?.view.manifest, statusPart(manifest))
      assert.isTrue((last?.ms ?? 0) >= 30000 && (last?.ms ?? 0) <= 31000, `the last view came at ${last?.ms}`)
      assert.strictEqual(emitted.filter((e) => e.view.manifest.status === "succeeded").length, 1)
    }).pipe(Effect.provide(app([pipeline("long", [commandStage("work", "./work")])], {
      scripts: { "./work": { duration: "30 seconds" } }
    }))))

  it.effect("polls without emitting while nothing changes", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const run = yield* Effect.fork(engine.start({ pipelineId: "long" }))
      yield* TestClock.adjust(0)
      const runId = yield* onlyRunId
      const watch = yield* Effect.fork(timedWatch(runId, "1 second"))
      yield* TestClock.adjust("25 seconds")
      const done = yield* Fiber.poll(watch)
      if (Option.isNone(done)) yield* Fiber.interrupt(watch)
      assert.isTrue(Option.isSome(done), "the watch did not end after the run finished")
      const emitted = yield* Fiber.join(watch)
      yield* Fiber.join(run)
      // No heartbeat within the 20 s stage: the manifest changed only when the run ended.
      assert.deepStrictEqual(emitted.map((e) => e.view.manifest.status), ["in_progress", "succeeded"])
      assert.strictEqual(emitted[0]?.ms, 0)
      assert.isTrue((emitted[1]?.ms ?? 0) >= 20000 && (emitted[1]?.ms ?? 0) <= 21000, `${emitted[1]?.ms}`)
    }).pipe(Effect.provide(app([pipeline("long", [commandStage("work", "./work")])], {
      scripts: { "./work": { duration: "20 seconds" } },
      settings: { heartbeatInterval: Duration.minutes(1) }
    }))))

  it.effect("a run going stale is a change; a run that never finishes is watched until interrupted", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0 })
      const views = yield* Ref.make<ReadonlyArray<{ readonly ms: number; readonly view: StatusView }>>([])
      const watch = yield* (yield* RunEngine).watch({ runId: crashedRunId }, Duration.seconds(1)).pipe(
        Stream.runForEach((view) =>
          Effect.flatMap(TestClock.currentTimeMillis, (ms) => Ref.update(views, (all) => [...all, { ms, view }]))
        ),
        Effect.fork
      )
      yield* TestClock.adjust("2 minutes")
      assert.isTrue(Option.isNone(yield* Fiber.poll(watch)), "a run that never finishes keeps being watched")
      assert.isTrue(Exit.isInterrupted(yield* Fiber.interrupt(watch)))
      const emitted = yield* Ref.get(views)
      assert.deepStrictEqual(emitted.map((e) => [e.ms, e.view.stale]), [[0, false], [31000, true]])
      assert.deepStrictEqual(emitted[0]?.view.manifest, emitted[1]?.view.manifest)
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("a finished run: one view, then the stream ends", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      const emitted = yield* settled(timedWatch(manifest.run_id, "10 seconds"), 0)
      assert.strictEqual(emitted.length, 1)
      assert.deepStrictEqual(emitted[0]?.view.manifest, statusPart(manifest))
    }).pipe(Effect.provide(app([flow]))))

  it.effect("ends even when the final write lands in the same millisecond as the previous view", () =>
    Effect.gen(function*() {
      const { layout } = yield* writeRun({ heartbeatAt: 0 })
      const files = yield* (yield* RunStore).open(layout)
      const sawStageEnd = yield* Deferred.make<void>()
      const views = yield* Ref.make<ReadonlyArray<{ readonly ms: number; readonly view: StatusView }>>([])

      const watch = yield* (yield* RunEngine).watch({ runId: crashedRunId }, Duration.seconds(1)).pipe(
        Stream.runForEach((view) =>
          Effect.flatMap(TestClock.currentTimeMillis, (ms) => Ref.update(views, (all) => [...all, { ms, view }])).pipe(
            Effect.zipRight(
              view.manifest.commands[0]?.status === "succeeded" ? Deferred.succeed(sawStageEnd, undefined) : Effect.void
            )
          )
        ),
        Effect.fork
      )
      yield* TestClock.adjust(0)

      // The orchestrator, at t=1 s: a stage ends (one write), then the run is finalized (another
      // write) in the same millisecond, and the watcher happens to poll between the two writes.
      const writer = yield* Effect.fork(Effect.gen(function*() {
        yield* Effect.sleep("1 second")
        yield* files.update((m) => ({
          ...m,
          commands: m.commands.map((c) => ({ ...c, status: "succeeded" as const, completed_at: at(1000) }))
        }), { force: true })
        yield* Deferred.await(sawStageEnd)
        yield* files.update((m) => ({ ...m, status: "succeeded", completed_at: at(1000) }), { force: true })
      }))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(writer)

      // The scenario happened: the stage-end view was emitted at 1 s, and the final write has the same updated_at.
      const final = yield* manifestFile(layout.manifest)
      assert.strictEqual(final.status, "succeeded")
      assert.strictEqual(final.updated_at, at(1000))
      const seen = yield* Ref.get(views)
      assert.deepStrictEqual(seen.slice(0, 2).map((e) => [e.ms, e.view.manifest.status, e.view.manifest.commands[0]?.status]), [
        [0, "in_progress", "running"],
        [1000, "in_progress", "succeeded"]
      ])

      const done = yield* Fiber.poll(watch)
      if (Option.isNone(done)) yield* Fiber.interrupt(watch)
      assert.deepStrictEqual(
        (yield* Ref.get(views)).map((e) => e.view.manifest.status),
        ["in_progress", "in_progress", "succeeded"],
        "the finished run was never emitted"
      )
      assert.isTrue(Option.isSome(done), "the watch did not end after the run finished")
    }).pipe(Effect.provide(app([trivial]))))

  it.effect("an unknown run fails the stream with RunNotFound", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Stream.runCollect((yield* RunEngine).watch({ runId: "missing" }, Duration.seconds(1))))
      assert.strictEqual(error._tag, "RunNotFound")
    }).pipe(Effect.provide(app([flow]))))
})

// ---------------------------------------------------------------------------------------------

describe("RunEngine.resume (RUN-9, D-7)", () => {
  it.effect("re-runs only the failed stage and the ones after it, on the same run", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const started = yield* failedFlowRun
      const runId = started.manifest.run_id
      assert.strictEqual(started.manifest.status, "failed")
      assert.strictEqual(started.manifest.status_detail, "stage:second:failed")
      const failedErrorFile = started.manifest.commands[1]?.error_file ?? null
      assert.isNotNull(failedErrorFile)

      const fiber = yield* Effect.fork(engine.resume({ runId, actor: "alice", reason: "flaky network" }))
      yield* TestClock.adjust("4 seconds")
      const midway = yield* manifestFile(started.layout.manifest)
      assert.strictEqual(midway.status, "in_progress")
      assert.strictEqual(midway.status_detail, null, "D-7: resuming ends when the first re-run stage starts")
      assert.strictEqual(midway.completed_at, null)
      assert.strictEqual(midway.guardrail_status, undefined)
      assert.strictEqual(midway.commands[0]?.status, "succeeded")
      assert.strictEqual(midway.commands[1]?.status, "running")
      assert.strictEqual(midway.commands[1]?.started_at, at(60000))
      assert.strictEqual(midway.commands[2]?.status, "pending")

      yield* TestClock.adjust("6 seconds")
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
      const resumed = yield* Fiber.join(fiber)
      const written = yield* manifestFile(started.layout.manifest)
      assert.deepStrictEqual(written, resumed.manifest)
      assert.strictEqual(resumed.layout.manifest, started.layout.manifest)

      assert.strictEqual(written.run_id, runId)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.status_detail, null)
      assert.strictEqual(written.started_at, at(0))
      assert.strictEqual(written.completed_at, at(70000))
      // RUN-9: the flag was reset by the resume, and set again when its metrics line was recorded.
      assert.strictEqual(written.metrics_recorded, true)
      assert.strictEqual(written.resume_token, started.manifest.resume_token)
      assert.deepStrictEqual(
        written.commands.map((c) => [c.id, c.status, c.started_at, c.completed_at, c.exit_code, c.error_file]),
        [
          ["first", "succeeded", at(0), at(0), 0, null],
          ["second", "succeeded", at(60000), at(70000), 0, null],
          ["third", "succeeded", at(70000), at(70000), 0, null]
        ],
        "D-7: the stage that now succeeds has no error_file"
      )
      assert.strictEqual(written.commands[1]?.summary, "fixed")

      assert.strictEqual(written.resume_events.length, 1)
      const event = written.resume_events[0]
      assert.strictEqual(event?.actor, "alice")
      assert.strictEqual(event?.reason, "flaky network")
      assert.strictEqual(event?.outcome, "accepted")
      assert.strictEqual(event?.timestamp, at(60000))

      assert.deepStrictEqual(yield* invocationCounts, { "echo first": 1, "./second": 2, "echo third": 1 })
      assert.deepStrictEqual(yield* invokedCommands, ["echo first", "./second", "./second", "echo third"])
      const owner = (yield* engine.status({ runId })).owner
      assert.deepStrictEqual([owner?.pid, owner?.host, owner?.since], [4242, "test-host", at(60000)], "the new owner")
    }).pipe(Effect.provide(app([flow]))))

  it.effect("the actor and reason default to cli and manual-resume (CLI-6)", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      const resumed = yield* resumeSettled({ runId: manifest.run_id })
      assert.deepStrictEqual(
        resumed.manifest.resume_events.map((e) => [e.actor, e.reason, e.outcome]),
        [["cli", "manual-resume", "accepted"]]
      )
    }).pipe(Effect.provide(app([flow]))))

  it.effect("status_detail reads resuming from the takeover until the first re-run stage starts (D-7)", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      yield* resumeSettled({ runId: manifest.run_id })
      const texts = yield* Effect.flatMap(Probe, (probe) => probe.manifestWrites)
      const writes = yield* Effect.forEach(texts, decodeJson(CliManifest))
      assert.isAbove(writes.length, 2)
      const takeover = writes[0]
      assert.strictEqual(takeover?.status, "in_progress")
      assert.strictEqual(takeover?.status_detail, "resuming", "the first write after the takeover")
      assert.strictEqual(takeover?.completed_at, null)
      assert.strictEqual(takeover?.guardrail_status, undefined)
      assert.strictEqual(takeover?.resume_events.length, 1)
      assert.strictEqual(takeover?.commands[1]?.status, "failed", "written before the stage re-runs")

      const stageStart = writes.findIndex((w) => w.commands[1]?.status === "running")
      assert.isAbove(stageStart, 0)
      for (const [i, w] of writes.slice(0, stageStart).entries()) {
        assert.strictEqual(w.status_detail, "resuming", `write ${i}`)
      }
      assert.strictEqual(writes[stageStart]?.status_detail, null)
      assert.isFalse(writes.slice(stageStart).some((w) => w.status_detail === "resuming"))
    }).pipe(Effect.provide(probedApp([flow]))))

  it.effect("a second resume after a resumed run failed again adds a second event", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      const again = yield* resumeSettled({ runId: manifest.run_id, reason: "try 2" })
      assert.strictEqual(again.manifest.status, "failed")
      const last = yield* resumeSettled({ runId: manifest.run_id, reason: "try 3" })
      assert.strictEqual(last.manifest.status, "succeeded")
      assert.deepStrictEqual(last.manifest.resume_events.map((e) => e.reason), ["try 2", "try 3"])
      assert.deepStrictEqual(yield* invocationCounts, { "echo first": 1, "./second": 3, "echo third": 1 })
    }).pipe(Effect.provide(app([flow], {
      scripts: {
        ...scripts,
        "./second": [{ exitCode: 2 }, { exitCode: 2 }, { duration: "1 second" }]
      }
    }))))

  it.effect("resumes a cancelled run to the end (D-8)", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "long" }))
      yield* TestClock.adjust("3 seconds")
      yield* Fiber.interrupt(fiber)
      const path = yield* onlyManifestPath("0101")
      const cancelled = yield* manifestFile(path)
      assert.strictEqual(cancelled.status, "cancelled")
      assert.strictEqual(cancelled.status_detail, "stage:work:cancelled")

      const resumed = yield* resumeSettled({ runId: cancelled.run_id }, "2 minutes")
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.strictEqual(resumed.manifest.status_detail, null)
      assert.strictEqual(resumed.manifest.completed_at, at(63000))
      assert.deepStrictEqual(
        resumed.manifest.commands.map((c) => [c.id, c.status]),
        [["prep", "succeeded"], ["work", "succeeded"], ["after", "succeeded"]]
      )
      assert.deepStrictEqual(yield* invocationCounts, { "echo a": 1, "./work": 2, "echo c": 1 })
    }).pipe(Effect.provide(app([pipeline("long", [
      commandStage("prep", "echo a"),
      commandStage("work", "./work"),
      commandStage("after", "echo c")
    ])], { scripts: { ...scripts, "./work": { duration: "1 minute" } } }))))

  it.effect("an unknown run is RunNotFound", () =>
    Effect.gen(function*() {
      const error = yield* refused((yield* RunEngine).resume({ runId: "missing", taskId: "demo-task" }))
      assert(error._tag === "RunNotFound")
      assert.include(error.message, ".runs/demo-task/cli")
      assert.deepStrictEqual(yield* listFiles, [])
    }).pipe(Effect.provide(app([flow]))))
})

describe("RunEngine.resume: resume token (D-7)", () => {
  it.effect("a --token that does not match is ResumeTokenMismatch (flag); nothing changes", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      const before = yield* snapshot
      const error = yield* refused((yield* RunEngine).resume({ runId: manifest.run_id, token: "0".repeat(64) }))
      assert(error._tag === "ResumeTokenMismatch")
      assert.strictEqual(error.source, "flag")
      assert.strictEqual(error.runId, manifest.run_id)
      assert.include(error.message, "--token")
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* changedSince(before), [])
      assert.deepStrictEqual(yield* invocationCounts, { "echo first": 1, "./second": 1 })
    }).pipe(Effect.provide(app([flow]))))

  it.effect("a tampered .resume-token is ResumeTokenMismatch (file) without --token; nothing changes", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* failedFlowRun
      yield* tamperResumeToken(layout, "f".repeat(64))
      const before = yield* snapshot
      const error = yield* refused((yield* RunEngine).resume({ runId: manifest.run_id }))
      assert(error._tag === "ResumeTokenMismatch")
      assert.strictEqual(error.source, "file")
      assert.include(error.message, ".resume-token")
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* changedSince(before), [])
      assert.deepStrictEqual(yield* invocationCounts, { "echo first": 1, "./second": 1 })
    }).pipe(Effect.provide(app([flow]))))

  it.effect("the right --token resumes even when .resume-token was tampered with", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* failedFlowRun
      yield* tamperResumeToken(layout, "f".repeat(64))
      const resumed = yield* resumeSettled({ runId: manifest.run_id, token: ` ${manifest.resume_token}\n` })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.strictEqual(resumed.manifest.resume_events.length, 1)
    }).pipe(Effect.provide(app([flow]))))
})

describe("RunEngine.resume: one writer per run (D-7)", () => {
  it.effect("a run with a fresh heartbeat and a live owner is RunStillActive naming pid and host", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host" } })
      yield* TestClock.adjust("10 seconds")
      const before = yield* snapshot
      const error = yield* refused((yield* RunEngine).resume({ runId: crashedRunId }))
      assert(error._tag === "RunStillActive")
      assert.strictEqual(error.runId, crashedRunId)
      assert.strictEqual(error.pid, 777)
      assert.strictEqual(error.host, "test-host")
      assert.strictEqual(error.heartbeatAgeSeconds, 10)
      assert.include(error.message, "pid 777 on test-host")
      assert.deepStrictEqual(yield* changedSince(before), [])
      assert.deepStrictEqual(yield* invokedCommands, [])
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [777] } }))))

  it.effect("the crashed run's stage process group, recorded in its owner, is stopped before the stage runs again", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host", stage_pid: 5555 } })
      yield* TestClock.adjust("10 seconds")
      const host = yield* Host
      assert.isTrue(yield* host.isGroupAlive(5555), "the orphaned stage before the resume")
      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.isFalse(yield* host.isGroupAlive(5555), "stopped by the takeover")
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [5555], runGroups: { 5555: crashedRunId } } }))))

  it.effect("every stage group a crashed graph run had running is stopped, not only the last one started", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host", stage_pid: 6666, stage_pids: [5555, 6666] } })
      yield* TestClock.adjust("10 seconds")
      const host = yield* Host
      yield* resumeSettled({ runId: crashedRunId })
      assert.isFalse(yield* host.isGroupAlive(5555), "the first concurrent stage's group")
      assert.isFalse(yield* host.isGroupAlive(6666), "the second's")
    }).pipe(Effect.provide(app([trivial], {
      host: { pid: 4242, alive: [5555, 6666], runGroups: { 5555: crashedRunId, 6666: crashedRunId } }
    }))))

  it.effect("the owner record names the groups of all the stages running at once, and drops those that ended", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId: "pair" }))
      const owner = Effect.gen(function*() {
        const path = (yield* onlyManifestPath("0101")).replace(/manifest\.json$/, ".owner.json")
        return yield* decodeJson(RunOwnerRecord)(yield* fileText(path))
      })
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual([...((yield* owner).stage_pids ?? [])].sort(), [10001, 10002])
      yield* TestClock.adjust("10 seconds")
      // The short stage ended at 5 s; the third started then, beside the long one.
      assert.deepStrictEqual([...((yield* owner).stage_pids ?? [])].sort(), [10002, 10003])
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(app([pipeline("pair", [
      commandStage("short", "work 5"),
      commandStage("long", "work 30"),
      commandStage("after", "work 10", { needs: ["short"] })
    ])], { scripts: { "work 5": { duration: "5 seconds" }, "work 30": { duration: "30 seconds" }, "work 10": { duration: "10 seconds" } } }))))

  /** Resumes the crashed run whose owner names `stagePid`; returns whether that group is still alive after. */
  const resumeWithStagePid = (stagePid: number) =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host", stage_pid: stagePid } })
      yield* TestClock.adjust("10 seconds")
      const host = yield* Host
      assert.isTrue(yield* host.isGroupAlive(stagePid), "the group before the resume")
      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
      return yield* host.isGroupAlive(stagePid)
    })

  it.effect("a recorded stage group that cannot be shown to belong to the run (a reused pid) is left alone", () =>
    Effect.gen(function*() {
      assert.isTrue(yield* resumeWithStagePid(5555), "a bystander's group must survive")
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [5555], runGroups: { 5555: "another-run" } } }))))

  it.effect("a recorded stage group of 1 or less, or this process's own group, is never signalled, whatever it claims", () =>
    Effect.gen(function*() {
      assert.isTrue(yield* resumeWithStagePid(1), "kill(-1) would signal every process")
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [1], runGroups: { 1: crashedRunId } } }))))

  it.effect("this process's own group is never signalled", () =>
    Effect.gen(function*() {
      assert.isTrue(yield* resumeWithStagePid(4000), "resume would stop itself")
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, group: 4000, alive: [4000], runGroups: { 4000: crashedRunId } } }))))

  it.effect("a negative or zero stage pid is refused by the owner schema or never signalled", () =>
    Effect.gen(function*() {
      assert.isTrue(yield* resumeWithStagePid(0))
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [0], runGroups: { 0: crashedRunId } } }))))

  it.effect("a cancelled run whose orchestrator is still alive (stopping its stage) is refused until its heartbeat is stale", () =>
    Effect.gen(function*() {
      yield* writeRun({
        heartbeatAt: 0,
        owner: { pid: 777, host: "test-host" },
        manifest: { status: "cancelled", status_detail: "stage:hello:cancelled", completed_at: at(0) }
      })
      yield* TestClock.adjust("3 seconds")
      const error = yield* refused((yield* RunEngine).resume({ runId: crashedRunId }))
      assert(error._tag === "RunStillActive")
      assert.strictEqual(error.pid, 777)
      assert.deepStrictEqual(yield* invokedCommands, [])
      // Past heartbeat_stale_after_seconds the pid proves nothing (it may have been reused).
      yield* TestClock.adjust("30 seconds")
      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [777] } }))))

  it.effect("an owner on another machine cannot be checked: a fresh heartbeat is refused", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "build-box" } })
      yield* TestClock.adjust("10 seconds")
      const error = yield* refused((yield* RunEngine).resume({ runId: crashedRunId }))
      assert(error._tag === "RunStillActive")
      assert.strictEqual(error.host, "build-box")
      assert.deepStrictEqual(yield* invokedCommands, [])
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [] } }))))

  it.effect("a fresh heartbeat whose owner's pid is another process now (another start time) is crashed and resumes", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host", started: "1000" } })
      yield* TestClock.adjust("10 seconds")
      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [777], startTimes: { 777: "2000" } } }))))

  it.effect("an owner recorded with its start time is refused while that process lives; the resuming owner records its own", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host", started: "1000" } })
      yield* TestClock.adjust("10 seconds")
      const error = yield* refused((yield* RunEngine).resume({ runId: crashedRunId }))
      assert(error._tag === "RunStillActive")
      assert.strictEqual(error.pid, 777)
      yield* TestClock.adjust("21 seconds")
      yield* resumeSettled({ runId: crashedRunId })
      const { owner } = yield* (yield* RunEngine).status({ runId: crashedRunId })
      assert.deepStrictEqual([owner?.pid, owner?.started], [4242, "4242-start"], "the new owner's start time, for the next resume")
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [777], startTimes: { 777: "1000", 4242: "4242-start" } } }))))

  it.effect("the same run with a dead owner is crashed and resumes", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host" } })
      yield* TestClock.adjust("10 seconds")
      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.deepStrictEqual(resumed.manifest.commands.map((c) => [c.id, c.status]), [["hello", "succeeded"]])
      assert.deepStrictEqual(resumed.manifest.resume_events.map((e) => e.outcome), ["accepted"])
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
      const view = yield* (yield* RunEngine).status({ runId: crashedRunId })
      assert.strictEqual(view.owner?.pid, 4242, "the resuming process is the new owner")
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [] } }))))

  it.effect("a stale heartbeat with a live owner is crashed and resumes", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host" } })
      yield* TestClock.adjust("31 seconds")
      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [777] } }))))

  /** Two resumes of the crashed run `crashedRunId` at once; the outcome of each. */
  const resumeTwiceAtOnce = Effect.gen(function*() {
    yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host" } })
    yield* TestClock.adjust("1 minute")
    const engine = yield* RunEngine
    const both = yield* Effect.fork(Effect.all(
      [
        Effect.either(engine.resume({ runId: crashedRunId, actor: "one" })),
        Effect.either(engine.resume({ runId: crashedRunId, actor: "two" }))
      ],
      { concurrency: "unbounded" }
    ))
    yield* TestClock.adjust("1 minute")
    const results = yield* Fiber.join(both)
    const won = results.flatMap((r) => r._tag === "Right" ? [r.right] : [])
    const lost = results.flatMap((r) => r._tag === "Left" ? [r.left] : [])
    assert.strictEqual(won.length, 1, "exactly one resume may run the run (no two writers)")
    const written = yield* manifestFile(won[0]?.layout.manifest ?? "")
    assert.strictEqual(written.status, "succeeded")
    assert.strictEqual(written.resume_events.length, 1)
    assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
    return lost
  })

  it.effect("two resumes that both read the owner before either claims: one runs, the other is ResumeInProgress", () =>
    Effect.gen(function*() {
      const lost = yield* resumeTwiceAtOnce
      assert.deepStrictEqual(lost.map((e) => e._tag), ["ResumeInProgress"])
      assert.strictEqual(
        lost[0]?.message,
        `Run ${crashedRunId} is being resumed by another orchestrator right now. Check it with: codex-orchestrator status --run ${crashedRunId} --task 0101`
      )
    }).pipe(Effect.provide(probedApp([trivial], {
      host: { pid: 4242, alive: [] },
      rendezvous: { parties: 2, at: "afterOwnerRead" }
    }))))

  it.effect("two resumes that both read the stale manifest before either claims: only one runs", () =>
    Effect.gen(function*() {
      // The second reads the owner after the first has claimed the run and recorded itself as owner,
      // but decides on the manifest it read before: that must not let it take the run over too.
      const lost = yield* resumeTwiceAtOnce
      assert.strictEqual(lost.length, 1)
      assert.include(["ResumeInProgress", "RunStillActive"], lost[0]?._tag)
    }).pipe(Effect.provide(probedApp([trivial], {
      host: { pid: 4242, alive: [] },
      rendezvous: { parties: 2, at: "beforeOwnerRead" }
    }))))

  it.effect("two resumes forked together without any rendezvous: only one runs", () =>
    Effect.gen(function*() {
      const lost = yield* resumeTwiceAtOnce
      assert.strictEqual(lost.length, 1)
      assert.include(["ResumeInProgress", "RunStillActive"], lost[0]?._tag)
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [] } }))))

  it.effect("a resume while another resume is running it is refused", () =>
    Effect.gen(function*() {
      yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host" } })
      yield* TestClock.adjust("1 minute")
      const engine = yield* RunEngine
      const first = yield* Effect.fork(engine.resume({ runId: crashedRunId }))
      yield* TestClock.adjust("1 second")
      const error = yield* refused(engine.resume({ runId: crashedRunId }))
      assert(error._tag === "RunStillActive")
      assert.strictEqual(error.pid, 4242, "the first resume is now the run's live owner")
      assert.strictEqual(error.heartbeatAgeSeconds, 1)
      yield* TestClock.adjust("1 second")
      const { manifest } = yield* Fiber.join(first)
      assert.strictEqual(manifest.status, "succeeded")
      assert.strictEqual(manifest.resume_events.length, 1)
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [] } }))))
})

describe("RunEngine.resume: a resume that died during its takeover (D-7)", () => {
  /** The crashed run, with a takeover claim left by `claimant`, as a resume killed before it recorded itself as owner leaves it. */
  const claimedBy = (claimant: Omit<RunOwner, "since">) =>
    Effect.gen(function*() {
      const { layout } = yield* writeRun({ heartbeatAt: 0, owner: { pid: 777, host: "test-host" } })
      const store = yield* RunStore
      const owner = yield* store.readOwner(layout)
      const claimed = yield* store.claimTakeover(layout, owner, { ...claimant, since: at(0) }, () => Effect.succeed(true))
      assert.isTrue(claimed, "the dying resume's claim")
      return layout
    })

  it.effect("its claim does not block the run once its claimant is dead: the next resume takes the run over", () =>
    Effect.gen(function*() {
      yield* claimedBy({ pid: 888, host: "test-host" })
      yield* TestClock.adjust("10 seconds")
      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
      assert.strictEqual((yield* (yield* RunEngine).status({ runId: crashedRunId })).owner?.pid, 4242)
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [] } }))))

  it.effect("while its claimant is alive and the claim is young, the run is being resumed: refused", () =>
    Effect.gen(function*() {
      yield* claimedBy({ pid: 888, host: "test-host" })
      yield* TestClock.adjust("10 seconds")
      const error = yield* refused((yield* RunEngine).resume({ runId: crashedRunId }))
      assert.strictEqual(error._tag, "ResumeInProgress")
      assert.deepStrictEqual(yield* invokedCommands, [])
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [888] } }))))

  it.effect("a claimant whose pid is another process now (another start time) is dead: the next resume takes the run over", () =>
    Effect.gen(function*() {
      yield* claimedBy({ pid: 888, host: "test-host", started: "1000" })
      yield* TestClock.adjust("10 seconds")
      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [888], startTimes: { 888: "2000" } } }))))

  it.effect("a claim older than a takeover takes is dead whoever holds it (another machine, a reused pid)", () =>
    Effect.gen(function*() {
      yield* claimedBy({ pid: 888, host: "build-box" })
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual((yield* refused((yield* RunEngine).resume({ runId: crashedRunId })))._tag, "ResumeInProgress")
      yield* TestClock.adjust("31 seconds")
      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [888] } }))))

  it.effect("after a dead claimant, two resumes at once: still exactly one runs", () =>
    Effect.gen(function*() {
      const lost = yield* Effect.gen(function*() {
        yield* claimedBy({ pid: 888, host: "test-host" })
        yield* TestClock.adjust("10 seconds")
        const engine = yield* RunEngine
        const both = yield* Effect.fork(Effect.all(
          [Effect.either(engine.resume({ runId: crashedRunId })), Effect.either(engine.resume({ runId: crashedRunId }))],
          { concurrency: "unbounded" }
        ))
        yield* TestClock.adjust("1 minute")
        const results = yield* Fiber.join(both)
        assert.strictEqual(results.filter((r) => r._tag === "Right").length, 1, "exactly one resume may run the run")
        return results.flatMap((r) => r._tag === "Left" ? [r.left._tag] : [])
      })
      assert.strictEqual(lost.length, 1)
      assert.include(["ResumeInProgress", "RunStillActive"], lost[0])
      assert.deepStrictEqual(yield* invocationCounts, { "echo hello": 1 })
    }).pipe(Effect.provide(app([trivial], { host: { pid: 4242, alive: [] } }))))
})

describe("RunEngine.resume: what re-runs", () => {
  it.effect("--target re-runs exactly that stage, even one that succeeded", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "abc" })
      assert.strictEqual(manifest.status, "succeeded")
      const resumed = yield* resumeSettled({ runId: manifest.run_id, target: "b" })
      assert.deepStrictEqual(yield* invocationCounts, { "echo a": 1, "echo b": 2, "echo c": 1 })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.strictEqual(resumed.manifest.plan_target_id, "abc:b")
      assert.deepStrictEqual(
        resumed.manifest.commands.map((c) => [c.id, c.status, c.started_at]),
        [["a", "succeeded", at(0)], ["b", "succeeded", at(60000)], ["c", "succeeded", at(1000)]]
      )
    }).pipe(Effect.provide(app([abc]))))

  it.effect("a crashed run resumed with --target on a later stage: the stage left running is settled failed, not left running", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "abc" })
      // As a kill -9 during stage a leaves it: the run in progress, a running, b and c not started.
      yield* (yield* RunStore).create(layout, {
        ...manifest,
        status: "in_progress",
        completed_at: null,
        commands: manifest.commands.map((c, i) => ({ ...c, status: i === 0 ? "running" as const : "pending" as const }))
      })
      yield* TestClock.adjust("1 minute")
      const resumed = yield* resumeSettled({ runId: manifest.run_id, target: "c" })
      assert.deepStrictEqual(resumed.manifest.commands.map((c) => [c.id, c.status]), [["a", "failed"], ["b", "pending"], ["c", "succeeded"]])
      assert.include(resumed.manifest.commands[0]?.summary ?? "", "Interrupted")
      assert.include(resumed.manifest.commands[0]?.summary ?? "", "targeted c")
      assert.strictEqual(resumed.manifest.status, "failed")
      assert.strictEqual(resumed.manifest.status_detail, "stage:a:interrupted")
      assert.deepStrictEqual(yield* invocationCounts, { "echo a": 1, "echo b": 1, "echo c": 2 })
      assert.deepStrictEqual(yield* manifestFile(layout.manifest), resumed.manifest)
    }).pipe(Effect.provide(app([abc]))))

  it.effect("a succeeded run resumed without a target: nothing re-runs and no file changes (issue 16 item 22)", () =>
    Effect.gen(function*() {
      const { manifest } = yield* startSettled({ pipelineId: "abc" })
      assert.strictEqual(manifest.status, "succeeded")
      const before = yield* snapshot
      yield* TestClock.adjust("1 minute")
      const resumed = yield* resumeSettled({ runId: manifest.run_id })
      assert.deepStrictEqual(resumed.manifest, manifest)
      assert.isTrue(resumed.alreadySucceeded, "the outcome says the run was left as it is")
      assert.deepStrictEqual(yield* changedSince(before), [])
      assert.deepStrictEqual(yield* invocationCounts, { "echo a": 1, "echo b": 1, "echo c": 1 })
    }).pipe(Effect.provide(app([abc]))))

  it.effect("an unknown --target is UnknownTarget listing the stages; nothing changes", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      const before = yield* snapshot
      const error = yield* refused((yield* RunEngine).resume({ runId: manifest.run_id, target: "deploy" }))
      assert(error._tag === "UnknownTarget")
      assert.strictEqual(error.target, "deploy")
      assert.strictEqual(error.pipelineId, "flow")
      assert.deepStrictEqual(error.valid, ["first", "second", "third"])
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* changedSince(before), [])
      assert.deepStrictEqual(yield* invocationCounts, { "echo first": 1, "./second": 1 })
    }).pipe(Effect.provide(app([flow]))))

  it.effect("a re-run nested stage starts a new child run and adds a second child_runs entry", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "parent" })
      assert.strictEqual(manifest.status, "failed")
      assert.strictEqual(manifest.status_detail, "subpipeline:kid:failed")
      assert.strictEqual(manifest.child_runs.length, 1)

      const resumed = yield* resumeSettled({ runId: manifest.run_id })
      const written = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(written, resumed.manifest)
      assert.strictEqual(written.status, "succeeded")
      const [firstChild, secondChild] = written.child_runs
      assert.strictEqual(written.child_runs.length, 2)
      assert.deepStrictEqual(firstChild, manifest.child_runs[0])
      assert.strictEqual(secondChild?.pipeline_id, "kid")
      assert.strictEqual(secondChild?.status, "succeeded")
      assert.notStrictEqual(secondChild?.run_id, firstChild?.run_id)
      assert.notStrictEqual(secondChild?.run_id, manifest.run_id)
      assert.strictEqual(written.commands[1]?.sub_run_id, secondChild?.run_id)
      assert.strictEqual(written.commands[1]?.status, "succeeded")

      const child = yield* manifestFile(`/repo/${secondChild?.manifest}`)
      assert.strictEqual(child.parent_run_id, manifest.run_id)
      assert.strictEqual(child.status, "succeeded")
      assert.strictEqual((yield* manifestFile(`/repo/${firstChild?.manifest}`)).status, "failed", "the old child is left as it was")
      assert.deepStrictEqual(yield* invocationCounts, { "echo a": 1, "./work": 2 })
    }).pipe(Effect.provide(app([
      pipeline("parent", [commandStage("prep", "echo a"), nestedStage("child", "kid")]),
      pipeline("kid", [commandStage("work", "./work")])
    ], { scripts: { ...scripts, "./work": [{ exitCode: 1 }, { duration: "1 second" }] } }))))

  it.effect("kill -9 during a nested stage: resume stops the child run's orphaned stage, records the child cancelled, runs the stage again", () =>
    Effect.gen(function*() {
      const childId = "1970-01-01T00-00-00-000Z-c0ffee00"
      // The child, as the crash left it: in progress, its stage running in group 5555.
      yield* writeNestedCrash(childId, { heartbeatAt: 0, owner: { pid: 777, host: "test-host", stage_pid: 5555 } })
      yield* TestClock.adjust("1 minute")
      const host = yield* Host
      assert.isTrue(yield* host.isGroupAlive(5555))

      const resumed = yield* resumeSettled({ runId: crashedRunId })
      assert.isFalse(yield* host.isGroupAlive(5555), "the orphaned stage of the child run is stopped")
      const oldChild = yield* manifestFile((yield* runLayout(childId)).manifest)
      assert.strictEqual(oldChild.status, "cancelled")
      assert.deepStrictEqual(oldChild.commands.map((c) => c.status), ["cancelled"])
      assert.strictEqual(resumed.manifest.status, "succeeded")
      const rerun = resumed.manifest.commands[1]
      assert.strictEqual(rerun?.status, "succeeded")
      assert.notStrictEqual(rerun?.sub_run_id, childId, "the nested stage ran again in a new child run")
      assert.deepStrictEqual(yield* invocationCounts, { "./work": 1 })
    }).pipe(Effect.provide(app([
      pipeline("parent", [commandStage("prep", "echo a"), nestedStage("child", "kid")]),
      pipeline("kid", [commandStage("work", "./work")])
    ], { scripts: { ...scripts, "./work": { duration: "1 second" } }, host: { pid: 4242, alive: [5555], runGroups: { 5555: "1970-01-01T00-00-00-000Z-c0ffee00" } } }))))

  it.effect("a crashed run whose child run is being resumed on its own by a live process is refused; the child and its stage are left running", () =>
    Effect.gen(function*() {
      const childId = "1970-01-01T00-00-00-000Z-c0ffee00"
      // The child, resumed on its own after the crash: its resumer (pid 888) lives and beats, its stage runs in group 5555.
      yield* writeNestedCrash(childId, {
        heartbeatAt: 60_000,
        owner: { pid: 888, host: "test-host", stage_pid: 5555 },
        manifest: { parent_stage_id: "child" }
      })
      yield* TestClock.adjust("1 minute")
      const childLayout = yield* runLayout(childId)
      const before = yield* manifestFile(childLayout.manifest)
      const error = yield* refused((yield* RunEngine).resume({ runId: crashedRunId }))
      assert(error._tag === "RunStillActive")
      assert.strictEqual(
        error.message,
        `Cannot resume run ${crashedRunId}: the child run ${childId} of its stage child is running on its own (pid 888 on test-host, ` +
          `last heartbeat 0s ago). Wait for it to finish, or stop that process first, then resume ${crashedRunId}; a run has one writer at a time.`
      )
      assert.isTrue(yield* (yield* Host).isGroupAlive(5555), "the child's stage is not stopped")
      assert.deepStrictEqual(yield* manifestFile(childLayout.manifest), before, "the child is left as it is")
      assert.strictEqual((yield* manifestFile((yield* runLayout(crashedRunId)).manifest)).status, "in_progress")
      assert.deepStrictEqual(yield* invocationCounts, {})
    }).pipe(Effect.provide(app([
      pipeline("parent", [commandStage("prep", "echo a"), nestedStage("child", "kid")]),
      pipeline("kid", [commandStage("work", "./work")])
    ], { scripts, host: { pid: 4242, alive: [888, 5555], runGroups: { 5555: "1970-01-01T00-00-00-000Z-c0ffee00" } } }))))

  it.effect("a crashed run whose grandchild run is being resumed on its own by a live process is refused; nothing is written, its stage is left running", () =>
    Effect.gen(function*() {
      const childId = "1970-01-01T00-00-00-000Z-c0ffee00"
      const grandchildId = "1970-01-01T00-00-00-000Z-c0ffee09"
      const [template] = (yield* writeRun({ runId: childId, heartbeatAt: 0 })).manifest.commands
      assert.isDefined(template)
      const entry = { ...template!, started_at: at(0) }
      // The grandchild, resumed on its own after the crash: its resumer (pid 888) lives and beats, its stage runs in group 5555.
      yield* writeRun({
        runId: grandchildId,
        heartbeatAt: 60_000,
        owner: { pid: 888, host: "test-host", stage_pid: 5555 },
        manifest: {
          pipeline_id: "kid",
          parent_run_id: childId,
          parent_stage_id: "inner",
          commands: [{ ...entry, id: "work", title: "Stage work", command: "./work", status: "running" }]
        }
      })
      // The child and the parent, as the crashed orchestrator (pid 777) left them.
      yield* writeTwoLevelCrash(entry, childId, grandchildId, { parent_stage_id: "child" })
      yield* TestClock.adjust("1 minute")
      const before = yield* snapshot
      const error = yield* refused((yield* RunEngine).resume({ runId: crashedRunId }))
      assert(error._tag === "RunStillActive")
      assert.strictEqual(
        error.message,
        `Cannot resume run ${crashedRunId}: the child run ${grandchildId} of stage inner of its child run ${childId} is running on its own ` +
          `(pid 888 on test-host, last heartbeat 0s ago). Wait for it to finish, or stop that process first, then resume ${crashedRunId}; ` +
          "a run has one writer at a time."
      )
      assert.isTrue(yield* (yield* Host).isGroupAlive(5555), "the grandchild's stage is not stopped")
      assert.deepStrictEqual(yield* changedSince(before), [], "nothing is written")
      assert.deepStrictEqual(yield* invocationCounts, {})
    }).pipe(Effect.provide(app([
      pipeline("parent", [nestedStage("child", "mid")]),
      pipeline("mid", [nestedStage("inner", "kid")]),
      pipeline("kid", [commandStage("work", "./work")])
    ], { scripts, host: { pid: 4242, alive: [888, 5555], runGroups: { 5555: "1970-01-01T00-00-00-000Z-c0ffee09" } } }))))

  /**
   * Another process (pid 888) resumes the child as this resume claims the parent: it claims the child
   * and, unless `claimOnly`, refreshes its heartbeat, records itself as owner and starts the child's stage (group 5555).
   */
  const childResumedMeanwhile = (claimOnly: boolean) => (store: RunStore["Type"]) =>
    Effect.gen(function*() {
      const layout = yield* runLayout("1970-01-01T00-00-00-000Z-c0ffee00")
      const resumer = { pid: 888, host: "test-host", since: at(60_000) }
      assert.isTrue(yield* store.claimTakeover(layout, { pid: 777, host: "test-host", since: at(0) }, resumer, () => Effect.succeed(true)))
      if (claimOnly) return
      const files = yield* store.open(layout)
      yield* files.update((m) => ({ ...m, heartbeat_at: at(60_000), updated_at: at(60_000) }), { force: true })
      yield* files.writeOwner({ ...resumer, stage_pid: 5555, stage_pids: [5555] })
    }).pipe(Effect.provide(Path.layer), Effect.provide(OrchestratorConfigTest("/repo")))

  for (const [claimOnly, expected] of [[false, "RunStillActive"], [true, "ResumeInProgress"]] as const) {
    it.effect(`a child run resumed on its own in the instant between resume's check and its takeover is left to its resumer (${claimOnly ? "claimed" : "running"}): ${expected}, its stage left running`, () =>
      Effect.gen(function*() {
        const childId = "1970-01-01T00-00-00-000Z-c0ffee00"
        // The child as the crash left it (its owner the crashed orchestrator, pid 777): the check passes it.
        yield* writeNestedCrash(childId, { heartbeatAt: 0, owner: { pid: 777, host: "test-host", stage_pid: 5555 }, manifest: { parent_stage_id: "child" } })
        yield* TestClock.adjust("1 minute")
        const before = yield* manifestFile((yield* runLayout(childId)).manifest)
        const error = yield* refused((yield* RunEngine).resume({ runId: crashedRunId }))
        assert.strictEqual(error._tag, expected)
        assert.include(error.message, childId)
        assert.isTrue(yield* (yield* Host).isGroupAlive(5555), "the child's stage is not stopped")
        const child = yield* manifestFile((yield* runLayout(childId)).manifest)
        assert.strictEqual(child.status, "in_progress", "the child is its resumer's: not recorded cancelled")
        if (claimOnly) assert.deepStrictEqual(child, before)
        assert.deepStrictEqual(yield* invocationCounts, {})
      }).pipe(Effect.provide(probedApp([
        pipeline("parent", [commandStage("prep", "echo a"), nestedStage("child", "kid")]),
        pipeline("kid", [commandStage("work", "./work")])
      ], {
        scripts,
        host: { pid: 4242, alive: [888, 5555], runGroups: { 5555: "1970-01-01T00-00-00-000Z-c0ffee00" } },
        atFirstClaim: childResumedMeanwhile(claimOnly)
      }))))
  }

  it.effect("a child run's running nested stage that names a run not its child: resume leaves that run alone (its groups, its manifest)", () =>
    Effect.gen(function*() {
      const childId = "1970-01-01T00-00-00-000Z-c0ffee00"
      const strangerId = "1970-01-01T00-00-00-000Z-0dd0dd00"
      const [template] = (yield* writeRun({ runId: childId, heartbeatAt: 0 })).manifest.commands
      assert.isDefined(template)
      const entry = { ...template!, started_at: at(0) }
      // Another run of the task, not part of this one: in progress, its stage running in group 6666.
      yield* writeRun({
        runId: strangerId,
        heartbeatAt: 0,
        owner: { pid: 888, host: "test-host", stage_pid: 6666 },
        manifest: { pipeline_id: "kid", commands: [{ ...entry, id: "work", title: "Stage work", command: "./work", status: "running" }] }
      })
      // The child, hand-edited: its own nested stage names that run.
      yield* writeTwoLevelCrash(entry, childId, strangerId)
      yield* TestClock.adjust("1 minute")
      const host = yield* Host
      yield* resumeSettled({ runId: crashedRunId })
      assert.isTrue(yield* host.isGroupAlive(6666), "the other run's stage is not stopped")
      const stranger = yield* manifestFile((yield* runLayout(strangerId)).manifest)
      assert.strictEqual(stranger.status, "in_progress")
      assert.strictEqual((yield* manifestFile((yield* runLayout(childId)).manifest)).status, "cancelled")
    }).pipe(Effect.provide(app([
      pipeline("parent", [nestedStage("child", "mid")]),
      pipeline("mid", [nestedStage("inner", "kid")]),
      pipeline("kid", [commandStage("work", "./work")])
    ], { scripts, host: { pid: 4242, alive: [6666], runGroups: { 6666: "1970-01-01T00-00-00-000Z-0dd0dd00" } } }))))

  it.effect("kill -9 between a nested stage's child run being created and the parent recording it: resume adopts that child, records it cancelled, runs the stage again in one new child", () =>
    Effect.gen(function*() {
      const childId = "1970-01-01T00-00-00-000Z-c0ffee01"
      const [template] = (yield* writeRun({ runId: childId, heartbeatAt: 0 })).manifest.commands
      assert.isDefined(template)
      const entry = { ...template!, started_at: null, status: "pending" as const }
      // The child, as the crash left it: created (`queued`, naming its parent), none of its stages run.
      yield* writeRun({
        runId: childId,
        heartbeatAt: 0,
        owner: { pid: 777, host: "test-host" },
        manifest: { status: "queued", pipeline_id: "kid", parent_run_id: crashedRunId, commands: [{ ...entry, id: "work", command: "./work" }] }
      })
      // A finished child of this run is no orphan of it.
      const doneId = "1970-01-01T00-00-00-000Z-c0ffee02"
      yield* writeRun({ runId: doneId, heartbeatAt: 0, manifest: { status: "failed", pipeline_id: "kid", parent_run_id: crashedRunId, commands: [] } })
      // Nor are runs started with `--parent-run` naming it: one running now (its owner alive, its
      // heartbeat fresh), one of a pipeline no interrupted stage runs.
      const liveId = "1970-01-01T00-00-00-000Z-c0ffee03"
      yield* writeRun({
        runId: liveId,
        heartbeatAt: 60_000,
        owner: { pid: 888, host: "test-host" },
        manifest: { pipeline_id: "kid", parent_run_id: crashedRunId, commands: [{ ...entry, id: "work", command: "./work", status: "running" }] }
      })
      const otherId = "1970-01-01T00-00-00-000Z-c0ffee04"
      yield* writeRun({ runId: otherId, heartbeatAt: 0, manifest: { status: "queued", pipeline_id: "parent", parent_run_id: crashedRunId, commands: [] } })
      // The parent: prep done, the nested stage running, its child not recorded yet.
      yield* writeRun({
        heartbeatAt: 0,
        owner: { pid: 777, host: "test-host" },
        manifest: {
          pipeline_id: "parent",
          commands: [
            { ...entry, id: "prep", title: "Stage prep", command: "echo a", status: "succeeded", started_at: at(0), completed_at: at(0), exit_code: 0 },
            { ...entry, index: 2, id: "child", title: "Stage child", command: null, kind: "subpipeline", status: "running", started_at: at(0) }
          ]
        }
      })
      yield* TestClock.adjust("1 minute")

      const resumed = yield* resumeSettled({ runId: crashedRunId })
      const oldChild = yield* manifestFile((yield* runLayout(childId)).manifest)
      assert.strictEqual(oldChild.status, "cancelled", "the unrecorded child is not left queued")
      assert.strictEqual((yield* manifestFile((yield* runLayout(doneId)).manifest)).status, "failed", "a finished child is left as it is")
      assert.strictEqual((yield* manifestFile((yield* runLayout(liveId)).manifest)).status, "in_progress", "a live run naming it as parent is left running")
      assert.strictEqual((yield* manifestFile((yield* runLayout(otherId)).manifest)).status, "queued", "a run of another pipeline is left as it is")
      const writes = (yield* (yield* Probe).manifestWrites).map((text) => Schema.decodeUnknownSync(Schema.parseJson(CliManifest))(text))
      assert.isTrue(writes.some((m) => m.commands[1]?.sub_run_id === childId), "the parent recorded (adopted) the child")
      assert.strictEqual(resumed.manifest.status, "succeeded")
      const rerun = resumed.manifest.commands[1]
      assert.notStrictEqual(rerun?.sub_run_id, childId, "the nested stage ran again in a new child run")
      const children = (yield* listFiles).filter((p) => p.startsWith("/repo/.runs/0101/cli/") && p.endsWith("/manifest.json"))
      assert.strictEqual(children.length, 6, "the parent, the four other runs and one new child")
      assert.deepStrictEqual(yield* invocationCounts, { "./work": 1 })
    }).pipe(Effect.provide(probedApp([
      pipeline("parent", [commandStage("prep", "echo a"), nestedStage("child", "kid")]),
      pipeline("kid", [commandStage("work", "./work")])
    ], { scripts: { ...scripts, "./work": { duration: "1 second" } }, host: { pid: 4242, alive: [888] } }))))

  it.effect("a running nested stage names its child run in the parent's manifest, so a crash leaves the child findable", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork((yield* RunEngine).start({ pipelineId: "parent", taskId: "nest" }))
      yield* TestClock.adjust("2 seconds")
      const paths = (yield* listFiles).filter((p) => p.startsWith("/repo/.runs/nest/cli/") && p.endsWith("/manifest.json"))
      const manifests = yield* Effect.forEach(paths, (path) => manifestFile(path))
      const parent = manifests.find((m) => m.parent_run_id === null)
      const child = manifests.find((m) => m.parent_run_id !== null)
      assert.isDefined(child, "the child run exists")
      assert.strictEqual(parent?.commands[1]?.status, "running")
      assert.strictEqual(parent?.commands[1]?.sub_run_id, child?.run_id)
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(app([
      pipeline("parent", [commandStage("prep", "echo a"), nestedStage("child", "kid")]),
      pipeline("kid", [commandStage("work", "./work")])
    ], { scripts: { ...scripts, "./work": { duration: "30 seconds" } } }))))

  it.effect("a run resumed again and again keeps one takeover claim in its folder, the newest", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "broken" })
      assert.strictEqual(manifest.status, "failed")
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("1 minute")
        // As if another process (since gone) had run it last: each resume claims from a new owner.
        const files = yield* (yield* RunStore).open(layout)
        yield* files.writeOwner({ pid: 900 + i, host: "test-host", since: at(i) })
        assert.strictEqual((yield* resumeSettled({ runId: manifest.run_id })).manifest.status, "failed")
      }
      const claims = (yield* listFiles).filter((p) => p.startsWith(`${layout.runDir}/.takeover-`))
      assert.deepStrictEqual(claims, [`${layout.runDir}/.takeover-test-host-902-1970-01-01T00_00_00.002Z`])
    }).pipe(Effect.provide(app([pipeline("broken", [commandStage("b", "./broken")])], {
      scripts: { ...scripts, "./broken": { exitCode: 1 } }
    }))))

  it.effect("a pipeline whose stages changed since the run is PipelineChanged (CFG-11); nothing changes", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      const probe = yield* Probe
      const engine = yield* RunEngine
      const before = yield* snapshot

      yield* probe.setPipelines([pipeline("flow", [
        commandStage("first", "echo first"),
        commandStage("lint", "npm run lint"),
        commandStage("second", "./second"),
        commandStage("third", "echo third")
      ])])
      const added = yield* refused(engine.resume({ runId: manifest.run_id }))
      assert(added._tag === "PipelineChanged")
      assert.strictEqual(added.runId, manifest.run_id)
      assert.strictEqual(added.pipelineId, "flow")
      assert.deepStrictEqual(added.recorded, ["first", "second", "third"])
      assert.deepStrictEqual(added.current, ["first", "lint", "second", "third"])
      assert.include(added.message, "[first, lint, second, third]")

      yield* probe.setPipelines([pipeline("flow", [
        commandStage("first", "echo first"),
        commandStage("third", "echo third"),
        commandStage("second", "./second")
      ])])
      const reordered = yield* refused(engine.resume({ runId: manifest.run_id }))
      assert.strictEqual(reordered._tag, "PipelineChanged")

      assert.deepStrictEqual(yield* changedSince(before), [])
      assert.deepStrictEqual(yield* invocationCounts, { "echo first": 1, "./second": 1 })

      // Restored, the run resumes.
      yield* probe.setPipelines([flow])
      const resumed = yield* resumeSettled({ runId: manifest.run_id })
      assert.strictEqual(resumed.manifest.status, "succeeded")
    }).pipe(Effect.provide(probedApp([flow]))))

  it.effect("a run whose pipeline was removed since (config deleted or edited) is PipelineNotFound naming the run; nothing changes", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      const before = yield* snapshot
      yield* (yield* Probe).setPipelines([abc])
      const error = yield* refused((yield* RunEngine).resume({ runId: manifest.run_id }))
      assert(error._tag === "PipelineNotFound")
      assert.strictEqual(
        error.message,
        `Pipeline 'flow' not found (named by run ${manifest.run_id}, which resume runs again): it is neither in codex.orchestrator.json nor built in. ` +
          "Available pipelines: abc."
      )
      assert.deepStrictEqual(yield* changedSince(before), [])
    }).pipe(Effect.provide(probedApp([flow]))))

  it.effect("a run a newer version recorded (manifest version 2) is refused saying so, not only 'Expected 1'; nothing changes", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* failedFlowRun
      const files = yield* InMemoryFiles
      yield* files.write(layout.manifest, JSON.stringify({ ...manifest, version: 2 }))
      const before = yield* snapshot
      const error = yield* refused((yield* RunEngine).resume({ runId: manifest.run_id }))
      assert.strictEqual(
        error.message,
        `${layout.relative(layout.manifest)} is not valid: version: is 2, written by a newer codex-orchestrator ` +
          "(this one reads version 1); show and resume the run with that version."
      )
      assert.deepStrictEqual(yield* changedSince(before), [])
    }).pipe(Effect.provide(probedApp([flow]))))

  it.effect("a stage whose command and title were fixed since the run runs them, and its entry records them", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      const probe = yield* Probe
      yield* probe.setPipelines([pipeline("flow", [
        commandStage("first", "echo first"),
        commandStage("second", "echo fixed", { title: "Second, fixed" }),
        commandStage("third", "echo third")
      ])])
      const resumed = yield* resumeSettled({ runId: manifest.run_id })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      assert.deepStrictEqual(yield* invocationCounts, { "echo first": 1, "./second": 1, "echo fixed": 1, "echo third": 1 })
      // Before: the entry kept `./second` beside the output of `echo fixed`.
      const second = resumed.manifest.commands[1]
      assert.deepStrictEqual([second?.command, second?.title], ["echo fixed", "Second, fixed"])
      const onDisk = yield* manifestFile(resumed.layout.manifest)
      assert.deepStrictEqual([onDisk.commands[1]?.command, onDisk.commands[1]?.title], ["echo fixed", "Second, fixed"])
    }).pipe(Effect.provide(probedApp([flow], { scripts: { ...scripts, "echo fixed": { output: [{ stream: "stdout", data: "fixed\n" }] } } }))))

  it.effect("a stage whose kind changed since the run (a command now nested) is PipelineChanged naming it; nothing changes", () =>
    Effect.gen(function*() {
      const { manifest } = yield* failedFlowRun
      const probe = yield* Probe
      const engine = yield* RunEngine
      const before = yield* snapshot
      yield* probe.setPipelines([
        pipeline("flow", [commandStage("first", "echo first"), nestedStage("second", "kid"), commandStage("third", "echo third")]),
        pipeline("kid", [commandStage("work", "echo a")])
      ])
      const nested = yield* refused(engine.resume({ runId: manifest.run_id }))
      assert(nested._tag === "PipelineChanged")
      assert.deepStrictEqual(nested.kindChanged, ["second: command -> subpipeline"])
      assert.strictEqual(
        nested.message,
        `Cannot resume run ${manifest.run_id}: pipeline 'flow' changed the kind of its stages since the run started ` +
          `(second: command -> subpipeline); its entries record the stages as they were. Restore the pipeline's stages, or start a new run.`
      )
      assert.deepStrictEqual(yield* changedSince(before), [])
      assert.deepStrictEqual(yield* invocationCounts, { "echo first": 1, "./second": 1 })
    }).pipe(Effect.provide(probedApp([flow]))))

  it.effect("a graph whose needs changed since the run is PipelineChanged naming each change (B-2); nothing changes", () =>
    Effect.gen(function*() {
      const graphFlow = (thirdNeeds: ReadonlyArray<string>) =>
        pipeline("graph-flow", [
          commandStage("first", "echo first", { needs: [] }),
          commandStage("second", "./second", { needs: ["first"] }),
          commandStage("third", "echo third", { needs: thirdNeeds })
        ])
      const { manifest } = yield* startSettled({ pipelineId: "graph-flow" })
      assert.strictEqual(manifest.status, "failed")
      const probe = yield* Probe
      const engine = yield* RunEngine
      const before = yield* snapshot

      yield* probe.setPipelines([graphFlow(["first"])])
      const rewired = yield* refused(engine.resume({ runId: manifest.run_id }))
      assert(rewired._tag === "PipelineChanged")
      assert.deepStrictEqual(rewired.needsChanged, ["third: needs [second] -> [first]"])
      assert.include(rewired.message, "changed its stage graph since the run started (third: needs [second] -> [first])")

      yield* probe.setPipelines([pipeline("graph-flow", [
        commandStage("first", "echo first"),
        commandStage("second", "./second"),
        commandStage("third", "echo third")
      ])])
      const serial = yield* refused(engine.resume({ runId: manifest.run_id }))
      assert(serial._tag === "PipelineChanged")
      assert.deepStrictEqual(serial.needsChanged, [
        "first: needs [] -> the stage before",
        "second: needs [first] -> the stage before",
        "third: needs [second] -> the stage before"
      ])
      assert.deepStrictEqual(yield* changedSince(before), [])

      // Restored, the run resumes.
      yield* probe.setPipelines([graphFlow(["second"])])
      const resumed = yield* resumeSettled({ runId: manifest.run_id })
      assert.strictEqual(resumed.manifest.status, "succeeded")
    }).pipe(Effect.provide(probedApp([pipeline("graph-flow", [
      commandStage("first", "echo first", { needs: [] }),
      commandStage("second", "./second", { needs: ["first"] }),
      commandStage("third", "echo third", { needs: ["second"] })
    ])]))))
})
