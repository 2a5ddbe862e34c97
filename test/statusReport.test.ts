/**
 * What `status --watch` prints (CLI-7): a view again only when what it prints changed. The text does
 * not show the heartbeat, so a heartbeat alone prints nothing; the JSON does, so it prints a line.
 */
import { assert, describe, it } from "@effect/vitest"
import { Console, Effect, Layer, Ref, Stream } from "effect"
import { showStatus } from "../src/cli/statusReport.js"
import { hasControlCharacter } from "../src/domain/OneLine.js"
import type { StatusManifest } from "../src/domain/ManifestStatus.js"
import type { StatusView } from "../src/services/RunEngine.js"
import { RunReader } from "../src/services/RunReader.js"

const manifest: StatusManifest = {
  task_id: "t",
  run_id: "2026-12-04T10-00-00-000Z-00000000",
  status: "in_progress",
  status_detail: null,
  started_at: "2026-12-04T10:00:00.000Z",
  completed_at: null,
  heartbeat_at: "2026-12-04T10:00:00.000Z",
  heartbeat_stale_after_seconds: 30,
  artifact_root: ".runs/t/cli/2026-12-04T10-00-00-000Z-00000000",
  log_path: ".runs/t/cli/2026-12-04T10-00-00-000Z-00000000/runner.ndjson",
  resume_events: [],
  commands: [],
  child_runs: []
}
const viewOf = (m: Partial<StatusManifest>): StatusView => ({
  manifest: { ...manifest, ...m },
  // Not read by what status prints.
  layout: undefined as unknown as StatusView["layout"],
  stale: false,
  owner: undefined
})
// The run as a watch sees it: started, a heartbeat, finished.
const views = [
  viewOf({}),
  viewOf({ heartbeat_at: "2026-12-04T10:00:05.000Z" }),
  viewOf({ heartbeat_at: "2026-12-04T10:00:08.000Z", status: "succeeded", completed_at: "2026-12-04T10:00:08.000Z" })
]
const reader = Layer.succeed(RunReader, RunReader.of({
  status: () => Effect.succeed(views[0] ?? viewOf({})),
  watch: () => Stream.fromIterable(views),
  newestRun: () => Effect.die("not asked by these tests")
}))

/** Runs `status --watch` and returns what it printed, one entry per Console.log. */
const printed = (format: "text" | "json") =>
  Effect.gen(function*() {
    const lines = yield* Ref.make<ReadonlyArray<string>>([])
    const console = yield* Console.consoleWith(Effect.succeed)
    const capture: Console.Console = { ...console, log: (...args) => Ref.update(lines, (all) => [...all, args.join(" ")]) }
    yield* showStatus({ runId: manifest.run_id, taskId: "t", format, watch: true, interval: 1 }).pipe(
      Effect.withConsole(capture),
      Effect.provide(reader)
    )
    return yield* Ref.get(lines)
  })

describe("status --watch output", () => {
  it.effect("text: a heartbeat alone does not print the same block again", () =>
    Effect.gen(function*() {
      const text = yield* printed("text")
      assert.strictEqual(text.length, 2, text.join("\n---\n"))
      assert.include(text[0] ?? "", "Status: in_progress")
      assert.include(text[1] ?? "", "Status: succeeded")
    }))

  it.effect("json: every change is a line, the heartbeat included", () =>
    Effect.gen(function*() {
      const json = (yield* printed("json")).map((line) => JSON.parse(line) as { heartbeat_at: string; status: string })
      assert.deepStrictEqual(json.map((v) => [v.status, v.heartbeat_at]), views.map((v) => [v.manifest.status, v.manifest.heartbeat_at]))
    }))

  it.effect("--interval past a day is bad input: a timer that long never fires, so the watch never looked again", () =>
    Effect.gen(function*() {
      const request = { runId: manifest.run_id, taskId: "t", format: "text", watch: true } as const
      for (const interval of [86_401, 3_000_000]) {
        const error = yield* Effect.flip(showStatus({ ...request, interval }).pipe(Effect.provide(reader)))
        assert.strictEqual(error.message, `--interval must be a positive integer (seconds) up to 86400 (a day), got ${interval}.`)
      }
      const error = yield* Effect.flip(showStatus({ ...request, interval: 0 }).pipe(Effect.provide(reader)))
      assert.strictEqual(error.message, "--interval must be a positive integer (seconds) up to 86400 (a day), got 0.")
    }))

  it.effect("a reader that went away (status --watch | head -1) ends the watch at the next print, not when the run ends", () =>
    Effect.gen(function*() {
      const lines = yield* Ref.make<ReadonlyArray<string>>([])
      const console = yield* Console.consoleWith(Effect.succeed)
      const capture: Console.Console = { ...console, log: (...args) => Ref.update(lines, (all) => [...all, args.join(" ")]) }
      // The reader reads one line and goes: from then on stdout is closed.
      const outputClosed = Effect.map(Ref.get(lines), (all) => all.length >= 1)
      yield* showStatus({ runId: manifest.run_id, taskId: "t", format: "json", watch: true, interval: 1 }, outputClosed).pipe(
        Effect.withConsole(capture),
        Effect.provide(reader)
      )
      assert.strictEqual((yield* Ref.get(lines)).length, 1)
    }))

  it.effect("text: a cloud sync record's remote id or error stays on its one line, whatever the server sent", () =>
    Effect.gen(function*() {
      const shown = (cloudSync: StatusView["cloudSync"]) =>
        Effect.gen(function*() {
          const lines = yield* Ref.make<ReadonlyArray<string>>([])
          const console = yield* Console.consoleWith(Effect.succeed)
          const capture: Console.Console = { ...console, log: (...args) => Ref.update(lines, (all) => [...all, args.join(" ")]) }
          const one = Layer.succeed(RunReader, RunReader.of({
            status: () => Effect.succeed({ ...viewOf({}), cloudSync }),
            watch: () => Stream.empty,
            newestRun: () => Effect.die("not asked by this test")
          }))
          yield* showStatus({ runId: manifest.run_id, taskId: "t", format: "text", watch: false, interval: 1 }).pipe(
            Effect.withConsole(capture),
            Effect.provide(one)
          )
          return (yield* Ref.get(lines)).join("\n").split("\n")
        })
      // Written by a build before the id was cut to one line when stored.
      const synced = yield* shown({ status: "synced", synced_at: "2026-12-04T10:00:09.000Z", remote_id: "r1\nInjected: line\u001b[31m", attempts: 1 })
      assert.isFalse(synced.some((line) => line.startsWith("Injected")), synced.join(" | "))
      assert.notInclude(synced.join("\n"), "\u001b")
      assert.isTrue(synced.some((line) => line.startsWith("Cloud sync: synced at") && line.includes("r1")))
      const failed = yield* shown({
        status: "failed",
        failed_at: "2026-12-04T10:00:09.000Z",
        attempts: 3,
        error: { name: "CloudSyncFailed", message: "HTTP 500\n<html>\nbroken" }
      })
      assert.isFalse(failed.some((line) => line === "<html>" || line === "broken"), failed.join(" | "))
      assert.isTrue(failed.some((line) => line.startsWith("Cloud sync: failed at") && line.includes("HTTP 500")))
    }))

  it.effect("text: what a hand-edited manifest holds stays on its own line, escaped (detail, times, folder, stage titles and summaries)", () =>
    Effect.gen(function*() {
      const lines = yield* Ref.make<ReadonlyArray<string>>([])
      const console = yield* Console.consoleWith(Effect.succeed)
      const capture: Console.Console = { ...console, log: (...args) => Ref.update(lines, (all) => [...all, args.join(" ")]) }
      const entry = {
        index: 1, id: "a\nRunning: forged", title: "T\u001b]0;title\u0007\nInjected: title", command: "x", kind: "command" as const,
        status: "running" as const, started_at: null, completed_at: null, exit_code: null, summary: "S\u001b[31m red",
        log_path: null, error_file: null, sub_run_id: null
      }
      const edited = viewOf({
        status_detail: "x\nInjected: detail",
        started_at: "now\nInjected: started",
        completed_at: "then\u2028Injected: completed",
        artifact_root: ".runs/t\rInjected: root",
        commands: [entry]
      })
      const one = Layer.succeed(RunReader, RunReader.of({
        status: () => Effect.succeed({ ...edited, stale: true }),
        watch: () => Stream.empty,
        newestRun: () => Effect.die("not asked by this test")
      }))
      yield* showStatus({ runId: manifest.run_id, taskId: "t", format: "text", watch: false, interval: 1 }).pipe(
        Effect.withConsole(capture),
        Effect.provide(one)
      )
      const printed = (yield* Ref.get(lines)).join("\n")
      const shown = printed.split("\n")
      assert.isFalse(shown.some(hasControlCharacter), printed)
      assert.isFalse(shown.some((line) => line.startsWith("Injected") || line.startsWith("Running: forged")), shown.join(" | "))
      assert.include(printed, "Status: in_progress (x\\nInjected: detail)")
      assert.include(printed, "Running: a\\nRunning: forged")
      assert.include(printed, "  [running] T\\u001b]0;title\\u0007\\nInjected: title — S\\u001b[31m red")
    }))
})
