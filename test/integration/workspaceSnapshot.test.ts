/**
 * The orchestrator's side of a remote stage's workspace (issue 18) on real git, in one process:
 * the repository's root, commit and origin, the stage's folder relative to the root, and the
 * uncommitted changes (untracked files included) without the runs and out folders.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { HostLive } from "../../src/layers/Host.js"
import { makeWorkspaceSnapshots } from "../../src/layers/internal/workspaceSnapshot.js"
import { ProcessRunnerLive } from "../../src/layers/ProcessRunner.js"
import type { ExecutionRequest } from "../../src/services/Executor.js"
import { makeGitRepo } from "../support/gitRepo.js"

const live = ProcessRunnerLive.pipe(Layer.provideMerge(HostLive), Layer.provideMerge(NodeContext.layer))

const requestIn = (cwd: string, env: Record<string, string>): ExecutionRequest => ({
  runId: "run-1",
  stageId: "build",
  attempt: 1,
  idempotencyKey: "k",
  command: "true",
  cwd,
  env
})

const snapshotOf = (request: ExecutionRequest) =>
  Effect.flatMap(makeWorkspaceSnapshots, (workspaceOf) => workspaceOf(request)).pipe(Effect.provide(live))

/** The files a diff touches, from its `diff --git a/<path> b/<path>` lines. */
const filesOf = (diff: Uint8Array) =>
  Array.from(new TextDecoder().decode(diff).matchAll(/^diff --git a\/(.+) b\//gm), (match) => match[1]).sort()

describe("workspace snapshot", () => {
  it.live("the root, commit, folder and changes, the runs and out folders left out", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      const commit = repo.git("rev-parse", "HEAD").trim()
      mkdirSync(repo.path("sub dir"))
      repo.write({ "notes.txt": "changed\n", "sub dir/new.txt": "new\n", ".runs/run.json": "{}\n", "out/state.json": "{}\n" })
      const workspace = yield* snapshotOf(requestIn(repo.path("sub dir"), {
        CODEX_ORCHESTRATOR_RUNS_DIR: repo.path(".runs"),
        CODEX_ORCHESTRATOR_OUT_DIR: repo.path("out")
      }))
      assert.deepStrictEqual(workspace === null ? null : { origin: workspace.origin, commit: workspace.commit, cwd: workspace.cwd }, {
        origin: repo.dir,
        commit,
        cwd: "sub dir"
      })
      assert.deepStrictEqual(workspace === null ? [] : filesOf(workspace.diff), ["notes.txt", "sub dir/new.txt"])
      repo.cleanup()
    }))

  it.live("the origin remote when there is one; a runs folder outside the repository changes nothing", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      repo.git("remote", "add", "origin", "https://example.com/team/repo.git")
      const workspace = yield* snapshotOf(requestIn(repo.dir, { CODEX_ORCHESTRATOR_RUNS_DIR: join(tmpdir(), "elsewhere", ".runs") }))
      assert.deepStrictEqual(workspace === null ? null : { origin: workspace.origin, cwd: workspace.cwd, diff: workspace.diff.length }, {
        origin: "https://example.com/team/repo.git",
        cwd: "",
        diff: 0
      })
      repo.cleanup()
    }))

  it.live("outside a repository, or before its first commit: no workspace (the runner uses the folder as given)", () =>
    Effect.gen(function*() {
      const plain = mkdtempSync(join(tmpdir(), "codex-orchestrator-plain-"))
      writeFileSync(join(plain, "notes.txt"), "x\n")
      const empty = makeGitRepo()
      assert.deepStrictEqual([yield* snapshotOf(requestIn(plain, {})), yield* snapshotOf(requestIn(empty.dir, {}))], [null, null])
      rmSync(plain, { recursive: true, force: true })
      empty.cleanup()
    }))
})
