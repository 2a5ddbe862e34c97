/**
 * The privacy guard in the run engine, on the deterministic test kit (scripted processes, in-memory
 * run store, TestClock). SPEC PRIV-1..4; DECISIONS D-12 (bounded manifest), D-13 (enforce redacts
 * every file we write, a secret split across two chunks is still caught; shadow records and changes
 * nothing).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, Ref, TestClock } from "effect"
import { type CliManifest, ErrorFile, PrivacyDecision } from "../src/domain/Manifest.js"
import type { PipelineDefinition } from "../src/domain/Pipeline.js"
import type { PrivacyMode } from "../src/domain/Privacy.js"
import type { RunLayout } from "../src/domain/RunLayout.js"
import { ExecChunk, type RunLogEvent } from "../src/domain/RunLog.js"
import { RunSummary } from "../src/domain/RunSummary.js"
import { AppMemory, type ScriptedProcess } from "../src/layers/App.js"
import { EventBus } from "../src/services/EventBus.js"
import { RunEngine, type StartRequest } from "../src/services/RunEngine.js"
import { decodeJson, fileText, jsonFile, listFiles, logFile, manifestFile } from "./support/files.js"
import { at, commandStage, pipeline } from "./support/pipelines.js"

// ---------------------------------------------------------------------------------------------
// Helpers

const app = (
  pipelines: ReadonlyArray<PipelineDefinition>,
  scripts: Readonly<Record<string, ScriptedProcess>>,
  privacyMode: PrivacyMode
) => AppMemory({ scripts, pipelines: { user: pipelines }, settings: { privacyMode } })

/** Enforce mode; stage `leak` prints a line, a token, then `more`. */
const leakingApp = (...more: ReadonlyArray<{ readonly stream: "stdout" | "stderr"; readonly data: string }>) =>
  app(
    [pipeline("p", [commandStage("leak", "./print-secret")])],
    {
      "./print-secret": {
        output: [{ stream: "stdout", data: "before\n" }, { stream: "stdout", data: "api_key=abcdef123456\n" }, ...more]
      }
    },
    "enforce"
  )

/** Starts a run, lets `time` pass on the TestClock, and returns the finished outcome. */
const startSettled = (request: StartRequest, time: Duration.DurationInput = "1 minute") =>
  Effect.gen(function*() {
    const engine = yield* RunEngine
    const fiber = yield* Effect.fork(engine.start(request))
    yield* TestClock.adjust(time)
    assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), `the run did not finish within ${Duration.format(time)}`)
    return yield* Fiber.join(fiber)
  })

/** Every file the run store holds, with its text. */
const allFiles = Effect.flatMap(listFiles, (paths) => Effect.forEach(paths, (path) => Effect.map(fileText(path), (text) => [path, text] as const)))

/** D-13: `secret` is in no file at all (manifests, logs, error files, summaries, pointers). */
const assertInNoFile = (secret: string) =>
  Effect.gen(function*() {
    const files = yield* allFiles
    assert.isAbove(files.length, 0)
    for (const [path, text] of files) assert.notInclude(text, secret, `${path} holds the secret`)
  })

/** The files that contain `text`. */
const filesContaining = (text: string) =>
  Effect.map(allFiles, (files) => files.filter(([, content]) => content.includes(text)).map(([path]) => path))

const chunksOf = (events: ReadonlyArray<RunLogEvent>) => events.filter((e): e is typeof ExecChunk.Type => e.type === "exec:chunk")

/** The `exec:chunk` events of stage `index` (1-based) with id `id`. */
const stageChunks = (layout: RunLayout, index: number, id: string) => Effect.map(logFile(layout.stageLog(index, id)), chunksOf)

/** The lines of privacy-decisions.ndjson, each decoded (excess keys rejected). */
const decisionLog = (layout: RunLayout) =>
  Effect.flatMap(fileText(layout.privacyLog), (text) =>
    Effect.forEach(text.split("\n").filter((line) => line.length > 0), decodeJson(PrivacyDecision)))

/** A decision as a test expects it; `handled` adds the handle of its stage (PRIV-4). */
type Expected = Omit<PrivacyDecision, "handle_id">

/** The expected decisions, each with the `handle_id` of its stage's handle record; a stage without one fails. */
const handled = (manifest: CliManifest, expected: ReadonlyArray<Expected>): ReadonlyArray<PrivacyDecision> =>
  expected.map((decision) => {
    const handle = manifest.handles?.find((h) => h.stage_id === decision.stage_id)
    assert.isDefined(handle, `no handle record for stage ${decision.stage_id}`)
    return { ...decision, handle_id: handle?.handle_id ?? "" }
  })

const tokenDecision = (stageId: string, sequence: number, timestamp: string): Expected => ({
  stage_id: stageId,
  sequence,
  action: "redact",
  rule: "sensitive-token",
  reason: "detected high-risk token",
  timestamp
})

const keyBody = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu"
const keyBody2 = "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ=="

// ---------------------------------------------------------------------------------------------

describe("privacy guard, enforce mode (D-13)", () => {
  it.effect("a token printed by a stage is in no file; the chunk is redacted and the finding recorded (PRIV-2..4)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      yield* assertInNoFile("abcdef123456")

      const chunks = yield* stageChunks(layout, 1, "leak")
      assert.deepStrictEqual(chunks.map((c) => [c.stream, c.sequence, c.data]), [
        ["stdout", 1, "before\n"],
        ["stdout", 2, "api_key=[REDACTED]\n"],
        ["stdout", 3, "after\n"]
      ])

      const manifest = yield* manifestFile(layout.manifest)
      assert.strictEqual(manifest.status, "succeeded")
      assert.deepStrictEqual(manifest.privacy, {
        mode: "enforce",
        decisions: handled(manifest, [tokenDecision("leak", 2, at(0))]),
        totals: { total_frames: 3, redacted_frames: 1, blocked_frames: 0, allowed_frames: 2 },
        log_path: layout.relative(layout.privacyLog)
      })
      assert.strictEqual(layout.relative(layout.privacyLog), `${manifest.artifact_root}/privacy-decisions.ndjson`)
      assert.deepStrictEqual(yield* decisionLog(layout), handled(manifest, [tokenDecision("leak", 2, at(0))]))
    }).pipe(Effect.provide(leakingApp({ stream: "stdout", data: "after\n" }))))

  it.effect("a secret split across two chunks, with time between them, is caught whole", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      yield* assertInNoFile("hunter2hunter2")

      // The first chunk is held until its line is complete: one chunk, written when the line ends.
      const chunks = yield* stageChunks(layout, 1, "split")
      assert.deepStrictEqual(chunks.map((c) => [c.stream, c.sequence, c.data, c.timestamp]), [
        ["stdout", 1, "password=[REDACTED]\n", at(300)]
      ])
      const decisions = [tokenDecision("split", 1, at(300))]
      const manifest = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(manifest.privacy?.decisions, handled(manifest, decisions))
      assert.deepStrictEqual(manifest.privacy?.totals, { total_frames: 1, redacted_frames: 1, blocked_frames: 0, allowed_frames: 0 })
      assert.deepStrictEqual(yield* decisionLog(layout), handled(manifest, decisions))
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("split", "./split-secret")])],
      {
        "./split-secret": {
          output: [
            { stream: "stdout", data: "pass" },
            { stream: "stdout", data: "word=hunter2hunter2\n", after: "300 millis" }
          ]
        }
      },
      "enforce"
    ))))

  it.effect("each stream's unfinished line is held on its own, and the last line without a newline is flushed", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      yield* assertInNoFile("hunter2hunter2")
      yield* assertInNoFile("abcdef123456")
      yield* assertInNoFile("s3cr3tvalue")

      const chunks = yield* stageChunks(layout, 1, "streams")
      assert.deepStrictEqual(chunks.map((c) => [c.stream, c.sequence, c.data, c.timestamp]), [
        ["stderr", 1, "note: token=[REDACTED]\n", at(20)],
        ["stdout", 2, "password=[REDACTED] done\n", at(30)],
        ["stdout", 3, "tail secret=[REDACTED]", at(30)]
      ])
      const decisions = [tokenDecision("streams", 1, at(20)), tokenDecision("streams", 2, at(30)), tokenDecision("streams", 3, at(30))]
      const manifest = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(manifest.privacy?.decisions, handled(manifest, decisions))
      assert.deepStrictEqual(manifest.privacy?.totals, { total_frames: 3, redacted_frames: 3, blocked_frames: 0, allowed_frames: 0 })
      assert.deepStrictEqual(yield* decisionLog(layout), handled(manifest, decisions))
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("streams", "./streams")])],
      {
        "./streams": {
          output: [
            { stream: "stdout", data: "pass" },
            { stream: "stderr", data: "note: tok", after: "10 millis" },
            { stream: "stderr", data: "en=abcdef123456\n", after: "10 millis" },
            { stream: "stdout", data: "word=hunter2hunter2 done\ntail secret=s3cr3tvalue", after: "10 millis" }
          ]
        }
      },
      "enforce"
    ))))

  it.effect("a secret in the command itself is redacted in the manifest and every log", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      yield* assertInNoFile("abcdef123456")

      const manifest = yield* manifestFile(layout.manifest)
      assert.strictEqual(manifest.commands[0]?.command, "curl -H token=[REDACTED] https://example.test")
      const runner = yield* logFile(layout.runnerLog)
      const stageLog = yield* logFile(layout.stageLog(1, "call"))
      for (const events of [runner, stageLog]) {
        const commands = events.flatMap((e) => e.type === "command:start" || e.type === "exec:begin" ? [e.command] : [])
        assert.deepStrictEqual(commands, ["curl -H token=[REDACTED] https://example.test", "curl -H token=[REDACTED] https://example.test"])
      }
      // Nothing was printed, so nothing was found in the output.
      assert.deepStrictEqual(manifest.privacy?.decisions, [])
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("call", "curl -H token=abcdef123456 https://example.test")])],
      { "curl -H token=abcdef123456 https://example.test": { output: [{ stream: "stdout", data: "ok\n" }] } },
      "enforce"
    ))))

  it.effect("the stage summary, the run summary and the error file are redacted", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      yield* assertInNoFile("hunter2hunter2")
      yield* assertInNoFile("abcdef123456")

      const manifest = yield* manifestFile(layout.manifest)
      assert.strictEqual(manifest.status, "failed")
      assert.deepStrictEqual(manifest.commands.map((c) => [c.id, c.command, c.summary]), [
        ["show", "./show", "api_key=[REDACTED]"],
        ["deploy", "deploy --password=[REDACTED]", "Exited with code 2 — denied for password=[REDACTED]"]
      ])

      const error = yield* jsonFile(ErrorFile, layout.errorFile(2, "deploy"))
      assert.strictEqual(error.command, "deploy --password=[REDACTED]")
      assert.deepStrictEqual(error.details, { exit_code: 2, sandbox_state: "sandboxed", stderr: "denied for password=[REDACTED]" })

      const summary = yield* jsonFile(RunSummary, layout.runSummary)
      assert.include(summary.build.notes ?? "", "show: api_key=[REDACTED]")
      assert.include(yield* fileText(layout.runSummary), "[REDACTED]")
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("show", "./show"), commandStage("deploy", "deploy --password=hunter2hunter2")])],
      {
        "./show": { output: [{ stream: "stdout", data: "api_key=abcdef123456\n" }] },
        "deploy --password=hunter2hunter2": { output: [{ stream: "stderr", data: "denied for password=hunter2hunter2\n" }], exitCode: 2 }
      },
      "enforce"
    ))))

  it.effect("a private key printed in one chunk is blocked and in no file; totals count every chunk written", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      yield* assertInNoFile(keyBody)
      yield* assertInNoFile(keyBody2)
      yield* assertInNoFile("abcdef123456")

      const first = yield* stageChunks(layout, 1, "mixed")
      const second = yield* stageChunks(layout, 2, "key")
      assert.deepStrictEqual(first.map((c) => c.data), ["hello\n", "api_key=[REDACTED]\n", "bye\n"])
      assert.deepStrictEqual(second.map((c) => c.data), ["[REDACTED]\n", "done\n"])

      const manifest = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(manifest.privacy?.totals, {
        total_frames: first.length + second.length,
        redacted_frames: 1,
        blocked_frames: 1,
        allowed_frames: 3
      })
      assert.strictEqual(manifest.privacy?.totals.total_frames, 5)
      const decisions: ReadonlyArray<Expected> = [
        tokenDecision("mixed", 2, at(0)),
        { stage_id: "key", sequence: 1, action: "block", rule: "private-key", reason: "detected private key material", timestamp: at(0) }
      ]
      assert.deepStrictEqual(manifest.privacy?.decisions, handled(manifest, decisions))
      assert.deepStrictEqual(yield* decisionLog(layout), handled(manifest, decisions))
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("mixed", "./mixed"), commandStage("key", "cat id_rsa")])],
      {
        "./mixed": {
          output: [
            { stream: "stdout", data: "hello\n" },
            { stream: "stdout", data: "api_key=abcdef123456\n" },
            { stream: "stdout", data: "bye\n" }
          ]
        },
        "cat id_rsa": {
          output: [
            { stream: "stdout", data: `-----BEGIN RSA PRIVATE KEY-----\n${keyBody}\n${keyBody2}\n-----END RSA PRIVATE KEY-----\n` },
            { stream: "stdout", data: "done\n" }
          ]
        }
      },
      "enforce"
    ))))

  it.effect("a private key split across two chunks is in no file", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      assert.deepStrictEqual(
        { first: yield* filesContaining(keyBody), second: yield* filesContaining(keyBody2) },
        { first: [], second: [] },
        "files holding the key's first and second lines"
      )
      const manifest = yield* manifestFile(layout.manifest)
      assert.isAbove(manifest.privacy?.totals.blocked_frames ?? 0, 0)
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("key", "cat id_rsa")])],
      {
        "cat id_rsa": {
          output: [
            { stream: "stdout", data: `-----BEGIN RSA PRIVATE KEY-----\n${keyBody}\n` },
            { stream: "stdout", data: `${keyBody2}\n-----END RSA PRIVATE KEY-----\n`, after: "10 millis" }
          ]
        }
      },
      "enforce"
    ))))

  // The bounded output tails (EXE-4) feed the stage summary and the error file. They keep whole reads,
  // so after enough later output the tail can start between the two halves of a split secret.
  it.effect("a split secret followed by 64 KiB of output is not revealed by the summary or the error file", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      assert.deepStrictEqual(yield* filesContaining("hunter2hunter2"), [])
      const manifest = yield* manifestFile(layout.manifest)
      assert.strictEqual(manifest.commands[0]?.status, "failed")
      assert.deepStrictEqual(manifest.privacy?.decisions.map((d) => [d.stage_id, d.action]), [["noisy", "redact"]])
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("noisy", "./noisy")])],
      {
        "./noisy": {
          output: [
            { stream: "stderr", data: "pass" },
            { stream: "stderr", data: "word=hunter2hunter2\n", after: "10 millis" },
            { stream: "stderr", data: `${"x".repeat(65_519)}\n`, after: "10 millis" }
          ],
          exitCode: 1
        }
      },
      "enforce"
    ))))

  it.effect("the manifest keeps the latest 50 decisions, privacy-decisions.ndjson keeps them all (D-12)", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      for (const n of [1, 30, 60]) yield* assertInNoFile(`value-${String(n).padStart(2, "0")}-abcdef`)

      const logged = yield* decisionLog(layout)
      const manifest = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(logged, handled(manifest, Array.from({ length: 60 }, (_, i) => tokenDecision("many", i + 1, at(0)))))
      assert.strictEqual(manifest.privacy?.decisions.length, 50)
      assert.deepStrictEqual(manifest.privacy?.decisions, logged.slice(10))
      assert.deepStrictEqual(manifest.privacy?.totals, { total_frames: 60, redacted_frames: 60, blocked_frames: 0, allowed_frames: 0 })
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("many", "./many")])],
      {
        "./many": {
          output: Array.from({ length: 60 }, (_, i) => ({
            stream: "stdout" as const,
            data: `token=value-${String(i + 1).padStart(2, "0")}-abcdef\n`
          }))
        }
      },
      "enforce"
    ))))

  it.effect("decisions and totals add up over stages; the manifest keeps the latest 50 of the run", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      const logged = yield* decisionLog(layout)
      const manifest = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(logged, handled(manifest, [
        ...Array.from({ length: 30 }, (_, i) => tokenDecision("one", i + 1, at(0))),
        ...Array.from({ length: 30 }, (_, i) => tokenDecision("two", i + 1, at(0)))
      ]))
      // Two stages, two handles: each decision names its own stage's handle, never the other's.
      assert.notStrictEqual(logged[0]?.handle_id, logged[59]?.handle_id)
      assert.deepStrictEqual(manifest.privacy?.decisions, logged.slice(10))
      assert.deepStrictEqual(manifest.privacy?.totals, { total_frames: 62, redacted_frames: 60, blocked_frames: 0, allowed_frames: 2 })
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("one", "./thirty"), commandStage("two", "./thirty")])],
      {
        "./thirty": {
          output: [
            ...Array.from({ length: 30 }, () => ({ stream: "stdout" as const, data: "password=hunter2hunter2\n" })),
            { stream: "stdout", data: "clean\n" }
          ]
        }
      },
      "enforce"
    ))))
})

describe("privacy guard, shadow mode (PRIV-3, D-13)", () => {
  it.effect("output, commands and summaries are written unchanged; findings are recorded as allow / shadow-mode", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      assert.includeMembers(yield* filesContaining("abcdef123456"), [
        layout.manifest,
        layout.runnerLog,
        layout.stageLog(1, "leak"),
        layout.runSummary
      ])

      const chunks = yield* stageChunks(layout, 1, "leak")
      assert.deepStrictEqual(chunks.map((c) => c.data), [
        "api_key=abcdef123456\n",
        `-----BEGIN RSA PRIVATE KEY-----\n${keyBody}\n-----END RSA PRIVATE KEY-----\n`,
        "fine\n"
      ])
      const manifest = yield* manifestFile(layout.manifest)
      assert.strictEqual(manifest.commands[0]?.command, "echo api_key=abcdef123456")
      assert.strictEqual(manifest.commands[0]?.summary?.startsWith("api_key=abcdef123456\n"), true)
      const decisions: ReadonlyArray<Expected> = [
        { stage_id: "leak", sequence: 1, action: "allow", rule: "sensitive-token", reason: "shadow-mode", timestamp: at(0) },
        { stage_id: "leak", sequence: 2, action: "allow", rule: "private-key", reason: "shadow-mode", timestamp: at(0) }
      ]
      assert.deepStrictEqual(manifest.privacy, {
        mode: "shadow",
        decisions: handled(manifest, decisions),
        totals: { total_frames: 3, redacted_frames: 0, blocked_frames: 0, allowed_frames: 3 },
        log_path: layout.relative(layout.privacyLog)
      })
      assert.deepStrictEqual(yield* decisionLog(layout), handled(manifest, decisions))
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("leak", "echo api_key=abcdef123456")])],
      {
        "echo api_key=abcdef123456": {
          output: [
            { stream: "stdout", data: "api_key=abcdef123456\n" },
            { stream: "stdout", data: `-----BEGIN RSA PRIVATE KEY-----\n${keyBody}\n-----END RSA PRIVATE KEY-----\n` },
            { stream: "stdout", data: "fine\n" }
          ]
        }
      },
      "shadow"
    ))))

  it.effect("unfinished lines are not held: every read is written as it comes", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      const chunks = yield* stageChunks(layout, 1, "split")
      assert.deepStrictEqual(chunks.map((c) => [c.sequence, c.data, c.timestamp]), [
        [1, "pass", at(0)],
        [2, "word=hunter2hunter2\n", at(300)]
      ])
      const manifest = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(manifest.privacy?.totals, { total_frames: 2, redacted_frames: 0, blocked_frames: 0, allowed_frames: 2 })
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("split", "./split-secret")])],
      {
        "./split-secret": {
          output: [
            { stream: "stdout", data: "pass" },
            { stream: "stdout", data: "word=hunter2hunter2\n", after: "300 millis" }
          ]
        }
      },
      "shadow"
    ))))

  // D-13: shadow "records what would have been redacted"; enforce redacts a split secret.
  it.effect("a secret split across two chunks is recorded as it would be redacted in enforce mode", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      const manifest = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(
        manifest.privacy?.decisions.map((d) => [d.stage_id, d.action, d.rule, d.reason]),
        [["split", "allow", "sensitive-token", "shadow-mode"]]
      )
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("split", "./split-secret")])],
      {
        "./split-secret": {
          output: [
            { stream: "stdout", data: "pass" },
            { stream: "stdout", data: "word=hunter2hunter2\n", after: "300 millis" }
          ]
        }
      },
      "shadow"
    ))))

  it.effect("a run that prints no secret records totals and no decisions", () =>
    Effect.gen(function*() {
      const { layout } = yield* startSettled({ pipelineId: "p", taskId: "t" })
      const manifest = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(manifest.privacy, {
        mode: "shadow",
        decisions: [],
        totals: { total_frames: 2, redacted_frames: 0, blocked_frames: 0, allowed_frames: 2 },
        log_path: layout.relative(layout.privacyLog)
      })
      const log = yield* Effect.flatMap(listFiles, (paths) => paths.includes(layout.privacyLog) ? fileText(layout.privacyLog) : Effect.succeed(""))
      assert.strictEqual(log, "")
    }).pipe(Effect.provide(app(
      [pipeline("p", [commandStage("clean", "./clean")])],
      { "./clean": { output: [{ stream: "stdout", data: "hello\n" }, { stream: "stderr", data: "warn\n" }] } },
      "shadow"
    ))))
})

describe("log events (EVT-2) carry what the stage log holds", () => {
  it.effect("in enforce mode the secret is redacted in the event too; stderr is level error", () =>
    Effect.gen(function*() {
      const seen = yield* Effect.scoped(Effect.gen(function*() {
        const bus = yield* EventBus
        const logs = yield* Ref.make<ReadonlyArray<string>>([])
        yield* bus.on("log", (e) => Ref.update(logs, (all) => [...all, `${e.stageIndex}:${e.stageId}:${e.source}:${e.level}:${e.message}`]))
        yield* startSettled({ pipelineId: "p", taskId: "t" })
        yield* Effect.yieldNow()
        return yield* Ref.get(logs)
      }))
      assert.deepStrictEqual(seen, [
        "1:leak:stdout:info:before\n",
        "1:leak:stdout:info:api_key=[REDACTED]\n",
        "1:leak:stderr:error:warn: é\n",
        // The unfinished last line enforce mode held back, redacted too.
        "1:leak:stdout:info:done token=[REDACTED]"
      ])
    }).pipe(Effect.provide(leakingApp(
      { stream: "stderr", data: "warn: é\n" },
      { stream: "stdout", data: "done token=zyxwvu987654" }
    ))))
})

