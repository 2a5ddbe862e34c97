/**
 * Approvals in the run engine (SPEC APR-1..3, MAN-4 as changed by DECISIONS D-14) on the
 * deterministic test kit: scripted processes, an in-memory run store, TestClock and PrompterScripted.
 * A stage with `approvalRequired` runs only once approved; every decision lands in `approvals[]`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"
import { type CliManifest, ErrorFile } from "../src/domain/Manifest.js"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import { AppMemory, type MemoryAppOptions, type ScriptedProcess } from "../src/layers/App.js"
import { InMemoryFiles } from "../src/layers/Files.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { PrompterQuestions } from "../src/layers/Prompter.js"
import { type ResumeRequest, RunEngine, type StartRequest } from "../src/services/RunEngine.js"
import { jsonFile, listFiles, logFile, manifestFile } from "./support/files.js"
import { at, commandStage, nestedStage, pipeline } from "./support/pipelines.js"

// ---------------------------------------------------------------------------------------------
// Fixtures

/** prep (2 s), then `deploy` which needs approval, then `after`. */
const gated = pipeline("gated", [
  commandStage("prep", "echo prep"),
  commandStage("deploy", "./deploy --prod", { title: "Deploy it", approvalRequired: true }),
  commandStage("after", "echo after")
])

const scripts = {
  "echo prep": { output: [{ stream: "stdout", data: "prep\n" }], duration: "2 seconds" },
  "./deploy --prod": { output: [{ stream: "stdout", data: "deployed\n" }], duration: "1 second" },
  "echo after": { output: [{ stream: "stdout", data: "after\n" }] },
  "./migrate": { output: [{ stream: "stdout", data: "migrated\n" }] },
  "./ship": { output: [{ stream: "stdout", data: "shipped\n" }] }
} satisfies Record<string, ScriptedProcess>

const app = (
  pipelines: ReadonlyArray<PipelineDefinition>,
  options: Omit<MemoryAppOptions, "pipelines"> = {}
) => AppMemory({ scripts, ...options, pipelines: { user: pipelines } })

const neverReason = "approval required, but --approval-policy never forbids new approvals. " +
  "Run with --approval-policy on-request (and answer the prompt) or auto."
const nobodyReason = "approval required, but nobody can be asked (no terminal on stdin and stderr). " +
  "Run it from a terminal, or use --approval-policy auto to grant approvals without asking."

/** D-14: what every approvals[] entry carries. */
const recordKeys = ["actor", "decision", "key", "policy", "reason", "source", "stage_id", "timestamp"]

// ---------------------------------------------------------------------------------------------
// Helpers

const settled = <A, E, R>(effect: Effect.Effect<A, E, R>, time: Duration.DurationInput = "1 minute") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(time)
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), `not finished within ${Duration.format(time)}`)
    return yield* Fiber.join(fiber)
  })

const startSettled = (request: StartRequest) =>
  Effect.flatMap(RunEngine, (engine) => settled(engine.start({ taskId: "t", ...request })))

const resumeSettled = (request: ResumeRequest) =>
  Effect.flatMap(RunEngine, (engine) => settled(engine.resume({ taskId: "t", ...request })))

const invokedCommands = Effect.flatMap(ProcessInvocations, (p) => p.all).pipe(
  Effect.map((all) => all.map((spec) => spec.command))
)

const questionsAsked = Effect.flatMap(PrompterQuestions, (q) => q.all)

const entry = (manifest: CliManifest, id: string) => {
  const found = manifest.commands.find((c) => c.id === id)
  return found ?? assert.fail(`no commands[] entry ${id}`)
}

/** The approvals[] records without their (checked elsewhere) reason, actor and timestamp. */
const outcomes = (manifest: CliManifest) =>
  manifest.approvals.map((r) => ({ stage_id: r.stage_id, key: r.key, policy: r.policy, source: r.source, decision: r.decision }))

/** The deploy stage never started: no process, no stage log, no runner-log event for it. */
const assertDeployNeverStarted = (manifest: CliManifest, runnerLog: string, runDir: string) =>
  Effect.gen(function*() {
    assert.notInclude(yield* invokedCommands, "./deploy --prod", "the process of a stage not approved was started")
    assert.notInclude(yield* listFiles, `${runDir}/commands/02-deploy.ndjson`)
    const events = yield* logFile(runnerLog)
    assert.deepStrictEqual(events.filter((e) => e.index === 2), [], "runner.ndjson has events of the deploy stage")
    const deploy = entry(manifest, "deploy")
    assert.strictEqual(deploy.exit_code, null)
    assert.strictEqual(deploy.log_path, null)
  })

// ---------------------------------------------------------------------------------------------

describe("RunEngine approvals: policy never", () => {
  it.effect("fails the stage as approval-required without asking or starting it; later stages stay pending", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* startSettled({ pipelineId: "gated", approvalPolicy: "never" })
      const written = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(written, manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:deploy:approval-required")
      assert.strictEqual(written.approval_policy, "never")
      assert.strictEqual(written.summary?.split("\n")[0], `Stage 'Deploy it' was not approved: ${neverReason}`)

      assert.strictEqual(entry(written, "prep").status, "succeeded")
      const deploy = entry(written, "deploy")
      assert.strictEqual(deploy.status, "failed")
      assert.strictEqual(deploy.summary, `Not approved: ${neverReason}`)
      assert.strictEqual(deploy.completed_at, at(2000))
      assert.strictEqual(deploy.error_file, `${manifest.artifact_root}/errors/02-deploy.json`)
      assert.strictEqual(entry(written, "after").status, "pending")
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep"])
      yield* assertDeployNeverStarted(written, layout.runnerLog, layout.runDir)

      const error = yield* jsonFile(ErrorFile, layout.errorFile(2, "deploy"))
      assert.strictEqual(error.reason, "approval-required")
      assert.strictEqual(error.command_id, "deploy")
      assert.strictEqual(error.command, "./deploy --prod")
      assert.strictEqual(error.details["exit_code"], null)
      assert.strictEqual(error.details["approval"], neverReason)

      // Not asked, although an answer was scripted: never forbids new approvals.
      assert.deepStrictEqual(yield* questionsAsked, [])
      assert.deepStrictEqual(written.approvals, [{
        actor: "codex-orchestrator",
        timestamp: at(2000),
        reason: neverReason,
        policy: "never",
        source: "policy",
        stage_id: "deploy",
        key: "gated:deploy",
        decision: "denied"
      }])
    }).pipe(Effect.provide(app([gated], { approvals: { "gated:deploy": "granted" } }))))

  it.effect("with allowFailure the refused stage is skipped and the run goes on", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "soft", approvalPolicy: "never" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(entry(written, "deploy").status, "skipped")
      assert.strictEqual(entry(written, "deploy").summary, `Not approved: ${neverReason}`)
      assert.strictEqual(entry(written, "after").status, "succeeded")
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep", "echo after"])
      assert.deepStrictEqual(outcomes(written), [
        { stage_id: "deploy", key: "gated:deploy", policy: "never", source: "policy", decision: "denied" }
      ])
    }).pipe(Effect.provide(app([
      pipeline("soft", [
        commandStage("prep", "echo prep"),
        commandStage("deploy", "./deploy --prod", { approvalRequired: true, approvalKey: "gated:deploy", allowFailure: true }),
        commandStage("after", "echo after")
      ], { guardrailsRequired: false })
    ]))))
})

describe("RunEngine approvals: policy auto", () => {
  it.effect("grants without asking (source auto) and runs the stage", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "gated", approvalPolicy: "auto" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status_detail, null)
      assert.deepStrictEqual(written.commands.map((c) => c.status), ["succeeded", "succeeded", "succeeded"])
      assert.strictEqual(entry(written, "deploy").summary, "deployed")
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep", "./deploy --prod", "echo after"])
      assert.deepStrictEqual(yield* questionsAsked, [], "auto must not ask, even when an answer exists")
      assert.deepStrictEqual(written.approvals, [{
        actor: "codex-orchestrator",
        timestamp: at(2000),
        reason: "granted by the auto approval policy",
        policy: "auto",
        source: "auto",
        stage_id: "deploy",
        key: "gated:deploy",
        decision: "granted"
      }])
    }).pipe(Effect.provide(app([gated], { approvals: { "gated:deploy": "denied" } }))))
})

describe("RunEngine approvals: policy on-request", () => {
  it.effect("asks with the stage's key, id, title and command; a grant runs it (source prompt)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "gated", approvalPolicy: "on-request" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.deepStrictEqual(written.commands.map((c) => c.status), ["succeeded", "succeeded", "succeeded"])
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep", "./deploy --prod", "echo after"])
      assert.deepStrictEqual(yield* questionsAsked, [
        { key: "gated:deploy", stageId: "deploy", title: "Deploy it", command: "./deploy --prod" }
      ])
      assert.deepStrictEqual(written.approvals, [{
        actor: "tty",
        timestamp: at(2000),
        reason: "granted at the prompt",
        policy: "on-request",
        source: "prompt",
        stage_id: "deploy",
        key: "gated:deploy",
        decision: "granted"
      }])
      // The stage started after the decision, not before.
      assert.strictEqual(entry(written, "deploy").started_at, at(2000))
      assert.strictEqual(entry(written, "deploy").completed_at, at(3000))
    }).pipe(Effect.provide(app([gated], { approvals: { "gated:deploy": "granted" } }))))

  it.effect("is the default: no policy recorded, the decision says on-request", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "gated" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.approval_policy, null)
      assert.strictEqual((yield* questionsAsked).length, 1)
      assert.deepStrictEqual(outcomes(written), [
        { stage_id: "deploy", key: "gated:deploy", policy: "on-request", source: "prompt", decision: "granted" }
      ])
      assert.include(yield* invokedCommands, "./deploy --prod")
    }).pipe(Effect.provide(app([gated], { approvals: { "gated:deploy": "granted" } }))))

  it.effect("a recorded policy string it does not know (an older run's) behaves as on-request on resume (APR-1)", () =>
    Effect.gen(function*() {
      // Requests take an ApprovalPolicy only (D-21); a manifest written by the original may hold any string.
      const first = yield* startSettled({ pipelineId: "gated", approvalPolicy: "never" })
      assert.strictEqual(first.manifest.status, "failed")
      const files = yield* InMemoryFiles
      const text = (yield* files.read(first.layout.manifest)) ?? assert.fail("no manifest")
      yield* files.write(first.layout.manifest, text.replace('"approval_policy": "never"', '"approval_policy": "sometimes"'))
      const { layout } = yield* resumeSettled({ runId: first.manifest.run_id })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.approval_policy, "sometimes")
      assert.strictEqual((yield* questionsAsked).length, 1)
      assert.deepStrictEqual(outcomes(written).at(-1), {
        stage_id: "deploy",
        key: "gated:deploy",
        policy: "on-request",
        source: "prompt",
        decision: "granted"
      })
    }).pipe(Effect.provide(app([gated], { approvals: { "gated:deploy": "granted" } }))))

  it.effect("a denial fails the stage as approval-denied without starting it", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "gated", approvalPolicy: "on-request" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:deploy:approval-denied")
      assert.strictEqual(entry(written, "deploy").status, "failed")
      assert.strictEqual(entry(written, "deploy").summary, "Not approved: approval denied at the prompt")
      assert.strictEqual(entry(written, "after").status, "pending")
      assert.strictEqual(
        written.summary?.split("\n")[0],
        "Stage 'Deploy it' was not approved: approval denied at the prompt"
      )
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep"])
      yield* assertDeployNeverStarted(written, layout.runnerLog, layout.runDir)
      const error = yield* jsonFile(ErrorFile, layout.errorFile(2, "deploy"))
      assert.strictEqual(error.reason, "approval-denied")
      assert.strictEqual(error.details["approval"], "approval denied at the prompt")
      assert.strictEqual((yield* questionsAsked).length, 1)
      assert.deepStrictEqual(written.approvals, [{
        actor: "tty",
        timestamp: at(2000),
        reason: "approval denied at the prompt",
        policy: "on-request",
        source: "prompt",
        stage_id: "deploy",
        key: "gated:deploy",
        decision: "denied"
      }])
    }).pipe(Effect.provide(app([gated], { approvals: { "gated:deploy": "denied" } }))))

  it.effect("nobody to answer fails the stage as approval-required, saying nobody can be asked", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "gated" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:deploy:approval-required")
      assert.strictEqual(entry(written, "deploy").status, "failed")
      assert.strictEqual(entry(written, "deploy").summary, `Not approved: ${nobodyReason}`)
      assert.include(entry(written, "deploy").summary ?? "", "nobody can be asked")
      assert.strictEqual(entry(written, "after").status, "pending")
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep"])
      yield* assertDeployNeverStarted(written, layout.runnerLog, layout.runDir)
      const error = yield* jsonFile(ErrorFile, layout.errorFile(2, "deploy"))
      assert.strictEqual(error.reason, "approval-required")
      // It was asked; nobody answered.
      assert.deepStrictEqual((yield* questionsAsked).map((q) => q.key), ["gated:deploy"])
      assert.deepStrictEqual(written.approvals, [{
        actor: "codex-orchestrator",
        timestamp: at(2000),
        reason: nobodyReason,
        policy: "on-request",
        source: "unavailable",
        stage_id: "deploy",
        key: "gated:deploy",
        decision: "denied"
      }])
    }).pipe(Effect.provide(app([gated], { approvals: { "other:key": "granted" } }))))
})

describe("RunEngine approvals: the grant cache", () => {
  const twice = pipeline("twice", [
    commandStage("migrate", "./migrate", { approvalRequired: true, approvalKey: "prod" }),
    commandStage("ship", "./ship", { approvalRequired: true, approvalKey: "prod" })
  ], { guardrailsRequired: false })

  it.effect("two stages with the same approvalKey: asked once, the second decision comes from the cache", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "twice" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.deepStrictEqual(yield* invokedCommands, ["./migrate", "./ship"])
      assert.deepStrictEqual((yield* questionsAsked).map((q) => [q.key, q.stageId]), [["prod", "migrate"]])
      assert.deepStrictEqual(outcomes(written), [
        { stage_id: "migrate", key: "prod", policy: "on-request", source: "prompt", decision: "granted" },
        { stage_id: "ship", key: "prod", policy: "on-request", source: "cache", decision: "granted" }
      ])
      assert.strictEqual(written.approvals[1]?.actor, "codex-orchestrator")
      assert.strictEqual(written.approvals[1]?.reason, "granted earlier in this process")
      // A second question would have been denied by the script.
    }).pipe(Effect.provide(app([twice], { approvals: { prod: ["granted", "denied"] } }))))

  it.effect("a denial is not cached: the next stage with the key is asked again", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "retry-ask" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.deepStrictEqual(written.commands.map((c) => c.status), ["skipped", "succeeded"])
      assert.deepStrictEqual(yield* invokedCommands, ["./ship"])
      assert.deepStrictEqual((yield* questionsAsked).map((q) => q.stageId), ["migrate", "ship"])
      assert.deepStrictEqual(outcomes(written).map((o) => [o.stage_id, o.source, o.decision]), [
        ["migrate", "prompt", "denied"],
        ["ship", "prompt", "granted"]
      ])
    }).pipe(Effect.provide(app([
      pipeline("retry-ask", [
        commandStage("migrate", "./migrate", { approvalRequired: true, approvalKey: "prod", allowFailure: true }),
        commandStage("ship", "./ship", { approvalRequired: true, approvalKey: "prod" })
      ], { guardrailsRequired: false })
    ], { approvals: { prod: ["denied", "granted"] } }))))

  it.effect("different keys are asked separately", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "two-keys" })
      const written = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual((yield* questionsAsked).map((q) => q.key), ["two-keys:migrate", "two-keys:ship"])
      assert.deepStrictEqual(outcomes(written).map((o) => o.source), ["prompt", "prompt"])
    }).pipe(Effect.provide(app([
      pipeline("two-keys", [
        commandStage("migrate", "./migrate", { approvalRequired: true }),
        commandStage("ship", "./ship", { approvalRequired: true })
      ], { guardrailsRequired: false })
    ], { approvals: { "two-keys:migrate": "granted", "two-keys:ship": "granted" } }))))

  it.effect("a grant lasts for the process: a later run reuses it, even under never (APR-2 order)", () =>
    Effect.gen(function*() {
      yield* startSettled({ pipelineId: "twice" })
      const { layout } = yield* startSettled({ pipelineId: "twice", approvalPolicy: "never" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual((yield* questionsAsked).length, 1)
      assert.deepStrictEqual(outcomes(written).map((o) => [o.policy, o.source, o.decision]), [
        ["never", "cache", "granted"],
        ["never", "cache", "granted"]
      ])
      assert.deepStrictEqual(yield* invokedCommands, ["./migrate", "./ship", "./migrate", "./ship"])
    }).pipe(Effect.provide(app([twice], { approvals: { prod: "granted" } }))))
})

describe("RunEngine approvals: stages that need none", () => {
  it.effect("a stage without approvalRequired (or with false) runs under never and records nothing", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "free", approvalPolicy: "never" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.deepStrictEqual(written.approvals, [])
      assert.deepStrictEqual(yield* questionsAsked, [])
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep", "./migrate", "./ship"])
    }).pipe(Effect.provide(app([
      pipeline("free", [
        commandStage("prep", "echo prep"),
        commandStage("migrate", "./migrate", { approvalRequired: false }),
        commandStage("ship", "./ship", { approvalKey: "prod" })
      ], { guardrailsRequired: false })
    ], { approvals: { prod: "denied" } }))))
})

describe("RunEngine approvals: the records (MAN-4, D-14)", () => {
  it.effect("every decision, grant or denial, carries actor, timestamp, reason, policy, source, stage and key", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "mixed" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.approvals.length, 3)
      for (const record of written.approvals) {
        assert.deepStrictEqual(Object.keys(record).sort(), recordKeys, JSON.stringify(record))
        assert.isAbove(record.actor.length, 0)
        assert.isAbove(record.reason?.length ?? 0, 0)
      }
      // Each decision is stamped when it is taken (migrate at 0 s, ship after prep's 2 s, last at 2 s).
      assert.deepStrictEqual(written.approvals.map((r) => r.timestamp), [at(0), at(2000), at(2000)])
      assert.deepStrictEqual(outcomes(written), [
        { stage_id: "migrate", key: "mixed:migrate", policy: "on-request", source: "prompt", decision: "granted" },
        { stage_id: "ship", key: "ship-key", policy: "on-request", source: "prompt", decision: "denied" },
        { stage_id: "last", key: "mixed:last", policy: "on-request", source: "unavailable", decision: "denied" }
      ])
      assert.deepStrictEqual(written.approvals.map((r) => r.actor), ["tty", "tty", "codex-orchestrator"])
      // Only the granted stage ran; the two refused ones were skipped (allowFailure) without a process.
      assert.deepStrictEqual(yield* invokedCommands, ["./migrate", "echo prep"])
      assert.deepStrictEqual(written.commands.map((c) => c.status), ["succeeded", "succeeded", "skipped", "skipped"])
    }).pipe(Effect.provide(app([
      pipeline("mixed", [
        commandStage("migrate", "./migrate", { approvalRequired: true }),
        commandStage("prep", "echo prep"),
        commandStage("ship", "./ship", { approvalRequired: true, approvalKey: "ship-key", allowFailure: true }),
        commandStage("last", "echo after", { approvalRequired: true, allowFailure: true })
      ], { guardrailsRequired: false })
    ], { approvals: { "mixed:migrate": "granted", "ship-key": "denied" } }))))
})

describe("RunEngine approvals: resume", () => {
  it.effect("resume with approvalPolicy auto after a never failure runs the stage and the run succeeds", () =>
    Effect.gen(function*() {
      const first = yield* startSettled({ pipelineId: "gated", approvalPolicy: "never" })
      assert.strictEqual(first.manifest.status, "failed")
      assert.strictEqual(first.manifest.status_detail, "stage:deploy:approval-required")

      const resumed = yield* resumeSettled({ runId: first.manifest.run_id, approvalPolicy: "auto" })
      const written = yield* manifestFile(resumed.layout.manifest)
      assert.strictEqual(written.run_id, first.manifest.run_id)
      assert.strictEqual(written.status, "succeeded")
      assert.strictEqual(written.status_detail, null)
      assert.strictEqual(written.approval_policy, "auto", "resume --approval-policy replaces the recorded policy")
      assert.deepStrictEqual(written.commands.map((c) => c.status), ["succeeded", "succeeded", "succeeded"])
      assert.strictEqual(entry(written, "deploy").error_file, null)
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep", "./deploy --prod", "echo after"])
      assert.deepStrictEqual(outcomes(written), [
        { stage_id: "deploy", key: "gated:deploy", policy: "never", source: "policy", decision: "denied" },
        { stage_id: "deploy", key: "gated:deploy", policy: "auto", source: "auto", decision: "granted" }
      ])
      assert.deepStrictEqual(yield* questionsAsked, [])
    }).pipe(Effect.provide(app([gated]))))

  it.effect("resume without a policy keeps the recorded never: refused again", () =>
    Effect.gen(function*() {
      const first = yield* startSettled({ pipelineId: "gated", approvalPolicy: "never" })
      const resumed = yield* resumeSettled({ runId: first.manifest.run_id })
      const written = yield* manifestFile(resumed.layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "stage:deploy:approval-required")
      assert.strictEqual(written.approval_policy, "never")
      assert.deepStrictEqual(outcomes(written).map((o) => [o.policy, o.source, o.decision]), [
        ["never", "policy", "denied"],
        ["never", "policy", "denied"]
      ])
      assert.notInclude(yield* invokedCommands, "./deploy --prod")
    }).pipe(Effect.provide(app([gated], { approvals: { "gated:deploy": "granted" } }))))

  it.effect("resume with on-request after a never failure asks, and a grant runs the stage", () =>
    Effect.gen(function*() {
      const first = yield* startSettled({ pipelineId: "gated", approvalPolicy: "never" })
      assert.deepStrictEqual(yield* questionsAsked, [])
      const resumed = yield* resumeSettled({ runId: first.manifest.run_id, approvalPolicy: "on-request" })
      const written = yield* manifestFile(resumed.layout.manifest)
      assert.strictEqual(written.approval_policy, "on-request")
      assert.strictEqual(entry(written, "deploy").status, "succeeded")
      assert.deepStrictEqual((yield* questionsAsked).map((q) => q.key), ["gated:deploy"])
      assert.deepStrictEqual(outcomes(written).map((o) => [o.policy, o.source, o.decision]), [
        ["never", "policy", "denied"],
        ["on-request", "prompt", "granted"]
      ])
    }).pipe(Effect.provide(app([gated], { approvals: { "gated:deploy": "granted" } }))))
})

describe("RunEngine approvals: nested pipelines", () => {
  const release = pipeline("release", [commandStage("ship", "./ship", { title: "Ship", approvalRequired: true })], {
    guardrailsRequired: false
  })
  const outer = pipeline("outer", [commandStage("prep", "echo prep"), nestedStage("child", "release")], {
    guardrailsRequired: false
  })

  it.effect("a child run's stage asks too, and its decision is recorded in the child's manifest", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "outer" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.deepStrictEqual(yield* questionsAsked, [
        { key: "release:ship", stageId: "ship", title: "Ship", command: "./ship" }
      ])
      assert.deepStrictEqual(yield* invokedCommands, ["echo prep", "./ship"])
      assert.deepStrictEqual(written.approvals, [], "the parent took no decision itself")
      const childPath = written.child_runs[0]?.manifest ?? assert.fail("no child run")
      const child = yield* manifestFile(`/repo/${childPath}`)
      assert.strictEqual(child.status, "succeeded")
      assert.deepStrictEqual(outcomes(child), [
        { stage_id: "ship", key: "release:ship", policy: "on-request", source: "prompt", decision: "granted" }
      ])
    }).pipe(Effect.provide(app([outer, release], { approvals: { "release:ship": "granted" } }))))

  it.effect("the child inherits the policy: never fails the child stage and with it the parent", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "outer", approvalPolicy: "never" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "failed")
      assert.strictEqual(written.status_detail, "subpipeline:release:failed")
      const childPath = written.child_runs[0]?.manifest ?? assert.fail("no child run")
      const child = yield* manifestFile(`/repo/${childPath}`)
      assert.strictEqual(child.approval_policy, "never")
      assert.strictEqual(child.status_detail, "stage:ship:approval-required")
      assert.deepStrictEqual(outcomes(child).map((o) => [o.policy, o.source, o.decision]), [["never", "policy", "denied"]])
      assert.notInclude(yield* invokedCommands, "./ship")
      assert.deepStrictEqual(yield* questionsAsked, [])
    }).pipe(Effect.provide(app([outer, release], { approvals: { "release:ship": "granted" } }))))

  it.effect("a grant in the parent covers a child stage with the same key", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "outer-shared" })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.deepStrictEqual((yield* questionsAsked).map((q) => q.stageId), ["prep"])
      assert.deepStrictEqual(outcomes(written).map((o) => o.source), ["prompt"])
      const childPath = written.child_runs[0]?.manifest ?? assert.fail("no child run")
      const child = yield* manifestFile(`/repo/${childPath}`)
      assert.deepStrictEqual(outcomes(child).map((o) => [o.stage_id, o.key, o.source]), [["ship", "prod", "cache"]])
    }).pipe(Effect.provide(app([
      pipeline("outer-shared", [
        commandStage("prep", "echo prep", { approvalRequired: true, approvalKey: "prod" }),
        nestedStage("child", "release-shared")
      ], { guardrailsRequired: false }),
      pipeline("release-shared", [commandStage("ship", "./ship", { approvalRequired: true, approvalKey: "prod" })], {
        guardrailsRequired: false
      })
    ], { approvals: { prod: ["granted", "denied"] } }))))
})

describe("RunEngine approvals: stages side by side (B-2)", () => {
  /** Three independent 1 s stages; two ask a person, who takes 2 s per answer. */
  const sideBySide = pipeline("side", [
    commandStage("migrate", "./migrate", { approvalRequired: true, needs: [] }),
    commandStage("ship", "./ship", { approvalRequired: true, needs: [] }),
    commandStage("prep", "echo prep", { needs: [] })
  ], { guardrailsRequired: false })

  it.effect("prompts are asked one at a time, and hold only their own stage", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "side", concurrency: 3 })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      // The second question waits for the first answer: answers at 2 s and 4 s, not both at 2 s.
      assert.deepStrictEqual(written.approvals.map((o) => [o.stage_id, o.timestamp]), [["migrate", at(2000)], ["ship", at(4000)]])
      assert.deepStrictEqual((yield* questionsAsked).map((q) => q.stageId), ["migrate", "ship"])
      // The stage that needs no approval ran at once (2 s, its scripted duration, from 0).
      const prep = written.commands.find((c) => c.id === "prep") ?? assert.fail("no prep entry")
      assert.deepStrictEqual([prep.started_at, prep.completed_at], [at(0), at(2000)])
      const ship = written.commands.find((c) => c.id === "ship") ?? assert.fail("no ship entry")
      assert.strictEqual(ship.started_at, at(4000))
    }).pipe(Effect.provide(app([sideBySide], {
      approvals: { "side:migrate": "granted", "side:ship": "granted" },
      approvalThinkTime: "2 seconds"
    }))))

  it.effect("a grant given while a stage waited is used without asking again", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "side-shared", concurrency: 2 })
      const written = yield* manifestFile(layout.manifest)
      assert.strictEqual(written.status, "succeeded")
      assert.deepStrictEqual(written.approvals.map((o) => [o.stage_id, o.source, o.timestamp]), [
        ["migrate", "prompt", at(2000)],
        ["ship", "cache", at(2000)]
      ])
      assert.strictEqual((yield* questionsAsked).length, 1)
    }).pipe(Effect.provide(app([
      pipeline("side-shared", [
        commandStage("migrate", "./migrate", { approvalRequired: true, approvalKey: "prod", needs: [] }),
        commandStage("ship", "./ship", { approvalRequired: true, approvalKey: "prod", needs: [] })
      ], { guardrailsRequired: false })
    ], { approvals: { prod: "granted" }, approvalThinkTime: "2 seconds" }))))
})
