/**
 * A runner's workspaces (issue 18) on real git: a worktree at the requested commit with the
 * uncommitted diff applied, handed to the next attempt of the same workspace as new again; a commit the origin does not have (the worktree script's exit 90) and a
 * diff that does not apply on the commit (exit 91) fail the attempt with a line saying what to do.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { Effect, Layer } from "effect"
import type { StageRequest } from "../../src/domain/Cluster.js"
import { FilesLive } from "../../src/layers/Files.js"
import { HostLive } from "../../src/layers/Host.js"
import { makeRunnerWorkspaces, type PreparedAttempt } from "../../src/layers/internal/runnerWorkspace.js"
import { ProcessRunnerLive } from "../../src/layers/ProcessRunner.js"
import { ProcessRunner } from "../../src/services/ProcessRunner.js"
import { makeGitRepo } from "../support/gitRepo.js"

const live = Layer.mergeAll(ProcessRunnerLive, FilesLive).pipe(Layer.provideMerge(HostLive), Layer.provideMerge(NodeContext.layer))

/** `git diff --binary HEAD` of the repository's working tree, untracked files included (as the orchestrator sends it). */
const diffOf = (git: (...args: ReadonlyArray<string>) => string) => {
  git("add", "-A")
  const diff = git("diff", "--binary", "--cached", "HEAD")
  git("reset", "-q")
  return new TextEncoder().encode(diff)
}

const requestFor = (origin: string, commit: string, diff: Uint8Array, key: string): StageRequest => ({
  idempotencyKey: key,
  runId: "run-1",
  stageId: "build",
  attempt: 1,
  command: "cat notes.txt",
  cwd: "/nowhere",
  env: {},
  workspace: { origin, commit, diff, cwd: "." },
  waitForCapacity: true
})

/** Prepares the request in a fresh `--workspaces` folder; the failure's reason, or the worktree's notes.txt. */
const prepareIn = (request: StageRequest) =>
  Effect.gen(function*() {
    const root = mkdtempSync(join(tmpdir(), "codex-orchestrator-runner-ws-"))
    const prepare = yield* makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: false, keep: 1 })
    const outcome = yield* Effect.either(prepare(request))
    const result = outcome._tag === "Left"
      ? { failed: outcome.left.reason }
      : { notes: readFileSync(join(outcome.right.spec.cwd, "notes.txt"), "utf8") }
    if (outcome._tag === "Right") yield* outcome.right.release({ succeeded: true, exited: true, group: undefined })
    rmSync(root, { recursive: true, force: true })
    return result
  }).pipe(Effect.scoped, Effect.provide(live))

/** Runs `command` in the prepared worktree, then hands it back (reusable: its process group is gone) unless `release` is false. */
const runIn = (prepared: PreparedAttempt, command: string, release = true) =>
  Effect.gen(function*() {
    const processes = yield* ProcessRunner
    let group: number | undefined
    const exit = yield* processes.run({ ...prepared.spec, command }, {
      onStart: (pid) => Effect.sync(() => {
        group = pid
      }),
      onOutput: () => Effect.void
    })
    if (release) yield* prepared.release({ succeeded: exit.exitCode === 0, exited: true, group })
    return exit.exitCode
  })

describe("runner workspaces", () => {
  it.live("makes a worktree at the commit with the uncommitted changes applied", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      const commit = repo.git("rev-parse", "HEAD").trim()
      repo.write({ "notes.txt": "changed\n" })
      const result = yield* prepareIn(requestFor(repo.dir, commit, diffOf(repo.git), "k-ok"))
      assert.deepStrictEqual(result, { notes: "changed\n" })
      repo.cleanup()
    }))

  it.live("stages starting together each get their worktree with their own changes", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      const commit = repo.git("rev-parse", "HEAD").trim()
      const diffs = [1, 2, 3, 4].map((n) => {
        repo.write({ "notes.txt": `stage ${n}\n` })
        return diffOf(repo.git)
      })
      const root = mkdtempSync(join(tmpdir(), "codex-orchestrator-runner-ws-"))
      const notes = yield* Effect.gen(function*() {
        const prepare = yield* makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: false, keep: 4 })
        return yield* Effect.forEach(diffs, (diff, i) =>
          Effect.map(prepare(requestFor(repo.dir, commit, diff, `k-${i}`)), (prepared) => readFileSync(join(prepared.spec.cwd, "notes.txt"), "utf8")), {
          concurrency: "unbounded"
        })
      }).pipe(Effect.scoped, Effect.provide(live))
      assert.deepStrictEqual(notes, ["stage 1\n", "stage 2\n", "stage 3\n", "stage 4\n"])
      rmSync(root, { recursive: true, force: true })
      repo.cleanup()
    }))

  it.live("the next attempt of the same workspace gets the worktree back as new: the stage's changes, branch and files undone", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n", ".gitignore": "build/\n" })
      const commit = repo.git("rev-parse", "HEAD").trim()
      repo.write({ "notes.txt": "changed\n" })
      const diff = diffOf(repo.git)
      const root = mkdtempSync(join(tmpdir(), "codex-orchestrator-runner-ws-"))
      const seen = yield* Effect.gen(function*() {
        const prepare = yield* makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: false, keep: 2 })
        const first = yield* prepare(requestFor(repo.dir, commit, diff, "k-first"))
        // A stage that leaves everything dirty: a tracked file, an untracked and an ignored one, a
        // staged one, a branch with a commit of its own.
        yield* runIn(first, [
          "echo scribbled > notes.txt && echo stray > stray.txt && mkdir -p build && echo out > build/out.txt",
          "echo staged > staged.txt && git add staged.txt",
          "git -c user.name=s -c user.email=s@example.com checkout -q -b scratch && git -c user.name=s -c user.email=s@example.com commit -qam scratch"
        ].join(" && "))
        const second = yield* prepare(requestFor(repo.dir, commit, diff, "k-second"))
        const state = (dir: string) =>
          execFileSync("sh", ["-c", "git rev-parse HEAD; git symbolic-ref -q HEAD || echo detached; git status --porcelain --ignored; cat notes.txt"], {
            cwd: dir,
            encoding: "utf8"
          })
        return { same: second.spec.cwd === first.spec.cwd, state: state(second.spec.cwd) }
      }).pipe(Effect.scoped, Effect.provide(live))
      assert.deepStrictEqual(seen, { same: true, state: `${commit}\ndetached\n M notes.txt\nchanged\n` })
      rmSync(root, { recursive: true, force: true })
      repo.cleanup()
    }))

  it.live("a run after an edit, and one at a later commit, take the last run's worktree, made theirs (a commit the clone lacks: a new one, fetched)", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n", "old.txt": "old\n" })
      const commit = repo.git("rev-parse", "HEAD").trim()
      repo.write({ "notes.txt": "first edit\n", "draft.txt": "draft\n" })
      const firstDiff = diffOf(repo.git)
      repo.write({ "notes.txt": "second edit\n" })
      rmSync(repo.path("draft.txt"))
      const secondDiff = diffOf(repo.git)
      const root = mkdtempSync(join(tmpdir(), "codex-orchestrator-runner-ws-"))
      const seen = yield* Effect.gen(function*() {
        const prepare = yield* makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: false, keep: 2 })
        const first = yield* prepare(requestFor(repo.dir, commit, firstDiff, "k-first"))
        yield* runIn(first, "echo stray > stray.txt")
        const edited = yield* prepare(requestFor(repo.dir, commit, secondDiff, "k-edited"))
        const afterEdit = execFileSync("sh", ["-c", "git status --porcelain; cat notes.txt"], { cwd: edited.spec.cwd, encoding: "utf8" })
        yield* runIn(edited, "true")
        // A later commit the clone has not fetched: the tree cannot be made its (removed), a new one is.
        const later = repo.commit("later", { "notes.txt": "later\n" })
        const atLater = yield* prepare(requestFor(repo.dir, later, new Uint8Array(), "k-later"))
        const laterNotes = readFileSync(join(atLater.spec.cwd, "notes.txt"), "utf8")
        yield* runIn(atLater, "true")
        // Back at the first commit: the later run's tree, checked out at it.
        const back = yield* prepare(requestFor(repo.dir, commit, new Uint8Array(), "k-back"))
        const backState = execFileSync("sh", ["-c", "git rev-parse HEAD; git status --porcelain; cat notes.txt"], { cwd: back.spec.cwd, encoding: "utf8" })
        return {
          reused: { afterEdit: edited.spec.cwd === first.spec.cwd, atLater: atLater.spec.cwd === first.spec.cwd, back: back.spec.cwd === atLater.spec.cwd },
          afterEdit,
          laterNotes,
          backState,
          trees: readdirSync(join(root, "worktrees")).length
        }
      }).pipe(Effect.scoped, Effect.provide(live))
      assert.deepStrictEqual(seen, {
        reused: { afterEdit: true, atLater: false, back: true },
        afterEdit: " M notes.txt\nsecond edit\n",
        laterNotes: "later\n",
        backState: `${commit}\ncommitted\n`,
        trees: 1
      })
      rmSync(root, { recursive: true, force: true })
      repo.cleanup()
    }))

  it.live("branches and tags a stage makes leave with its worktree: the next run's `checkout -b` works again, a stage beside it keeps its branch, an origin branch it moved is put back", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      const commit = repo.git("rev-parse", "HEAD").trim()
      const branch = repo.git("symbolic-ref", "--short", "HEAD").trim()
      const root = mkdtempSync(join(tmpdir(), "codex-orchestrator-runner-ws-"))
      const id = "-c user.name=s -c user.email=s@example.com"
      const refsIn = (dir: string) =>
        execFileSync("git", ["for-each-ref", "--format=%(refname) %(objectname)"], { cwd: dir, encoding: "utf8" }).trim().split("\n").sort()
      const seen = yield* Effect.gen(function*() {
        const prepare = yield* makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: false, keep: 2 })
        const [first, beside] = yield* Effect.all([
          prepare(requestFor(repo.dir, commit, new Uint8Array(), "k-first")),
          prepare(requestFor(repo.dir, commit, new Uint8Array(), "k-beside"))
        ], { concurrency: 2 })
        const besideMade = yield* runIn(beside, "git checkout -q -b beside", false)
        const firstMade = yield* runIn(first, [
          `git checkout -q -b feature && git tag v1 && git ${id} commit -q --allow-empty -m feature`,
          `git checkout -q ${branch} && git ${id} commit -q --allow-empty -m moved`
        ].join(" && "))
        // The next stage of that workspace waits for the first one's worktree, made as new again.
        const next = yield* prepare(requestFor(repo.dir, commit, new Uint8Array(), "k-next"))
        const again = yield* runIn(next, "git checkout -q -b feature && git tag v1", false)
        const during = refsIn(next.spec.cwd)
        yield* beside.release({ succeeded: true, exited: true, group: undefined })
        yield* next.release({ succeeded: true, exited: true, group: undefined })
        return { besideMade, firstMade, again, same: next.spec.cwd === first.spec.cwd, during }
      }).pipe(Effect.scoped, Effect.provide(live))
      assert.deepStrictEqual(seen, {
        besideMade: 0,
        firstMade: 0,
        again: 0,
        same: true,
        during: [`refs/heads/beside ${commit}`, `refs/heads/${branch} ${commit}`, `refs/heads/feature ${commit}`, `refs/tags/v1 ${commit}`].sort()
      })
      // Every worktree gone with the runner: the clone's refs are the origin's again.
      const [clone] = readdirSync(join(root, "repos"))
      assert.deepStrictEqual(refsIn(join(root, "repos", clone ?? "")), [`refs/heads/${branch} ${commit}`])
      rmSync(root, { recursive: true, force: true })
      repo.cleanup()
    }))

  it.live("a runner starting puts back the branches a stage of a killed runner made there", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      const commit = repo.git("rev-parse", "HEAD").trim()
      const root = mkdtempSync(join(tmpdir(), "codex-orchestrator-runner-ws-"))
      const refs = () => {
        const [clone] = readdirSync(join(root, "repos"))
        return execFileSync("git", ["for-each-ref", "--format=%(refname)"], { cwd: join(root, "repos", clone ?? ""), encoding: "utf8" }).trim().split("\n").sort()
      }
      // A stage that made a branch, its runner gone without handing the worktree back (as kill -9 leaves it).
      yield* Effect.scoped(Effect.gen(function*() {
        const prepare = yield* makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: false, keep: 1 })
        const attempt = yield* prepare(requestFor(repo.dir, commit, new Uint8Array(), "k-killed"))
        execFileSync("git", ["checkout", "-q", "-b", "left-behind"], { cwd: attempt.spec.cwd })
      }))
      const branch = repo.git("symbolic-ref", "HEAD").trim()
      assert.deepStrictEqual(refs(), [branch, "refs/heads/left-behind"].sort())
      yield* Effect.scoped(makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: false, keep: 1 }))
      assert.deepStrictEqual(refs(), [branch])
      rmSync(root, { recursive: true, force: true })
      repo.cleanup()
    }).pipe(Effect.provide(live)))

  it.live("a commit the origin does not have: the attempt fails asking to push it", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      // The origin is a clone made before the local commit: the runner cannot fetch that commit.
      const origin = join(mkdtempSync(join(tmpdir(), "codex-orchestrator-origin-")), "origin.git")
      execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, origin])
      const local = repo.commit("not pushed", { "notes.txt": "local\n" })
      const result = yield* prepareIn(requestFor(origin, local, new Uint8Array(), "k-missing"))
      assert.deepStrictEqual(result, {
        failed: `commit ${local} is not on ${origin}; push it (runners fetch from the origin) and run again`
      })
      rmSync(join(origin, ".."), { recursive: true, force: true })
      repo.cleanup()
    }))

  it.live("uncommitted changes that do not apply on the commit: the attempt fails naming the file", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "first\n" })
      const first = repo.git("rev-parse", "HEAD").trim()
      repo.commit("second", { "notes.txt": "second\n" })
      repo.write({ "notes.txt": "third\n" })
      // A diff made against `second`, sent with `first`: its context is not there.
      const result = yield* prepareIn(requestFor(repo.dir, first, diffOf(repo.git), "k-conflict"))
      assert.match(result.failed ?? "", new RegExp(`^the uncommitted changes do not apply on ${first}: .*notes\\.txt`))
      assert.match(result.failed ?? "", /; commit \(and push\) them and run again$/)
      repo.cleanup()
    }))

  it.live("a runner starting removes the worktrees a dead runner left there, but not one kept after a failure", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      const commit = repo.git("rev-parse", "HEAD").trim()
      const root = mkdtempSync(join(tmpdir(), "codex-orchestrator-runner-ws-"))
      const worktrees = join(root, "worktrees")
      // A runner with --keep-failed keeps the worktree of a stage that failed.
      const kept = yield* Effect.scoped(Effect.gen(function*() {
        const prepare = yield* makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: true, keep: 1 })
        const attempt = yield* prepare(requestFor(repo.dir, commit, new Uint8Array(), "k-failed"))
        // Its path is told back, for the stage's result (and so its manifest entry and log).
        assert.strictEqual(yield* attempt.release({ succeeded: false, exited: true, group: undefined }), attempt.spec.cwd)
        return attempt.spec.cwd
      }))
      // What a runner killed with -9 leaves: a worktree in use and its patch.
      mkdirSync(join(worktrees, "k-running-1", "src"), { recursive: true })
      writeFileSync(join(worktrees, "k-running-1", "src", "half.txt"), "half written")
      writeFileSync(join(worktrees, "k-running-1.patch"), "diff")
      yield* Effect.scoped(makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: false, keep: 1 }))
      const left = readdirSync(worktrees).sort()
      assert.deepStrictEqual(left, [basename(kept), `${basename(kept)}.kept`])
      assert.strictEqual(readFileSync(join(kept, "notes.txt"), "utf8"), "committed\n", "the kept worktree is whole")
      rmSync(root, { recursive: true, force: true })
      repo.cleanup()
    }).pipe(Effect.provide(live)))

  it.live("a worktree kept after a failure says which attempt failed in it, though an earlier stage made it", () =>
    Effect.gen(function*() {
      const repo = makeGitRepo({ "notes.txt": "committed\n" })
      const commit = repo.git("rev-parse", "HEAD").trim()
      const root = mkdtempSync(join(tmpdir(), "codex-orchestrator-runner-ws-"))
      const second = yield* Effect.scoped(Effect.gen(function*() {
        const prepare = yield* makeRunnerWorkspaces({ root, runner: "localhost:1", keepFailed: true, keep: 1 })
        const first = yield* prepare(requestFor(repo.dir, commit, new Uint8Array(), "k-first"))
        yield* first.release({ succeeded: true, exited: true, group: undefined })
        // The next attempt of the same workspace takes the tree the first one made (and named), when
        // it is ready again in time.
        const request = { ...requestFor(repo.dir, commit, new Uint8Array(), "k-second"), runId: "run-2", stageId: "test", attempt: 2 }
        const second = yield* prepare(request)
        return yield* second.release({ succeeded: false, exited: true, group: undefined })
      }))
      assert.notStrictEqual(second, undefined)
      const mark = JSON.parse(readFileSync(`${second}.kept`, "utf8"))
      assert.deepStrictEqual(
        { run: mark.run_id, stage: mark.stage_id, attempt: mark.attempt, key: mark.idempotency_key, command: mark.command },
        { run: "run-2", stage: "test", attempt: 2, key: "k-second", command: "cat notes.txt" }
      )
      assert.match(mark.kept_at, /^\d{4}-\d\d-\d\dT/)
      rmSync(root, { recursive: true, force: true })
      repo.cleanup()
    }).pipe(Effect.provide(live)))
})
