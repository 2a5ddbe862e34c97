/**
 * A runner's side of a remote stage's workspace (issue 18): one bare clone per origin under
 * `--workspaces`, a worktree per attempt at the requested commit with the uncommitted diff applied,
 * removed when the attempt ends (kept after a failure with `--keep-failed`).
 */
import { Path } from "@effect/platform"
import { Effect } from "effect"
import { RemoteStartFailed, type StageRequest } from "../../domain/Cluster.js"
import { shellCommand } from "../../domain/Shell.js"
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
    // Clones and worktree bookkeeping are one repository's state: one git command on them at a time.
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

    /** The clone of `origin` with `commit` in it, fetched when the commit is new. */
    const cloneWith = (origin: string, commit: string) =>
      Effect.gen(function*() {
        const clone = path.join(root, "repos", `${(yield* sha256Hex(origin)).slice(0, 16)}.git`)
        if ((yield* files.info(clone).pipe(Effect.mapError(fileError))) === undefined) {
          yield* files.makeDirectory(path.join(root, "repos")).pipe(Effect.mapError(fileError))
          yield* git(["clone", "--bare", "--quiet", origin, clone], root)
        }
        const has = yield* Effect.either(git(["cat-file", "-e", `${commit}^{commit}`], clone))
        if (has._tag === "Left") {
          yield* git(["fetch", "--quiet", "--force", origin, "+refs/heads/*:refs/heads/*"], clone)
          yield* git(["cat-file", "-e", `${commit}^{commit}`], clone).pipe(
            Effect.mapError(() => fail(`commit ${commit} is not on ${origin}; push it (runners fetch from the origin) and run again`))
          )
        }
        return clone
      })

    const prepare = (request: StageRequest): Effect.Effect<PreparedAttempt, RemoteStartFailed> =>
      Effect.gen(function*() {
        const workspace = request.workspace
        if (workspace === null) {
          return { spec: { command: request.command, cwd: request.cwd, env: request.env }, release: () => Effect.void }
        }
        const tree = path.join(root, "worktrees", folderOf(request.idempotencyKey, yield* sha256Hex(request.idempotencyKey)))
        const clone = yield* gitLock.withPermits(1)(Effect.gen(function*() {
          const clone = yield* cloneWith(workspace.origin, workspace.commit)
          // A worktree left by an attempt that died with its runner is replaced.
          yield* Effect.ignore(git(["worktree", "remove", "--force", tree], clone))
          yield* files.removeTree(tree).pipe(Effect.mapError(fileError))
          yield* git(["worktree", "add", "--detach", "--force", "--quiet", tree, workspace.commit], clone)
          return clone
        }))
        const remove = gitLock.withPermits(1)(
          Effect.ignore(Effect.zipRight(git(["worktree", "remove", "--force", tree], clone), git(["worktree", "prune"], clone)))
        )
        if (workspace.diff.length > 0) {
          const patch = `${tree}.patch`
          yield* files.writeBytes(patch, workspace.diff).pipe(Effect.mapError(fileError))
          yield* git(["apply", "--binary", "--whitespace=nowarn", patch], tree).pipe(
            Effect.mapError((error) => fail(`the uncommitted changes do not apply on ${workspace.commit}: ${error.reason}`)),
            Effect.ensuring(Effect.ignore(files.remove(patch))),
            Effect.tapError(() => remove)
          )
        }
        return {
          spec: { command: request.command, cwd: path.join(tree, workspace.cwd), env: request.env },
          release: (succeeded) =>
            succeeded || !options.keepFailed ? remove : Effect.logInfo(`${request.stageId} failed; its worktree is kept: ${tree}`)
        }
      })

    return prepare
  })
