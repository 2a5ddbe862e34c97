/**
 * `runner --keep-failed` (issue 18) as the user of a run sees it: the lines `start` and `status`
 * print for a remote stage whose worktree the runner kept say where it is, also when the stage's own
 * stderr fills the summary's first line (where the kept line, which ends the stage's stderr, is not).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer } from "effect"
import * as Cli from "../src/cli/index.js"
import { AppMemory } from "../src/layers/App.js"
import { executorFromRun } from "../src/layers/Executor.js"
import { CloudExecutor } from "../src/services/Executor.js"
import { runCommandLine } from "./support/cliMemory.js"
import { commandStage, pipeline } from "./support/pipelines.js"

const bytes = (text: string) => Chunk.of(new TextEncoder().encode(text))
const kept = "/ws/worktrees/bad-0"

// As the cluster executor reports an attempt that failed on a runner with --keep-failed.
const keeping = executorFromRun("cluster", (_request, onEvent) =>
  Effect.gen(function*() {
    yield* onEvent({ _tag: "Started", pid: undefined, remote: { runner: "runner-a:34431", host: "box" } })
    yield* onEvent({ _tag: "Output", stream: "stderr", chunks: bytes(`broken\nrunner runner-a:34431 kept this attempt's worktree (runner --keep-failed): ${kept}\n`) })
    const exit = { exitCode: 4, signal: null }
    yield* onEvent({ _tag: "Exited", exit, remote: { runner: "runner-a:34431", host: "box" }, keptWorktree: kept })
    return exit
  }))

const app = AppMemory({ pipelines: { user: [pipeline("kc", [commandStage("bad", "exit 4")])] }, cloudExecutor: Layer.succeed(CloudExecutor, keeping) })

/** The command line on the engine around it (the in-memory app), as an app mounting it runs it. */
const cli = (...args: ReadonlyArray<string>) => runCommandLine(Cli.rootCommandOn("codex-orchestrator", Layer.empty), args)

describe("a kept worktree on the run's lines", () => {
  it.effect("start and status name it after the summary", () =>
    Effect.gen(function*() {
      const started = yield* cli("start", "kc", "--cloud", "--task", "kc")
      assert.strictEqual(started.code, 1, `${started.stdout}\n---\n${started.stderr}\n---\n${String(started.exit)}`)
      const note = ` (worktree kept on runner-a:34431: ${kept})`
      // Before: '  [failed] bad — Exited with code 4 — broken', the path nowhere on the lines.
      assert.include(started.stdout.split("\n"), `  [failed] bad — Exited with code 4 — broken${note}`)
      const runId = /Run started: (\S+)/.exec(started.stdout)?.[1] ?? ""
      const status = yield* cli("status", "--run", runId, "--task", "kc")
      assert.include(status.stdout.split("\n"), `  [failed] bad on runner-a:34431 (box) — Exited with code 4 — broken${note}`)
    }).pipe(Effect.provide(app), Effect.provide(NodeContext.layer)))
})
