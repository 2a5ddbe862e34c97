/**
 * The orchestrator's side of a remote stage's workspace (issue 18) on real git, in one process:
 * the repository's root, commit and origin, the stage's folder relative to the root, and the
 * uncommitted changes (untracked files included) without the runs and out folders.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, Ref } from "effect"
import { HostLive } from "../../src/layers/Host.js"
import { makeWorkspaceSnapshots } from "../../src/layers/internal/workspaceSnapshot.js"
import { ProcessRunnerLive } from "../../src/layers/ProcessRunner.js"
import type { ExecutionRequest } from "../../src/services/Executor.js"
import { ProcessRunner } from "../../src/services/ProcessRunner.js"
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

  it.live("a folder outside the repository and in no git repository: the stage fails, naming its cwd and the fix", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      const plain = mkdtempSync(join(tmpdir(), "codex-orchestrator-plain-"))
      // Before: null, and the runner ran the stage at that same path on its own machine.
      const error = yield* Effect.flip(snapshotOf(requestIn(plain, { CODEX_ORCHESTRATOR_REPO_ROOT: repo.dir })))
      assert.strictEqual(
        error.message,
        `Could not start "true" in ${plain}: a cloud stage runs in its cwd inside the repository (${repo.dir}), on a runner's ` +
          `worktree of it, and ${plain} is outside it and in no git repository with a commit; give the stage a cwd inside ` +
          `the repository, or run it on this machine ("executionMode": "mcp")`
      )
      // Another repository with a commit is carried as the stage's own workspace, as before.
      const other = makeGitRepo({ "other.txt": "x\n" })
      const carried = yield* snapshotOf(requestIn(other.dir, { CODEX_ORCHESTRATOR_REPO_ROOT: repo.dir }))
      assert.deepStrictEqual(carried === null ? null : { origin: carried.origin, cwd: carried.cwd }, { origin: other.dir, cwd: "" })
      rmSync(plain, { recursive: true, force: true })
      other.cleanup()
      repo.cleanup()
    }))

  it.live("a runs folder git ignores and an out folder it does not: both left out; the user's index untouched, no copy left", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n", ".gitignore": ".runs/\n" })
      repo.write({ "notes.txt": "changed\n", "staged.txt": "staged\n", ".runs/run.json": "{}\n", "out/state.json": "{}\n" })
      repo.git("add", "staged.txt")
      const index = readFileSync(repo.path(".git", "index"))
      const workspace = yield* snapshotOf(requestIn(repo.dir, {
        CODEX_ORCHESTRATOR_RUNS_DIR: repo.path(".runs"),
        CODEX_ORCHESTRATOR_OUT_DIR: repo.path("out")
      }))
      assert.deepStrictEqual(workspace === null ? [] : filesOf(workspace.diff), ["notes.txt", "staged.txt"])
      assert.deepStrictEqual(readFileSync(repo.path(".git", "index")), index, "the user's index is as it was")
      assert.deepStrictEqual(readdirSync(repo.path(".git")).filter((name) => name.includes("codex-orchestrator")), [])
      repo.cleanup()
    }))

  it.live("in a linked worktree, from a folder below its root: its own index and changes", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n", "sub/keep.txt": "k\n" })
      const tree = `${repo.dir}-linked`
      repo.git("worktree", "add", "-q", "--detach", tree)
      writeFileSync(join(tree, "sub", "keep.txt"), "changed in the linked worktree\n")
      const workspace = yield* snapshotOf(requestIn(join(tree, "sub"), {}))
      assert.deepStrictEqual(workspace === null ? null : { cwd: workspace.cwd, files: filesOf(workspace.diff) }, { cwd: "sub", files: ["sub/keep.txt"] })
      rmSync(tree, { recursive: true, force: true })
      repo.cleanup()
    }))

  it.live("the stages of a graph asking at once take one snapshot between them", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      const runs = yield* Ref.make(0)
      const counting = Layer.effect(ProcessRunner, Effect.map(ProcessRunner, (runner) =>
        ProcessRunner.of({ run: (spec, handlers) => Effect.zipRight(Ref.update(runs, (n) => n + 1), runner.run(spec, handlers)) }))).pipe(
          Layer.provide(live)
        )
      const workspaces = yield* Effect.flatMap(makeWorkspaceSnapshots, (workspaceOf) =>
        Effect.forEach(Array.from({ length: 8 }, (_, i) => ({ ...requestIn(repo.dir, {}), stageId: `s${i}` })), workspaceOf, { concurrency: "unbounded" })
      ).pipe(Effect.provide(Layer.merge(live, counting)))
      assert.strictEqual(yield* Ref.get(runs), 1)
      assert.strictEqual(new Set(workspaces.map((w) => w?.commit)).size, 1)
      repo.cleanup()
    }))
})
