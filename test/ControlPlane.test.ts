/**
 * The control plane (SPEC CP-1..8, GRP-4, TM-7; DECISIONS D-5, D-6, D-16): the run request for every
 * pipeline shape, its validation, the TF-GRPO bounds and guardrails, the drift report, and the
 * Live (disk, Config) and Memory layers.
 */
import { FileSystem, Path } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Schema, TestClock } from "effect"
import {
  ControlPlaneSection,
  controlPlaneSectionOf,
  controlPlaneSummaryOf,
  type ControlPlaneValidationFailed,
  DriftReport,
  driftReportMaxEntries,
  updateDriftReport
} from "../src/domain/ControlPlane.js"
import type { RunRequestV2 } from "../src/domain/RunRequest.js"
import { buildRunRequest, type RunRequestInput } from "../src/domain/RunRequestBuilder.js"
import { jsonPath, validateRunRequest, type ValidationIssue } from "../src/domain/RunRequestValidation.js"
import {
  type GroupSettings,
  GroupSizeExceedsCapacity,
  GroupSizeTooSmall,
  InvalidGroupSetting,
  noGroupNumbers,
  noGroupSettings
} from "../src/domain/TfgrpoGroup.js"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import { ControlPlaneLive, ControlPlaneMemory, InMemoryDriftReports } from "../src/layers/ControlPlane.js"
import { FilesLive } from "../src/layers/Files.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ControlPlane } from "../src/services/ControlPlane.js"
import { commandStage, nestedStage, pipeline } from "./support/pipelines.js"

const requestedAt = "2025-11-24T00:30:09.180Z"
const runId = "2025-11-24T00-30-09-180Z-33452943"
const paths = { artifactRoot: `.runs/demo-task/cli/${runId}`, runsRoot: ".runs", outRoot: "out" }
const trivial = pipeline("trivial", [commandStage("hello", "echo hello"), commandStage("guard", "spec-guard")], {
  title: "Trivial Pipeline"
})

const inputFor = (overrides: Partial<RunRequestInput> = {}): RunRequestInput => ({
  task: { id: "demo-task", slug: "demo-task", title: "Task demo-task" },
  pipeline: trivial,
  group: noGroupSettings,
  runId,
  paths,
  requestedAt,
  ...overrides
})

const build = (overrides: Partial<RunRequestInput> = {}): RunRequestV2 =>
  Either.getOrThrowWith(buildRunRequest(inputFor(overrides)), (error) => new Error(error.message))

const guardrail = (overrides: Partial<RunRequestInput>) =>
  Either.match(buildRunRequest(inputFor(overrides)), {
    onLeft: (error) => error,
    onRight: () => assert.fail("expected a guardrail violation")
  })

const group = (settings: Partial<GroupSettings>): GroupSettings => ({ ...noGroupSettings, ...settings })

const paths_ = (issues: ReadonlyArray<ValidationIssue>) => issues.map((issue) => issue.path)

describe("buildRunRequest (CP-2, D-16)", () => {
  it("a plain pipeline: general capability, the fixed sections, the seed's observed bounds", () => {
    const request = build()
    assert.deepStrictEqual(request, {
      schema: "codex.control-plane.run-request",
      version: "2.0.0",
      requestId: runId,
      task: { id: "demo-task", slug: "demo-task", title: "Task demo-task", tags: ["general"] },
      pipeline: {
        id: "trivial",
        version: "1.0.0",
        title: "Trivial Pipeline",
        capabilities: ["general"],
        stages: [
          { id: "hello", kind: "command", title: "hello", optional: false },
          { id: "guard", kind: "command", title: "guard", optional: false }
        ]
      },
      schedule: {
        strategy: "auto",
        minInstances: 1,
        maxInstances: 1,
        fanOut: [{ capability: "general", weight: 1, maxConcurrency: 2 }],
        recovery: { heartbeatIntervalSeconds: 30, missingHeartbeatTimeoutSeconds: 120, maxRetries: 3 }
      },
      streaming: { handles: true, resumeSupported: true, observers: { maxSubscribers: 8, defaultBackpressureMs: 250 } },
      constraints: { privacyLevel: "standard", policyVersion: "2025-10-01" },
      metrics: { emitIntervalSeconds: 30, requiredDimensions: ["instanceId", "phase", "status"] },
      requestedAt,
      requestedBy: { actorId: "codex-cli", channel: "cli", name: "Codex CLI" },
      metadata: { ...paths, pipelineId: "trivial", taskSlug: "demo-task" }
    })
    assert.deepStrictEqual(validateRunRequest(request), [])
  })

  it("D-16: absent description and metadata are omitted, not undefined, and the request validates", () => {
    const request = build({ task: { id: "t1", title: "Task t1" } })
    assert.deepStrictEqual(Object.keys(request.task), ["id", "title", "tags"])
    assert.isFalse("description" in request.task)
    assert.isFalse("metadata" in request.task)
    assert.isFalse("slug" in request.task)
    assert.strictEqual(request.metadata?.taskSlug, "t1")
    assert.isFalse("tfgrpo" in (request.metadata ?? {}))
    assert.deepStrictEqual(validateRunRequest(request), [])
    // The original's defect: the key present as undefined is what CP-4 rejects.
    const defective = { ...request, task: { ...request.task, description: undefined } }
    assert.deepStrictEqual(validateRunRequest(defective), [
      { path: "$.task.description", message: "Expected a string, actual undefined", expected: "a string" }
    ])
  })

  it("a task with description and metadata carries both", () => {
    const request = build({
      task: { id: "t1", slug: "t-one", title: "One", description: "Does one thing", metadata: { execution: { parallel: true } } }
    })
    assert.deepStrictEqual(request.task, {
      id: "t1",
      slug: "t-one",
      title: "One",
      description: "Does one thing",
      metadata: { execution: { parallel: true } },
      tags: ["general"]
    })
    assert.strictEqual(request.metadata?.taskSlug, "t-one")
    assert.deepStrictEqual(validateRunRequest(request), [])
  })

  it("tags become capabilities and task tags; one slot each, without repeats", () => {
    const request = build({ pipeline: { ...trivial, tags: ["frontend", "backend", "frontend"] } })
    assert.deepStrictEqual(request.pipeline.capabilities, ["frontend", "backend"])
    assert.deepStrictEqual(request.task.tags, ["frontend", "backend"])
    assert.deepStrictEqual(request.schedule.fanOut, [
      { capability: "frontend", weight: 1, maxConcurrency: 1 },
      { capability: "backend", weight: 1, maxConcurrency: 1 }
    ])
    assert.deepStrictEqual([request.schedule.minInstances, request.schedule.maxInstances], [1, 2])
    // Empty tags count as none.
    assert.deepStrictEqual(build({ pipeline: { ...trivial, tags: [] } }).pipeline.capabilities, ["general"])
  })

  it("nested, optional and allowFailure stages, and session capabilities", () => {
    const shaped: PipelineDefinition = pipeline("parent", [
      commandStage("build", "make", { title: "Build", session: { id: "s-1", persist: true } }),
      commandStage("lint", "lint", { title: "Lint", allowFailure: true }),
      commandStage("plain", "true", { title: "Plain", session: { reuse: true } }),
      nestedStage("child", "trivial", { title: "Child" }),
      nestedStage("maybe", "failing", { title: "Maybe", optional: true })
    ])
    assert.deepStrictEqual(build({ pipeline: shaped }).pipeline.stages, [
      { id: "build", kind: "command", title: "Build", optional: false, capabilities: ["session:s-1"] },
      { id: "lint", kind: "command", title: "Lint", optional: true },
      { id: "plain", kind: "command", title: "Plain", optional: false },
      { id: "child", kind: "subpipeline", title: "Child", optional: false },
      { id: "maybe", kind: "subpipeline", title: "Maybe", optional: true }
    ])
  })

  it("repo-relative roots: the repository itself is '.'", () => {
    const request = build({ paths: { artifactRoot: ".runs/x/cli/r", runsRoot: ".runs", outRoot: "" } })
    assert.strictEqual(request.metadata?.outRoot, ".")
    assert.deepStrictEqual(validateRunRequest(request), [])
  })
})

describe("TF-GRPO group settings (CP-3, CP-6, CP-7, GRP-4)", () => {
  it("the feature flag alone means a group of 2: min = max = 2, tfgrpo metadata with defaults", () => {
    const request = build({ group: group({ enabled: true }) })
    assert.deepStrictEqual([request.schedule.minInstances, request.schedule.maxInstances], [2, 2])
    assert.deepStrictEqual(request.metadata?.tfgrpo, {
      sampleSize: 100,
      epochs: 3,
      temperature: { train: 0.7, eval: 0.3 },
      groupSize: 2
    })
  })

  it("TFGRPO_GROUP_SIZE wins over the manifest's group size, which wins over the flag", () => {
    const tagged = { ...trivial, tags: ["a", "b", "c", "d"] }
    assert.strictEqual(build({ pipeline: tagged, group: group({ enabled: true, groupSize: 4 }), manifestGroupSize: 3 }).schedule.minInstances, 4)
    assert.strictEqual(build({ pipeline: tagged, group: group({ enabled: true }), manifestGroupSize: 3 }).schedule.minInstances, 3)
    assert.strictEqual(build({ pipeline: tagged, group: group({ enabled: true }), manifestGroupSize: 0 }).schedule.minInstances, 2)
    assert.strictEqual(build({ pipeline: tagged, manifestGroupSize: 3 }).schedule.maxInstances, 3)
  })

  it("CP-7: any TF-GRPO number alone adds metadata without a group size or group bounds", () => {
    const request = build({ group: group({ epochs: 5, evalTemperature: 0.1 }) })
    assert.deepStrictEqual(request.metadata?.tfgrpo, { sampleSize: 100, epochs: 5, temperature: { train: 0.7, eval: 0.1 } })
    assert.deepStrictEqual([request.schedule.minInstances, request.schedule.maxInstances], [1, 1])
  })

  it("CP-6: a group size below 2 is refused, with the original's texts", () => {
    const error = guardrail({ group: group({ groupSize: 1 }) })
    assert.instanceOf(error, GroupSizeTooSmall)
    assert.strictEqual(
      error.message,
      "TF-GRPO groupSize guardrail violated (expected ≥ 2): groupSize is 1. Set TFGRPO_GROUP_SIZE>=2 or disable FEATURE_TFGRPO_GROUP."
    )
    assert.strictEqual(
      error.logLine,
      "[control-plane.guard] TF-GRPO groupSize 1 violates guardrail (must be ≥ 2). Set TFGRPO_GROUP_SIZE>=2 or disable FEATURE_TFGRPO_GROUP."
    )
  })

  it("CP-6: a group larger than the fan-out capacity is refused (tag-less pipeline: capacity 2)", () => {
    const error = guardrail({ group: group({ enabled: true, groupSize: 3 }) })
    assert.instanceOf(error, GroupSizeExceedsCapacity)
    assert.strictEqual(
      error.message,
      "TF-GRPO groupSize exceeds available scheduling capacity: groupSize 3 > fan-out capacity 2. " +
        "Increase pipeline fan-out (add pipeline tags) or lower TFGRPO_GROUP_SIZE."
    )
    assert.strictEqual(
      error.logLine,
      "[control-plane.guard] TF-GRPO groupSize 3 exceeds available fan-out capacity (2). Increase pipeline fan-out or lower TFGRPO_GROUP_SIZE."
    )
    // Three tags give three slots: a group of 3 fits.
    const request = build({ pipeline: { ...trivial, tags: ["a", "b", "c"] }, group: group({ groupSize: 3 }) })
    assert.deepStrictEqual([request.schedule.minInstances, request.schedule.maxInstances], [3, 3])
  })
})

describe("validateRunRequest (CP-4)", () => {
  it("reports every problem with its $-path, value and expectation", () => {
    const valid = build()
    const broken = {
      ...valid,
      schema: "codex.other",
      version: "1.0.0",
      task: { ...valid.task, title: "" },
      pipeline: {
        ...valid.pipeline,
        stages: [{ id: "", kind: "shell", title: "Shell", optional: "no" }, ...valid.pipeline.stages.slice(1)]
      },
      schedule: { ...valid.schedule, strategy: "random", fanOut: [{ capability: "general", weight: 0, maxConcurrency: 1.5 }] },
      constraints: { privacyLevel: "public" },
      requestedAt: "yesterday"
    }
    const issues = validateRunRequest(broken)
    assert.deepStrictEqual(paths_(issues), [
      "$.schema",
      "$.version",
      "$.task.title",
      "$.pipeline.stages[0].id",
      "$.pipeline.stages[0].kind",
      "$.pipeline.stages[0].optional",
      "$.schedule.strategy",
      "$.schedule.fanOut[0].weight",
      "$.schedule.fanOut[0].maxConcurrency",
      "$.constraints.privacyLevel",
      "$.constraints.policyVersion",
      "$.requestedAt"
    ])
    const byPath = new Map(issues.map((issue) => [issue.path, issue]))
    assert.deepStrictEqual(byPath.get("$.schema"), {
      path: "$.schema",
      message: `Expected codex.control-plane.run-request, actual "codex.other"`,
      value: "codex.other",
      expected: "codex.control-plane.run-request"
    })
    assert.deepStrictEqual(byPath.get("$.task.title"), {
      path: "$.task.title",
      message: `Expected a non-empty string, actual ""`,
      value: "",
      expected: "a non-empty string"
    })
    assert.deepStrictEqual(byPath.get("$.pipeline.stages[0].kind"), {
      path: "$.pipeline.stages[0].kind",
      message: `Expected command | subpipeline, actual "shell"`,
      value: "shell",
      expected: "command | subpipeline"
    })
    assert.strictEqual(byPath.get("$.schedule.strategy")?.expected, "auto | manual")
    assert.strictEqual(byPath.get("$.constraints.privacyLevel")?.expected, "standard | restricted | sensitive")
    assert.deepStrictEqual(byPath.get("$.constraints.policyVersion"), {
      path: "$.constraints.policyVersion",
      message: "is missing",
      expected: "a non-empty string"
    })
    assert.strictEqual(byPath.get("$.schedule.fanOut[0].weight")?.expected, "a number > 0")
    assert.strictEqual(byPath.get("$.requestedAt")?.expected, "an ISO-8601 timestamp such as 2025-11-24T00:30:09.180Z")
  })

  // Seen on the built CLI: enforce mode refused a pipeline titled "" and ran one titled "   ".
  it("a blank string (spaces, a tab, a line break) is no more a title, an id or a tag than an empty one", () => {
    const valid = build()
    const blank = {
      ...valid,
      task: { ...valid.task, title: " \t " },
      pipeline: { ...valid.pipeline, title: "   ", capabilities: ["general", "\n"] }
    }
    const issues = validateRunRequest(blank)
    assert.deepStrictEqual(issues.map((issue) => [issue.path, issue.message, issue.expected]), [
      ["$.task.title", `Expected a non-empty string, actual " \\t "`, "a non-empty string"],
      ["$.pipeline.title", `Expected a non-empty string, actual "   "`, "a non-empty string"],
      ["$.pipeline.capabilities[1]", `Expected a non-empty string, actual "\\n"`, "a non-empty string"]
    ])
    assert.deepStrictEqual(validateRunRequest({ ...valid, pipeline: { ...valid.pipeline, title: " Trivial " } }), [])
  })

  it("integer minimums and max ≥ min", () => {
    const valid = build()
    const issues = validateRunRequest({
      ...valid,
      schedule: { ...valid.schedule, minInstances: 3, maxInstances: 2 },
      streaming: { ...valid.streaming, observers: { maxSubscribers: 0, defaultBackpressureMs: -1 } },
      metrics: { emitIntervalSeconds: 30, requiredDimensions: [] }
    })
    assert.deepStrictEqual(issues, [
      {
        path: "$.schedule.maxInstances",
        message: "maxInstances (2) must be greater than or equal to minInstances (3).",
        value: 2,
        expected: "maxInstances ≥ minInstances"
      },
      {
        path: "$.streaming.observers.maxSubscribers",
        message: "Expected an integer ≥ 1, actual 0",
        value: 0,
        expected: "an integer ≥ 1"
      },
      {
        path: "$.streaming.observers.defaultBackpressureMs",
        message: "Expected an integer ≥ 0, actual -1",
        value: -1,
        expected: "an integer ≥ 0"
      },
      {
        path: "$.metrics.requiredDimensions",
        message: "Expected a non-empty array of non-empty strings, actual []",
        value: [],
        expected: "a non-empty array of non-empty strings"
      }
    ])
  })

  it("empty stage lists, missing sections and non-objects", () => {
    const valid = build()
    const { requestedBy: _, ...withoutRequester } = valid
    assert.deepStrictEqual(paths_(validateRunRequest({ ...withoutRequester, pipeline: { ...valid.pipeline, stages: [] } })), [
      "$.pipeline.stages",
      "$.requestedBy"
    ])
    assert.deepStrictEqual(validateRunRequest(7), [{ path: "$", message: "Expected an object, actual 7", value: 7, expected: "an object" }])
  })

  it("$-paths: dots for names, brackets for indexes and other keys", () => {
    assert.strictEqual(jsonPath([]), "$")
    assert.strictEqual(jsonPath(["pipeline", "stages", 0, "id"]), "$.pipeline.stages[0].id")
    assert.strictEqual(jsonPath(["task", "metadata", "a-b"]), `$.task.metadata["a-b"]`)
  })
})

const sample = (n: number, errors: ReadonlyArray<ValidationIssue> = []) => ({
  requestId: `run-${n}`,
  timestamp: new Date(n * 1000).toISOString(),
  mode: "shadow" as const,
  errors
})
const anIssue: ValidationIssue = { path: "$.task.title", message: "Expected a non-empty string, actual \"\"", value: "" }

describe("drift report (CP-8)", () => {
  it("counts every validation; a passing entry only into an empty list", () => {
    const first = updateDriftReport(undefined, sample(1))
    assert.deepStrictEqual(first, {
      schema_id: "codex.control-plane.run-request",
      schema_version: "2.0.0",
      total_samples: 1,
      invalid_samples: 0,
      invalid_rate: 0,
      last_sampled_at: sample(1).timestamp,
      mode: "shadow",
      entries: [{ request_id: "run-1", timestamp: sample(1).timestamp, status: "passed", mode: "shadow", errors: [] }]
    })
    const second = updateDriftReport(first, sample(2))
    assert.strictEqual(second.total_samples, 2)
    assert.strictEqual(second.entries.length, 1)
    const third = updateDriftReport(second, sample(3, [anIssue]))
    assert.deepStrictEqual(
      third.entries.map((e) => [e.request_id, e.status]),
      [["run-1", "passed"], ["run-3", "failed"]]
    )
    assert.strictEqual(third.invalid_samples, 1)
    assert.strictEqual(third.invalid_rate, 1 / 3)
    assert.strictEqual(third.last_sampled_at, sample(3).timestamp)
    assert.deepStrictEqual(third.entries[1]?.errors, [anIssue])
  })

  it("keeps at most 50 entries, dropping the oldest; counts stay complete", () => {
    let report: DriftReport | undefined
    for (let n = 1; n <= 60; n++) report = updateDriftReport(report, sample(n, [anIssue]))
    assert.strictEqual(report?.entries.length, driftReportMaxEntries)
    assert.strictEqual(report?.entries[0]?.request_id, "run-11")
    assert.strictEqual(report?.entries.at(-1)?.request_id, "run-60")
    assert.strictEqual(report?.total_samples, 60)
    assert.strictEqual(report?.invalid_rate, 1)
    // The report round-trips through its schema.
    assert.isTrue(Schema.is(DriftReport)(report))
  })

  it("the section (CP-5) and its run-summary form (TM-7)", () => {
    const report = updateDriftReport(undefined, sample(1, [anIssue]))
    const section = controlPlaneSectionOf({ ...sample(1, [anIssue]), mode: "enforce" }, report, "out/t/control-plane/drift.json")
    assert.isTrue(Schema.is(ControlPlaneSection)(section))
    assert.deepStrictEqual(section.validation.status, "failed")
    assert.deepStrictEqual(section.enforcement, { enabled: true, activated_at: sample(1).timestamp })
    assert.deepStrictEqual(controlPlaneSummaryOf(section), {
      schemaId: "codex.control-plane.run-request",
      schemaVersion: "2.0.0",
      requestId: "run-1",
      validation: section.validation,
      drift: {
        reportPath: "out/t/control-plane/drift.json",
        totalSamples: 1,
        invalidSamples: 1,
        invalidRate: 1,
        lastSampledAt: sample(1).timestamp,
        mode: "shadow"
      }
    })
  })
})

const invalidRequest = (): RunRequestV2 => {
  const valid = build()
  return { ...valid, task: { ...valid.task, title: "" }, pipeline: { ...valid.pipeline, title: "" } }
}

/** The failure of `validate`, which must be a validation failure (not a file error). */
const validationFailure = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flip(effect).pipe(
    Effect.filterOrDieMessage(
      (error): error is Extract<E, ControlPlaneValidationFailed> => error._tag === "ControlPlaneValidationFailed",
      "expected ControlPlaneValidationFailed"
    )
  )

describe("ControlPlaneMemory", () => {
  it.effect("shadow: an invalid request is recorded and the run goes on", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse(requestedAt))
      const controlPlane = yield* ControlPlane
      assert.strictEqual(controlPlane.mode, "shadow")
      const section = yield* controlPlane.validate(invalidRequest(), { taskId: "demo-task" })
      assert.strictEqual(section.validation.status, "failed")
      assert.deepStrictEqual(paths_(section.validation.errors), ["$.task.title", "$.pipeline.title"])
      assert.deepStrictEqual(section.enforcement, { enabled: false, activated_at: null })
      assert.deepStrictEqual(section.drift, {
        report_path: "out/demo-task/control-plane/drift.json",
        total_samples: 1,
        invalid_samples: 1,
        invalid_rate: 1,
        last_sampled_at: requestedAt,
        mode: "shadow"
      })
      const passed = yield* controlPlane.validate(build(), { taskId: "demo-task" })
      assert.strictEqual(passed.validation.status, "passed")
      assert.strictEqual(passed.drift.invalid_rate, 0.5)
      const report = yield* (yield* InMemoryDriftReports).read("demo-task")
      assert.strictEqual(report?.total_samples, 2)
      assert.strictEqual(report?.entries.length, 1)
    }).pipe(Effect.provide(ControlPlaneMemory())))

  it.effect("enforce: an invalid request fails with the errors and the section, after counting it", () =>
    Effect.gen(function*() {
      const controlPlane = yield* ControlPlane
      const error = yield* validationFailure(controlPlane.validate(invalidRequest(), { taskId: "t" }))
      assert.strictEqual(error.headline, "Control plane validation failed (2 errors).")
      assert.strictEqual(error.summaryLine, "Control plane validation failed: Control plane validation failed (2 errors).")
      assert.strictEqual(
        error.message,
        `Control plane validation failed (2 errors). $.task.title: Expected a non-empty string, actual ""; ` +
          `$.pipeline.title: Expected a non-empty string, actual "". ` +
          "Fix the pipeline or task definition, or set CODEX_CONTROL_PLANE_MODE=shadow to record without blocking."
      )
      assert.strictEqual(error.section.validation.status, "failed")
      assert.deepStrictEqual(error.section.enforcement, { enabled: true, activated_at: error.section.validation.timestamp })
      assert.strictEqual((yield* (yield* InMemoryDriftReports).read("t"))?.invalid_samples, 1)
      // A valid request passes in enforce mode too.
      const section = yield* controlPlane.validate(build(), { taskId: "t" })
      assert.strictEqual(section.validation.status, "passed")
      assert.strictEqual(section.enforcement.enabled, true)
    }).pipe(Effect.provide(ControlPlaneMemory({ mode: "enforce" }))))

  it.effect("one error reads 'error'; group settings are given, or fail", () =>
    Effect.gen(function*() {
      const valid = build()
      const error = yield* validationFailure((yield* ControlPlane).validate({ ...valid, requestId: "" }, { taskId: "t" }))
      assert.strictEqual(error.headline, "Control plane validation failed (1 error).")
      assert.deepStrictEqual(yield* (yield* ControlPlane).groupSettings, noGroupSettings)
      const bad = new InvalidGroupSetting({ variable: "TFGRPO_GROUP_SIZE", value: "x", expected: "a positive integer" })
      const failed = yield* Effect.flip(
        Effect.flatMap(ControlPlane, (cp) => cp.groupSettings).pipe(Effect.provide(ControlPlaneMemory({ groupSettings: bad })))
      )
      assert.strictEqual(failed, bad)
    }).pipe(Effect.provide(ControlPlaneMemory({ mode: "enforce" }))))
})

describe("ControlPlaneLive", () => {
  const live = (repoRoot: string, env: Record<string, string>, outRoot?: string) =>
    ControlPlaneLive.pipe(
      Layer.provide(FilesLive),
      Layer.provide(
        OrchestratorConfigTest(
          repoRoot,
          outRoot === undefined ? {} : { roots: { repoRoot, runsRoot: `${repoRoot}/.runs`, outRoot } }
        )
      ),
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
    )

  it.scoped("writes drift.json under the out root, atomically, and accumulates across validations", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const program = Effect.gen(function*() {
        const controlPlane = yield* ControlPlane
        const first = yield* controlPlane.validate(build(), { taskId: "demo-task" })
        assert.strictEqual(first.drift.report_path, "out/demo-task/control-plane/drift.json")
        yield* controlPlane.validate(invalidRequest(), { taskId: "demo-task" })
      })
      yield* Effect.provide(program, live(dir, {}))
      const folder = `${dir}/out/demo-task/control-plane`
      // No temp file is left behind next to the report.
      assert.deepStrictEqual(yield* fs.readDirectory(folder), ["drift.json"])
      const text = yield* fs.readFileString(`${folder}/drift.json`)
      assert.isTrue(text.endsWith("}\n"))
      const report = yield* Schema.decodeUnknown(Schema.parseJson(DriftReport))(text)
      assert.strictEqual(report.total_samples, 2)
      assert.strictEqual(report.invalid_samples, 1)
      assert.deepStrictEqual(report.entries.map((e) => e.status), ["passed", "failed"])
      // A new layer (a new process) continues the same report.
      yield* Effect.provide(Effect.flatMap(ControlPlane, (cp) => cp.validate(build(), { taskId: "demo-task" })), live(dir, {}))
      const again = yield* Schema.decodeUnknown(Schema.parseJson(DriftReport))(yield* fs.readFileString(`${folder}/drift.json`))
      assert.strictEqual(again.total_samples, 3)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("D-5: a custom out root is honoured, and the report path is repo-relative", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = yield* fs.makeTempDirectoryScoped()
      const outRoot = path.join(dir, "elsewhere", "out")
      const section = yield* Effect.provide(
        Effect.flatMap(ControlPlane, (cp) => cp.validate(build(), { taskId: "t1" })),
        live(path.join(dir, "repo"), {}, outRoot)
      )
      assert.strictEqual(section.drift.report_path, "../elsewhere/out/t1/control-plane/drift.json")
      assert.isTrue(yield* fs.exists(path.join(outRoot, "t1", "control-plane", "drift.json")))
      assert.isFalse(yield* fs.exists(path.join(dir, "repo", "out")))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a damaged drift.json is replaced by a new report", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* fs.makeDirectory(`${dir}/out/t/control-plane`, { recursive: true })
      yield* fs.writeFileString(`${dir}/out/t/control-plane/drift.json`, "{ not json")
      const section = yield* Effect.provide(Effect.flatMap(ControlPlane, (cp) => cp.validate(build(), { taskId: "t" })), live(dir, {}))
      assert.strictEqual(section.drift.total_samples, 1)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("CP-1: MODE, else ENFORCE (PRIV-1 parsing); enforce fails an invalid request after writing the report", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const modeWith = (env: Record<string, string>) =>
        Effect.provide(Effect.map(ControlPlane, (cp) => cp.mode), live(dir, env))
      assert.strictEqual(yield* modeWith({}), "shadow")
      assert.strictEqual(yield* modeWith({ CODEX_CONTROL_PLANE_MODE: "enforce" }), "enforce")
      assert.strictEqual(yield* modeWith({ CODEX_CONTROL_PLANE_ENFORCE: "1" }), "enforce")
      assert.strictEqual(yield* modeWith({ CODEX_CONTROL_PLANE_MODE: "", CODEX_CONTROL_PLANE_ENFORCE: "1" }), "shadow")
      assert.strictEqual(yield* modeWith({ CODEX_CONTROL_PLANE_MODE: "shadow", CODEX_CONTROL_PLANE_ENFORCE: "true" }), "shadow")
      const error = yield* Effect.flip(Effect.provide(
        Effect.flatMap(ControlPlane, (cp) => cp.validate(invalidRequest(), { taskId: "t" })),
        live(dir, { CODEX_CONTROL_PLANE_MODE: "enforce" })
      ))
      assert.strictEqual(error._tag, "ControlPlaneValidationFailed")
      const report = yield* Schema.decodeUnknown(Schema.parseJson(DriftReport))(
        yield* fs.readFileString(`${dir}/out/t/control-plane/drift.json`)
      )
      assert.deepStrictEqual([report.invalid_samples, report.mode], [1, "enforce"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("group settings are the engine's (decoded once, with FEATURE_TFGRPO_GROUP); the TF-GRPO variables are not read again", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const layer = ControlPlaneLive.pipe(
        Layer.provide(FilesLive),
        Layer.provide(OrchestratorConfigTest(dir, { groupExecution: true, tfgrpoGroup: { ...noGroupNumbers, groupSize: 2, epochs: 4 } })),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["TFGRPO_GROUP_SIZE", "two"]]))))
      )
      assert.deepStrictEqual(
        yield* Effect.provide(Effect.flatMap(ControlPlane, (cp) => cp.groupSettings), layer),
        group({ enabled: true, groupSize: 2, epochs: 4 })
      )
    }).pipe(Effect.provide(NodeContext.layer)))
})
