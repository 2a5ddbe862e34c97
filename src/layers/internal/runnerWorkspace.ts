/**
 * A runner's side of a remote stage's workspace (issue 18): one bare clone per origin under
 * `--workspaces`, a worktree per attempt at the requested commit with the uncommitted diff applied,
 * removed when the attempt ends (kept after a failure with `--keep-failed`).
 */
import { Path } from "@effect/platform"
import { Effect } from "effect"
import { RemoteStartFailed, type StageRequest, type Workspace } from "../../domain/Cluster.js"
import { shellCommand, shellQuote } from "../../domain/Shell.js"
import { Files } from "../../services/Files.js"
import { ProcessRunner, type ProcessSpec } from "../../services/ProcessRunner.js"
import { runForText } from "./processText.js"
import { sha256Hex } from "./sha256.js"

/** The process to run for a request, and what to do once it ended. */
export interface PreparedAttempt {
  readonly spec: ProcessSpec
  readonly release: (succeeded: boolean) => Effect.Effect<void>
}

const gitEnv = { LC_ALL: "C", GIT_PAGER: "cat", GIT_TERMINAL_PROMPT: "0" }

/** Exit codes of the worktree script that have a message of their own. */
const missingCommit = 90
const notApplying = 91

/** Every this many worktrees, git forgets the ones whose folders are gone (a release removes the folder only). */
const pruneEvery = 32

/**
 * In the clone: makes the worktree at the commit (`--force`: a folder removed without git knowing
 * is no obstacle), fetching the commit first when the clone lacks it, and applies the uncommitted
 * changes. One git process when the commit is there: each one costs more than what it does.
 */
const treeScript = (workspace: Workspace, tree: string, patch: string | undefined, prune: boolean) => {
  const commit = shellQuote(`${workspace.commit}^{commit}`)
  const add = shellCommand(["git", "worktree", "add", "--detach", "--force", "--quiet", tree, workspace.commit])
  return [
    "set -e",
    ...(prune ? ["git worktree prune"] : []),
    `if ! ${add} 2>/dev/null; then`,
    `  git fetch --quiet --force ${shellQuote(workspace.origin)} '+refs/heads/*:refs/heads/*'`,
    `  git cat-file -e ${commit} 2>/dev/null || exit ${missingCommit}`,
    `  ${add}`,
    "fi",
    ...(patch === undefined ? [] : [`${shellCommand(["git", "-C", tree, "apply", "--binary", "--whitespace=nowarn", patch])} || exit ${notApplying}`])
  ].join("\n")
}

/** A worktree folder name from an idempotency key: its readable part, then a hash so keys never collide. */
const folderOf = (key: string, hash: string) => `${key.replace(/[^A-Za-z0-9._-]+/g, "-").slice(-80)}-${hash.slice(0, 12)}`

export const makeRunnerWorkspaces = (options: { readonly root: string; readonly runner: string; readonly keepFailed: boolean }) =>
  Effect.gen(function*() {
    const processes = yield* ProcessRunner
    const files = yield* Files
    const path = yield* Path.Path
    const root = path.resolve(options.root)
    // A runner started inside a repository (as the README's try-out does) keeps its clones and
    // worktrees out of that repository's changes, which a remote stage's request carries.
    yield* files.makeDirectory(root)
    yield* files.createExclusive(path.join(root, ".gitignore"), "*\n")
    const worktrees = path.join(root, "worktrees")
    yield* files.makeDirectory(worktrees)
    // Clones and worktree bookkeeping are one repository's state: one git command on them at a time.
    // (Worktrees made side by side were tried: `git worktree add` reads the other worktrees' records,
    // and one being written failed it, "failed to read worktrees/<name>/commondir".)
    const gitLock = yield* Effect.makeSemaphore(1)
    const fail = (reason: string) => new RemoteStartFailed({ reason, runner: options.runner })

    const git = (args: ReadonlyArray<string>, cwd: string) =>
      runForText(processes, { command: shellCommand(["git", ...args]), cwd, env: gitEnv }).pipe(
        Effect.mapError((error) => fail(`git could not run: ${error.message}`)),
        Effect.flatMap((result) =>
          result.exit.exitCode === 0
            ? Effect.succeed(result.stdout)
            : Effect.fail(fail(`git ${args[0] ?? ""} failed: ${result.stderr.trim().split("\n").slice(-2).join(" ")}`)))
      )
    const fileError = (error: { readonly message: string }) => fail(error.message)

    /** The bare clone of `origin`, made the first time the origin is seen. */
    const cloneOf = (origin: string) =>
      Effect.gen(function*() {
        const clone = path.join(root, "repos", `${(yield* sha256Hex(origin)).slice(0, 16)}.git`)
        if ((yield* files.info(clone).pipe(Effect.mapError(fileError))) === undefined) {
          yield* files.makeDirectory(path.join(root, "repos")).pipe(Effect.mapError(fileError))
          yield* git(["clone", "--bare", "--quiet", origin, clone], root)
        }
        return clone
      })

    /** Makes the worktree in one process (a process costs more than the git commands in it). */
    let made = 0
    const makeTree = (request: StageRequest, workspace: Workspace, clone: string, tree: string, patch: string | undefined) =>
      runForText(processes, { command: treeScript(workspace, tree, patch, made++ % pruneEvery === 0), cwd: clone, env: gitEnv }).pipe(
        Effect.mapError((error) => fail(`git could not run: ${error.message}`)),
        Effect.flatMap(({ exit, stderr }) => {
          const said = stderr.trim().split("\n").slice(-2).join(" ")
          if (exit.exitCode === 0) return Effect.void
          if (exit.exitCode === missingCommit) {
            return Effect.fail(fail(`commit ${workspace.commit} is not on ${workspace.origin}; push it (runners fetch from the origin) and run again`))
          }
          if (exit.exitCode === notApplying) {
            return Effect.fail(fail(`the uncommitted changes do not apply on ${workspace.commit}: ${said}; commit (and push) them and run again`))
          }
          return Effect.fail(fail(`git failed preparing ${request.stageId}'s worktree: ${said}`))
        })
      )

    const prepare = (request: StageRequest): Effect.Effect<PreparedAttempt, RemoteStartFailed> =>
      Effect.gen(function*() {
        const workspace = request.workspace
        if (workspace === null) {
          return { spec: { command: request.command, cwd: request.cwd, env: request.env }, release: () => Effect.void }
        }
        const tree = path.join(worktrees, folderOf(request.idempotencyKey, yield* sha256Hex(request.idempotencyKey)))
        const patch = workspace.diff.length > 0 ? `${tree}.patch` : undefined
        if (patch !== undefined) yield* files.writeBytes(patch, workspace.diff).pipe(Effect.mapError(fileError))
        yield* gitLock.withPermits(1)(Effect.gen(function*() {
          const clone = yield* cloneOf(workspace.origin)
          // A worktree left by an attempt that died with its runner is replaced.
          yield* files.removeTree(tree).pipe(Effect.mapError(fileError))
          yield* makeTree(request, workspace, clone, tree, patch)
        })).pipe(
          Effect.tapError(() => Effect.ignore(files.removeTree(tree))),
          Effect.ensuring(patch === undefined ? Effect.void : Effect.ignore(files.remove(patch)))
        )
        // The folder only: git forgets it at a later worktree's `prune`, which saves a process here.
        const remove = Effect.ignore(files.removeTree(tree))
        return {
          spec: { command: request.command, cwd: path.join(tree, workspace.cwd), env: request.env },
          release: (succeeded) =>
            succeeded || !options.keepFailed ? remove : Effect.logInfo(`${request.stageId} failed; its worktree is kept: ${tree}`)
        }
      })

    return prepare
  })
