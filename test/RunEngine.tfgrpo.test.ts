/**
 * TF-GRPO runs on the deterministic test kit (SPEC TFG-1..4, PER-4, MET-1, MET-3, CP-3): the
 * manifest's tfgrpo section with a tool metric per command stage, the experience a run writes, the
 * experiences the next run's prompt packs get, a held lock, and the recorded group size on resume.
 */
import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { MetricsEntry } from "../src/domain/Metrics.js"
import { Experience, formatExperience } from "../src/domain/Tfgrpo.js"
import { AppMemory, type MemoryAppOptions } from "../src/layers/App.js"
import { InMemoryFiles } from "../src/layers/Files.js"
import { RunEngine, type ResumeRequest, type StartRequest } from "../src/services/RunEngine.js"
import { decodeJson, fileText, listFiles, manifestFile } from "./support/files.js"
import { commandStage, pipeline } from "./support/pipelines.js"
import { withLogs } from "./support/logs.js"

const systemFile = ".agent/prompts/impl.md"
const systemContent = "# Implementation\nBe precise.\n"
const stamp = createHash("sha256").update(`system:${systemFile}\n${systemContent.trim()}\n`, "utf8").digest("hex")
const packs = {
  [systemFile]: systemContent,
  ".agent/prompts/prompt-packs/impl/manifest.json": JSON.stringify({
    id: "impl-pack",
    domain: "implementation",
    stamp,
    experienceSlots: 2,
    system: systemFile
  })
}

const tf = pipeline("tf", [commandStage("build", "make"), commandStage("test", "run-tests")])
const flaky = pipeline("flaky", [commandStage("build", "make"), commandStage("check", "./check")])

const scripts: NonNullable<MemoryAppOptions["scripts"]> = {
  make: { output: [{ stream: "stdout", data: "compiled 3 fi" }, { stream: "stdout", data: "les\nall good\n" }], duration: "2 seconds" },
  "run-tests": { output: [{ stream: "stdout", data: "ok 1\nok 2 passed\n" }, { stream: "stderr", data: "not counted\n" }] },
  "./check": [{ exitCode: 1 }, { output: [{ stream: "stdout", data: "fine now\n" }] }]
}

const experiencesPath = "/repo/out/t/experiences.jsonl"
const lockPath = "/repo/.runs/t.experiences.lock"

const app = (options: Partial<MemoryAppOptions> = {}) =>
  AppMemory({
    pipelines: { user: [tf, flaky] },
    scripts,
    promptPacks: packs,
    settings: { tfgrpoEpoch: 1, tfgrpoGroupId: "g1" },
    ...options
  })

const start = (request: StartRequest) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork((yield* RunEngine).start(request))
    yield* TestClock.adjust("1 minute")
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run did not finish")
    return yield* Fiber.join(fiber)
  })

const resume = (request: ResumeRequest) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork((yield* RunEngine).resume(request))
    yield* TestClock.adjust("1 minute")
    return yield* Fiber.join(fiber)
  })

const experiencesOnDisk = Effect.gen(function*() {
  const text = yield* Effect.flatMap(InMemoryFiles, (files) => files.read(experiencesPath))
  if (text === undefined) return []
  return yield* Effect.forEach(text.split("\n").filter((line) => line.length > 0), decodeJson(Experience))
})

const metricsLines = Effect.flatMap(fileText("/repo/.runs/t/metrics.json"), (text) =>
  Effect.forEach(text.split("\n").filter((line) => line.length > 0), decodeJson(MetricsEntry)))

describe("RunEngine with TF-GRPO (TFG-1..4)", () => {
  it.effect("the manifest's tfgrpo section: context, a tool metric per command stage, the experience written", () =>
    Effect.gen(function*() {
      const { layout, manifest } = yield* start({ pipelineId: "tf", taskId: "t" })
      assert.strictEqual(manifest.status, "succeeded")
      const written = yield* manifestFile(layout.manifest)
      const section = written.tfgrpo
      assert(section !== undefined && section !== null, "tfgrpo section")
      assert.strictEqual(section.epoch, 1)
      assert.strictEqual(section.group_id, "g1")
      assert.isNull(section.group_size)
      assert.deepStrictEqual(section.tool_metrics, {
        tool_calls: 2,
        token_total: 10,
        cost_usd: 0.00002,
        latency_ms: 2000,
        per_tool: [
          { tool: "build", tokens: 5, costUsd: 0.00001, latencyMs: 2000, attempts: 1, status: "succeeded", sandboxState: "sandboxed" },
          { tool: "test", tokens: 5, costUsd: 0.00001, latencyMs: 0, attempts: 1, status: "succeeded", sandboxState: "sandboxed" }
        ]
      })

      const [experience, ...rest] = yield* experiencesOnDisk
      assert.strictEqual(rest.length, 0)
      assert(experience !== undefined)
      assert.match(experience.id, /^exp-[0-9a-z]+-[0-9a-f]{6}$/)
      assert.deepStrictEqual({ ...experience, id: "<id>", createdAt: "<at>" }, {
        id: "<id>",
        runId: written.run_id,
        taskId: "t",
        epoch: 1,
        groupId: "g1",
        summary32: "compiled 3 files all good",
        reward: { gtScore: 0, relativeRank: 0 },
        toolStats: section.tool_metrics.per_tool,
        stampSignature: stamp,
        domain: "implementation",
        createdAt: "<at>",
        manifestPath: `.runs/t/cli/${written.run_id}/manifest.json`
      })
      assert.deepStrictEqual(section.experiences, {
        ids: [experience.id],
        written: 1,
        manifest_path: `.runs/t/cli/${written.run_id}/manifest.json`
      })
      assert.isTrue(written.metrics_recorded)
      assert.isFalse("experiences" in (written.prompt_packs?.[0] ?? {}), "TFG-4: no experiences yet, no field")
      assert.isFalse((yield* listFiles).includes(lockPath), "the experience lock is released")
    }).pipe(Effect.provide(app())))

  it.effect("the metrics line carries the epoch, group and token counts (MET-1); per-epoch.json is written (MET-3)", () =>
    Effect.gen(function*() {
      yield* start({ pipelineId: "tf", taskId: "t" })
      const [line] = yield* metricsLines
      assert(line !== undefined)
      assert.strictEqual(line.tfgrpo_epoch, 1)
      assert.strictEqual(line.tfgrpo_group_id, "g1")
      assert.isNull(line.tfgrpo_group_size)
      assert.strictEqual(line.token_total, 10)
      assert.strictEqual(line.cost_usd, 0.00002)
      assert.strictEqual(line.tool_stats?.length, 2)
      const perEpoch: unknown = JSON.parse(yield* fileText("/repo/.runs/t/metrics/per-epoch.json"))
      assert.deepPropertyVal(perEpoch, "epochs", [{
        epoch: 1,
        runs: 1,
        succeeded_runs: 1,
        completion_rate: 1,
        tool_calls: 2,
        token_total: 10,
        cost_usd: 0.00002,
        latency_ms: 2000,
        group_size_avg: null,
        tools: [
          { tool: "build", runs: 1, tokens: 5, cost_usd: 0.00001, latency_ms: 2000 },
          { tool: "test", runs: 1, tokens: 5, cost_usd: 0.00001, latency_ms: 0 }
        ]
      }])
    }).pipe(Effect.provide(app())))

  it.effect("the next run's prompt pack gets the experiences of its domain, best and newest first (TFG-4)", () =>
    Effect.gen(function*() {
      yield* start({ pipelineId: "tf", taskId: "t" })
      const [first] = yield* experiencesOnDisk
      assert(first !== undefined)
      yield* TestClock.adjust("1 second")
      const second = yield* start({ pipelineId: "tf", taskId: "t" })
      const secondPacks = (yield* manifestFile(second.layout.manifest)).prompt_packs ?? []
      assert.deepStrictEqual(secondPacks[0]?.experiences, [formatExperience(first, 32)])
      assert.strictEqual(
        secondPacks[0]?.experiences?.[0],
        `[exp ${first.id} | epoch 1 | reward 0.00] compiled 3 files all good (stats: build: 5t/0.000usd/2000ms; test: 5t/0.000usd/0ms)`
      )

      const all = yield* experiencesOnDisk
      assert.strictEqual(all.length, 2)
      yield* TestClock.adjust("1 second")
      const third = yield* start({ pipelineId: "tf", taskId: "t" })
      const thirdPacks = (yield* manifestFile(third.layout.manifest)).prompt_packs ?? []
      assert.deepStrictEqual(thirdPacks[0]?.experiences, [all[1], all[0]].map((e) => formatExperience(e!, 32)), "newest first")
      // Another task sees none of them.
      const other = yield* start({ pipelineId: "tf", taskId: "u" })
      assert.isUndefined((yield* manifestFile(other.layout.manifest)).prompt_packs?.[0]?.experiences)
    }).pipe(Effect.provide(app())))

  it.effect("TFGRPO_EXPERIENCE_MAX_WORDS limits the stored and the injected summary", () =>
    Effect.gen(function*() {
      yield* start({ pipelineId: "tf", taskId: "t" })
      const [first] = yield* experiencesOnDisk
      assert.strictEqual(first?.summary32, "compiled 3")
      const second = yield* start({ pipelineId: "tf", taskId: "t" })
      assert.include((yield* manifestFile(second.layout.manifest)).prompt_packs?.[0]?.experiences?.[0] ?? "", "] compiled 3 (stats:")
    }).pipe(Effect.provide(app({ settings: { tfgrpoEpoch: 1, tfgrpoGroupId: "g1", experienceMaxWords: 2 } }))))

  it.effect("TF-GRPO off: tfgrpo is null, no experience, the metrics line's TF-GRPO fields are null (MAN-3)", () =>
    Effect.gen(function*() {
      const { layout } = yield* start({ pipelineId: "tf", taskId: "t" })
      const written = yield* manifestFile(layout.manifest)
      assert.isNull(written.tfgrpo)
      assert.deepStrictEqual(yield* experiencesOnDisk, [])
      const [line] = yield* metricsLines
      assert.isNull(line?.tfgrpo_epoch)
      assert.isNull(line?.token_total)
      assert.isNull(line?.tool_stats)
    }).pipe(Effect.provide(app({ settings: {} }))))

  it.effect("TFGRPO_GROUP_SIZE alone makes a run a TF-GRPO run, its size recorded", () =>
    Effect.gen(function*() {
      const { layout } = yield* start({ pipelineId: "tf", taskId: "t" })
      const written = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(
        [written.tfgrpo?.epoch, written.tfgrpo?.group_id, written.tfgrpo?.group_size],
        [null, null, 2]
      )
      assert.strictEqual(written.scheduler?.min_instances, 2)
    }).pipe(Effect.provide(app({
      settings: {},
      controlPlane: {
        groupSettings: {
          enabled: false,
          groupSize: 2,
          sampleSize: undefined,
          epochs: undefined,
          trainTemperature: undefined,
          evalTemperature: undefined
        }
      }
    }))))

  it.effect("a held experience lock is retried, then a warning: the run and its manifest are unaffected (PER-4)", () =>
    Effect.gen(function*() {
      yield* Effect.flatMap(InMemoryFiles, (files) => files.write(lockPath, "4242@elsewhere\n"))
      const [{ layout, manifest }, logs] = yield* withLogs(start({ pipelineId: "tf", taskId: "t" }))
      assert.strictEqual(manifest.status, "succeeded")
      const written = yield* manifestFile(layout.manifest)
      assert.isTrue(written.metrics_recorded)
      assert.deepStrictEqual(written.tfgrpo?.experiences, {
        ids: [],
        written: 0,
        manifest_path: `.runs/t/cli/${written.run_id}/manifest.json`
      })
      assert.strictEqual(written.tfgrpo?.tool_metrics.tool_calls, 2, "the metrics are kept")
      assert.deepStrictEqual(yield* experiencesOnDisk, [])
      const warnings = logs.filter(([level, message]) => level === "WARN" && message.startsWith("TF-GRPO experience not recorded"))
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]?.[1] ?? "", `Failed to acquire experience store lock for t after 5 attempts (${lockPath} held by 4242@elsewhere)`)
    }).pipe(Effect.provide(app())))

  it.effect("resume: the recorded group size still applies without TFGRPO_GROUP_SIZE (CP-3); a re-run stage replaces its metric", () =>
    Effect.gen(function*() {
      const first = yield* start({ pipelineId: "flaky", taskId: "t" })
      assert.strictEqual(first.manifest.status, "failed")
      const recorded = yield* manifestFile(first.layout.manifest)
      assert.strictEqual(recorded.scheduler?.min_instances, 1)
      assert.deepStrictEqual(recorded.tfgrpo?.tool_metrics.per_tool.map((m) => [m.tool, m.status]), [
        ["build", "succeeded"],
        ["check", "failed"]
      ])
      // As a run started with TFGRPO_GROUP_SIZE=2 would have recorded it.
      const section = recorded.tfgrpo
      assert(section !== undefined && section !== null)
      const edited = { ...recorded, tfgrpo: { ...section, group_size: 2 } }
      yield* Effect.flatMap(InMemoryFiles, (files) => files.write(first.layout.manifest, JSON.stringify(edited, null, 2)))

      const resumed = yield* resume({ runId: recorded.run_id, taskId: "t" })
      assert.strictEqual(resumed.manifest.status, "succeeded")
      const after = yield* manifestFile(resumed.layout.manifest)
      assert.strictEqual(after.scheduler?.min_instances, 2, "the control plane sized the group from the manifest")
      assert.strictEqual(after.tfgrpo?.group_size, 2)
      assert.deepStrictEqual(after.tfgrpo?.tool_metrics.per_tool.map((m) => [m.tool, m.status, m.tokens]), [
        ["build", "succeeded", 5],
        ["check", "succeeded", 2]
      ])
      assert.strictEqual(after.tfgrpo?.experiences?.written, 2, "one experience per invocation")
      const lines = yield* metricsLines
      assert.deepStrictEqual(lines.map((l) => l.tfgrpo_group_size), [null, 2])
      const experiences = yield* experiencesOnDisk
      assert.strictEqual(experiences[1]?.summary32, "fine now", "the resumed invocation's own output")
    }).pipe(Effect.provide(app())))
})
