/**
 * A runner's side of a remote stage's workspace (issue 18): one bare clone per origin under
 * `--workspaces`, a worktree per attempt at the requested commit with the uncommitted diff applied,
 * run in, then made fresh again for the next attempt of the same workspace (internal/worktreePool.ts)
 * or removed (kept after a failure with `--keep-failed`).
 */
import { Path } from "@effect/platform"
import { DateTime, type Duration, Effect } from "effect"
import { RemoteStartFailed, type StageRequest, type Workspace } from "../../domain/Cluster.js"
import { shellCommand, shellQuote } from "../../domain/Shell.js"
import { Files } from "../../services/Files.js"
import { Host } from "../../services/Host.js"
import { ProcessRunner, type ProcessSpec } from "../../services/ProcessRunner.js"
import { blobIdOfBytes } from "./cacheDigest.js"
import { runForText } from "./processText.js"
import { sha256Hex } from "./sha256.js"
import { makeWorktreePool, type TreeOutcome } from "./worktreePool.js"
import { refsHook, refsHookScript, runnerGitEnv, undoLeftBehind, undoWorktreeRefs } from "./worktreeRefs.js"

/** How an attempt ended, for what becomes of its worktree. */
export interface AttemptEnd {
  /** Its process exited 0. */
  readonly succeeded: boolean
  /** Its process exited by itself (not interrupted, not failed to start). */
  readonly exited: boolean
  /** Its process group, when it started. */
  readonly group: number | undefined
}

/** The process to run for a request, and what to do once it ended (the worktree it kept, if any: `--keep-failed`). */
export interface PreparedAttempt {
  readonly spec: ProcessSpec
  readonly release: (end: AttemptEnd) => Effect.Effect<string | undefined>
}

/** Exit codes of the worktree scripts that have a message of their own. */
const missingCommit = 90
const notApplying = 91

/** Every this many worktrees made, git forgets the ones whose folders are gone (a removal removes the folder only). */
const pruneEvery = 32

/** How long a worktree made fresh again waits for an attempt of its workspace before it is removed. */
const defaultIdle = "5 minutes"

/**
 * How long the recycle of a worktree released while other attempts run here waits (worktreePool's
 * `settle`): after a burst, the attempts' results go out first. The 8 x `sleep 1` graph on two
 * runners of capacity 4 (2 cores): the stages' span 1 443 ms with recycles at once, 1 285 ms with
 * all of them 150 ms later (median of 8 runs each).
 */
const recycleSettle = "150 millis"

/**
 * In the clone, under the runner's git lock: git's bookkeeping of a new worktree at the commit
 * (`--no-checkout`: its files are written by `checkoutScript`, outside the lock, so worktrees are
 * filled side by side; `--force`: a folder removed without git knowing is no obstacle), fetching
 * the commit first when the clone lacks it. (Two `worktree add` at once fail: each reads the
 * others' records, "failed to read worktrees/<name>/commondir".)
 */
const addScript = (workspace: Workspace, tree: string, prune: boolean) => {
  const commit = shellQuote(`${workspace.commit}^{commit}`)
  const add = shellCommand(["git", "worktree", "add", "--detach", "--force", "--no-checkout", "--quiet", tree, workspace.commit])
  return [
    "set -e",
    ...(prune ? ["git worktree prune"] : []),
    `if ! ${add} 2>/dev/null; then`,
    `  git fetch --quiet --force ${shellQuote(workspace.origin)} '+refs/heads/*:refs/heads/*'`,
    `  git cat-file -e ${commit} 2>/dev/null || exit ${missingCommit}`,
    `  ${add}`,
    "fi"
  ].join("\n")
}

const applyLine = (patch: string | undefined) =>
  patch === undefined ? [] : [`${shellCommand(["git", "apply", "--binary", "--whitespace=nowarn", patch])} || exit ${notApplying}`]

/** In the new worktree: its files at the commit, then the uncommitted changes. */
const checkoutScript = (patch: string | undefined) => ["set -e", "git reset --quiet --hard", ...applyLine(patch)].join("\n")

/**
 * In a used worktree: as a new one again. Checked out at the commit by force (local changes, a
 * branch switched to, staged files all undone), every untracked and ignored file removed, the
 * changes applied again. A repository with submodules is not recycled (a stage may have filled them).
 */
const recycleScript = (commit: string, patch: string | undefined) =>
  [
    "set -e",
    shellCommand(["git", "checkout", "--quiet", "--detach", "--force", commit]),
    "git clean -ffdxq",
    "if [ -e .gitmodules ]; then exit 1; fi",
    ...applyLine(patch)
  ].join("\n")

/** A worktree folder name from an idempotency key: its readable part, then a hash so keys never collide. */
const folderOf = (key: string, hash: string) => `${key.replace(/[^A-Za-z0-9._-]+/g, "-").slice(-80)}-${hash.slice(0, 12)}`

/** A workspace as the pool knows it: what makes two attempts' worktrees interchangeable, and the request that asks. */
interface TreeKey {
  readonly id: string
  readonly workspace: Workspace
  readonly request: StageRequest
}

/** What the worktree operations work with: the runner's processes and files, its folders and git lock. */
interface WorkspaceContext {
  readonly processes: ProcessRunner["Type"]
  readonly files: Files["Type"]
  readonly path: Path.Path
  readonly root: string
  readonly worktrees: string
  /** Clones and worktree bookkeeping are one repository's state: one git command on them at a time. */
  readonly gitLock: Effect.Semaphore
  readonly fail: (reason: string) => RemoteStartFailed
}

/** git on the runner: one-off commands, the bare clone of an origin, the worktree scripts. */
const worktreeGit = ({ fail, files, path, processes, root }: WorkspaceContext) => {
  const fileError = (error: { readonly message: string }) => fail(error.message)
  const git = (args: ReadonlyArray<string>, cwd: string) =>
    runForText(processes, { command: shellCommand(["git", ...args]), cwd, env: runnerGitEnv }).pipe(
      Effect.mapError((error) => fail(`git could not run: ${error.message}`)),
      Effect.flatMap((result) =>
        result.exit.exitCode === 0
          ? Effect.succeed(result.stdout)
          : Effect.fail(fail(`git ${args[0] ?? ""} failed: ${result.stderr.trim().split("\n").slice(-2).join(" ")}`)))
    )

  // The clones whose refs hook (internal/worktreeRefs.ts) this runner has checked.
  const hooked = new Set<string>()
  const hookOf = (clone: string) =>
    Effect.gen(function*() {
      const hook = path.join(clone, "hooks", refsHook)
      if ((yield* files.readText(hook).pipe(Effect.mapError(fileError))) !== refsHookScript) {
        yield* files.makeDirectory(path.join(clone, "hooks")).pipe(Effect.mapError(fileError))
        yield* files.writeAtomic(hook, refsHookScript).pipe(Effect.mapError(fileError))
        yield* runForText(processes, { command: shellCommand(["chmod", "755", hook]), cwd: clone, env: runnerGitEnv }).pipe(
          Effect.mapError((error) => fail(`chmod could not run: ${error.message}`))
        )
      }
      hooked.add(clone)
    })

  /** The bare clone of `origin`, made the first time the origin is seen, with its refs hook. */
  const cloneOf = (origin: string) =>
    Effect.gen(function*() {
      const clone = path.join(root, "repos", `${(yield* sha256Hex(origin)).slice(0, 16)}.git`)
      if ((yield* files.info(clone).pipe(Effect.mapError(fileError))) === undefined) {
        yield* files.makeDirectory(path.join(root, "repos")).pipe(Effect.mapError(fileError))
        yield* git(["clone", "--bare", "--quiet", origin, clone], root)
      }
      if (!hooked.has(clone)) yield* hookOf(clone)
      return clone
    })

  const undoRefs = (gitDir: string) => undoWorktreeRefs({ files, path, processes }, gitDir)

  /** Runs a worktree script (one process: each costs more than the git commands in it). */
  const runScript = (key: TreeKey, command: string, cwd: string, env: Record<string, string> = {}) =>
    runForText(processes, { command, cwd, env: { ...runnerGitEnv, ...env } }).pipe(
      Effect.mapError((error) => fail(`git could not run: ${error.message}`)),
      Effect.flatMap(({ exit, stderr }) => {
        const said = stderr.trim().split("\n").slice(-2).join(" ")
        const { commit, origin } = key.workspace
        if (exit.exitCode === 0) return Effect.void
        if (exit.exitCode === missingCommit) {
          return Effect.fail(fail(`commit ${commit} is not on ${origin}; push it (runners fetch from the origin) and run again`))
        }
        if (exit.exitCode === notApplying) {
          return Effect.fail(fail(`the uncommitted changes do not apply on ${commit}: ${said}; commit (and push) them and run again`))
        }
        return Effect.fail(fail(`git failed preparing ${key.request.stageId}'s worktree: ${said}`))
      })
    )

  /** The diff in a file beside the tree for `use`, removed afterwards (none when there are no changes). */
  const withPatch = <A, E>(tree: string, diff: Uint8Array, use: (patch: string | undefined) => Effect.Effect<A, E>) => {
    const patch = `${tree}.patch`
    return diff.length === 0 ? use(undefined) : Effect.acquireUseRelease(
      Effect.mapError(files.writeBytes(patch, diff), fileError),
      () => use(patch),
      () => Effect.ignore(files.remove(patch))
    )
  }
  return { cloneOf, runScript, withPatch, fileError, undoRefs }
}

/** Making, recycling and removing worktrees, for the pool (internal/worktreePool.ts). */
const worktreeOperations = (context: WorkspaceContext) => {
  const gitDirOf = (tree: string, dotGit: string) => context.path.resolve(tree, dotGit.slice("gitdir: ".length).trim())
  const { files, gitLock, path, worktrees } = context
  const { cloneOf, fileError, runScript, undoRefs, withPatch } = worktreeGit(context)
  // Each worktree's `.git` file as made: one that a stage changed is not trusted to point git at
  // the worktree's own records (its recycling would act elsewhere), and the worktree goes.
  const gitFiles = new Map<string, string>()
  let made = 0
  const create = (key: TreeKey) =>
    Effect.gen(function*() {
      const n = made++
      // Numbered: a worktree outlives its first attempt, whose key another attempt may meet again.
      const tree = path.join(worktrees, `${folderOf(key.request.idempotencyKey, yield* sha256Hex(key.request.idempotencyKey))}-${n}`)
      yield* withPatch(tree, key.workspace.diff, (patch) =>
        Effect.zipRight(
          gitLock.withPermits(1)(Effect.gen(function*() {
            const clone = yield* cloneOf(key.workspace.origin)
            // A worktree left by a runner that died is replaced.
            yield* files.removeTree(tree).pipe(Effect.mapError(fileError))
            yield* runScript(key, addScript(key.workspace, tree, n % pruneEvery === 0), clone)
          })),
          runScript(key, checkoutScript(patch), tree)
        )).pipe(Effect.tapError(() => Effect.ignore(files.removeTree(tree))))
      gitFiles.set(tree, (yield* files.readText(path.join(tree, ".git")).pipe(Effect.mapError(fileError))) ?? "")
      return tree
    })

  const recycle = (tree: string, key: TreeKey) =>
    Effect.gen(function*() {
      const recorded = gitFiles.get(tree)
      const now = yield* files.readText(path.join(tree, ".git")).pipe(Effect.mapError(fileError))
      if (recorded === undefined || now !== recorded || !recorded.startsWith("gitdir: ")) return yield* context.fail("its .git file changed")
      const gitDir = gitDirOf(tree, recorded)
      yield* withPatch(tree, key.workspace.diff, (patch) =>
        runScript(key, recycleScript(key.workspace.commit, patch), tree, { GIT_DIR: gitDir, GIT_WORK_TREE: tree }))
      // Once its HEAD is detached again: a branch the stage made is no longer checked out there.
      yield* undoRefs(gitDir)
    }).pipe(Effect.tapError((error) => Effect.logDebug(`worktree ${tree} removed, not reused: ${error.message}`)))

  // The folder only: git forgets it at a later worktree's `prune`, which saves a process. The refs
  // its stage changed first (its git folder as made: the record is there).
  const remove = (tree: string) =>
    Effect.gen(function*() {
      const recorded = gitFiles.get(tree)
      gitFiles.delete(tree)
      if (recorded?.startsWith("gitdir: ") === true) yield* undoRefs(gitDirOf(tree, recorded))
      yield* Effect.ignore(files.removeTree(tree))
    })
  return { create, recycle, remove }
}

/**
 * Beside a worktree kept after a failure (`--keep-failed`): it outlives the runner, for a look. It
 * says which attempt failed there, since a tree is named after the attempt that made it, and later
 * attempts of its workspace reuse it.
 */
const keptMark = ".kept"

const keptMarkText = (request: StageRequest, keptAt: string) =>
  `${
    JSON.stringify(
      {
        run_id: request.runId,
        stage_id: request.stageId,
        attempt: request.attempt,
        idempotency_key: request.idempotencyKey,
        command: request.command,
        kept_at: keptAt
      },
      null,
      2
    )
  }\n`

/**
 * What a runner finds under its `worktrees` folder when it starts was left by a runner that died
 * there (kill -9: no finalizer ran): a runner owns its `--workspaces`, so it is removed, but for the
 * worktrees kept after a failure. git forgets them at the first worktree's `prune`.
 */
const removeStale = (files: Files["Type"], path: Path.Path, worktrees: string) =>
  Effect.gen(function*() {
    const names = yield* files.list(worktrees)
    const kept = new Set(names.filter((name) => name.endsWith(keptMark)).map((name) => name.slice(0, -keptMark.length)))
    const stale = names.filter((name) => !name.endsWith(keptMark) && !kept.has(name))
    if (stale.length > 0) yield* Effect.logInfo(`Removing ${stale.length} worktree(s) a previous runner left in ${worktrees}`)
    yield* Effect.forEach(stale, (name) => Effect.ignore(files.removeTree(path.join(worktrees, name))), { discard: true, concurrency: 4 })
  }).pipe(Effect.catchAll((error) => Effect.logWarning(`could not clear ${worktrees}: ${error.message}`)))

export interface RunnerWorkspaceOptions {
  readonly root: string
  readonly runner: string
  readonly keepFailed: boolean
  /** Worktrees kept ready for later attempts, all workspaces together (the runner's capacity). */
  readonly keep: number
  readonly idle?: Duration.DurationInput | undefined
}

/** Turns requests into processes in their worktrees; needs a Scope, which holds the ready worktrees (removed when it closes). */
export const makeRunnerWorkspaces = (options: RunnerWorkspaceOptions) =>
  Effect.gen(function*() {
    const processes = yield* ProcessRunner
    const files = yield* Files
    const path = yield* Path.Path
    const host = yield* Host
    const root = path.resolve(options.root)
    // A runner started inside a repository (as the README's try-out does) keeps its clones and
    // worktrees out of that repository's changes, which a remote stage's request carries.
    yield* files.makeDirectory(root)
    yield* files.createExclusive(path.join(root, ".gitignore"), "*\n")
    const worktrees = path.join(root, "worktrees")
    yield* files.makeDirectory(worktrees)
    yield* removeStale(files, path, worktrees)
    yield* undoLeftBehind({ files, path, processes }, root)
    const gitLock = yield* Effect.makeSemaphore(1)
    const fail = (reason: string) => new RemoteStartFailed({ reason, runner: options.runner })
    const operations = worktreeOperations({ processes, files, path, root, worktrees, gitLock, fail })
    // Trees of one origin (one clone) are made each other's by a recycle: a run after an edit, or
    // at another commit, takes the last run's trees instead of making new ones.
    const pool = yield* makeWorktreePool(
      { keep: options.keep, idle: options.idle ?? defaultIdle, settle: recycleSettle },
      operations,
      (key: TreeKey) => key.id,
      (key: TreeKey) => key.workspace.origin
    )

    /** Reused only when nothing of the attempt can still write in it: its process group is gone. */
    const outcomeOf = (end: AttemptEnd): Effect.Effect<TreeOutcome> => {
      if (!end.succeeded && options.keepFailed) return Effect.succeed("keep")
      if (!end.exited || end.group === undefined) return Effect.succeed("discard")
      return Effect.map(host.isGroupAlive(end.group), (alive): TreeOutcome => (alive ? "discard" : "reuse"))
    }

    const prepare = (request: StageRequest): Effect.Effect<PreparedAttempt, RemoteStartFailed> =>
      Effect.gen(function*() {
        const workspace = request.workspace
        if (workspace === null) {
          return { spec: { command: request.command, cwd: request.cwd, env: request.env }, release: () => Effect.succeed(undefined) }
        }
        // Attempts whose worktrees are interchangeable: the same origin, commit and changes.
        const id = `${workspace.origin}\n${workspace.commit}\n${yield* blobIdOfBytes(workspace.diff)}`
        const lease = yield* pool.acquire({ id, workspace, request })
        return {
          spec: { command: request.command, cwd: path.join(lease.tree, workspace.cwd), env: request.env },
          release: (end) =>
            Effect.flatMap(outcomeOf(end), (outcome) =>
              outcome === "keep"
                ? Effect.logInfo(`${request.stageId} failed; its worktree is kept: ${lease.tree}`).pipe(
                  Effect.zipRight(DateTime.now),
                  Effect.flatMap((now) => files.writeAtomic(`${lease.tree}${keptMark}`, keptMarkText(request, DateTime.formatIso(now)))),
                  Effect.ignore,
                  Effect.zipRight(lease.release(outcome)),
                  Effect.as(lease.tree)
                )
                : Effect.as(lease.release(outcome), undefined))
        }
      })

    return prepare
  })
