/**
 * `status` (text) of a cloud run (issue 18): each stage a runner ran says where on its line (the
 * runner's address, and its host when the address does not name it), as the HUD does, so a user
 * sees it without opening the manifest. Local stages' lines are as before.
 */
import { assert, describe, it } from "@effect/vitest"
import { Console, Effect, Layer, Ref, Stream } from "effect"
import { showStatus } from "../src/cli/statusReport.js"
import type { CommandEntry, RemoteExecution, StatusManifest } from "../src/domain/ManifestStatus.js"
import type { StatusView } from "../src/services/RunEngine.js"
import { RunReader } from "../src/services/RunReader.js"

const runId = "2026-12-07T10-00-00-000Z-00000000"

const entry = (index: number, id: string, summary: string, remote?: Partial<RemoteExecution>): CommandEntry => ({
  index,
  id,
  title: `Stage ${id}`,
  command: `echo ${id}`,
  kind: "command",
  status: "succeeded",
  started_at: "2026-12-07T10:00:00.000Z",
  completed_at: "2026-12-07T10:00:01.000Z",
  exit_code: 0,
  summary,
  log_path: null,
  error_file: null,
  sub_run_id: null,
  ...(remote === undefined ? {} : {
    remote: {
      executor: "cluster",
      attempt: 1,
      idempotency_key: `cli-command:${runId}:${id}:attempt-1`,
      runner: null,
      host: null,
      deliveries: [],
      ...remote
    }
  })
})

const manifest: StatusManifest = {
  task_id: "t",
  run_id: runId,
  status: "succeeded",
  status_detail: null,
  started_at: "2026-12-07T10:00:00.000Z",
  completed_at: "2026-12-07T10:00:02.000Z",
  heartbeat_at: "2026-12-07T10:00:02.000Z",
  heartbeat_stale_after_seconds: 30,
  artifact_root: `.runs/t/cli/${runId}`,
  log_path: `.runs/t/cli/${runId}/runner.ndjson`,
  resume_events: [],
  commands: [
    entry(1, "one", "one ran", { runner: "localhost:34431", host: "box-a" }),
    entry(2, "two", "two ran", { runner: "build-2:34431", host: "build-2" }),
    entry(3, "three", "three ran here"),
    // A remote stage whose runner is not known yet (placed, not started).
    entry(4, "four", "four waits", {})
  ],
  child_runs: []
}

const view: StatusView = {
  manifest,
  // Not read by what status prints.
  layout: undefined as unknown as StatusView["layout"],
  stale: false,
  owner: undefined
}

const reader = Layer.succeed(RunReader, RunReader.of({
  status: () => Effect.succeed(view),
  watch: () => Stream.make(view),
  newestRun: () => Effect.die("not asked by these tests")
}))

describe("status of a cloud run (text)", () => {
  it.effect("each remote stage's line names its runner, compactly; local lines unchanged", () =>
    Effect.gen(function*() {
      const lines = yield* Ref.make<ReadonlyArray<string>>([])
      const console = yield* Console.consoleWith(Effect.succeed)
      const capture: Console.Console = { ...console, log: (...args) => Ref.update(lines, (all) => [...all, args.join(" ")]) }
      yield* showStatus({ runId, taskId: "t", format: "text", watch: false, interval: 1 }).pipe(
        Effect.withConsole(capture),
        Effect.provide(reader)
      )
      const text = (yield* Ref.get(lines)).join("\n").split("\n")
      // Before: '  [succeeded] Stage one — one ran', no runner.
      assert.deepStrictEqual(text.slice(text.indexOf("Commands:") + 1), [
        "  [succeeded] Stage one on localhost:34431 (box-a) — one ran",
        "  [succeeded] Stage two on build-2:34431 — two ran",
        "  [succeeded] Stage three — three ran here",
        "  [succeeded] Stage four — four waits"
      ])
    }))
})
