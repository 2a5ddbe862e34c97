/**
 * The orchestrator's side of a remote stage's workspace (issue 18): the repository's origin, its
 * commit, and the uncommitted changes (untracked files included, the run folders left out) as a
 * binary diff, bounded so a request stays small. Taken once per run and repository: the stages of a
 * run see the repository as it was when the run's first remote stage started.
 */
import { Path } from "@effect/platform"
import { Chunk, Effect, Ref, SynchronizedRef } from "effect"
import type { Workspace } from "../../domain/Cluster.js"
import { isWithin } from "../../domain/PathContainment.js"
import { shellQuote } from "../../domain/Shell.js"
import type { ExecutionRequest } from "../../services/Executor.js"
import { ProcessRunner, ProcessSpawnError } from "../../services/ProcessRunner.js"
import { concatBytes } from "../../domain/Bytes.js"
import { gitEnv } from "./gitEnv.js"

/** The most uncommitted change a remote stage carries; beyond it, the user commits. */
export const diffLimitBytes = 16 * 1024 * 1024

/** The snapshot script's exit when its folder is in no repository (or one without a commit yet). */
const notARepository = 93

/**
 * One process (each costs more than the git commands in it, a spawn from the orchestrator's big
 * process above all), and as few as it takes in it (each is a few ms, and a run's first remote
 * stages wait for them): the repository's root, HEAD and origin on three lines, then the diff of
 * everything not committed against HEAD, from a copy of the index (the user's index is left
 * alone; the copy sits beside it, in the repository's own git folder), without the excluded
 * folders (absolute; those outside the repository do not count); at most one byte more than the
 * limit is read. `add` must not look into them (a run writes and renames files there meanwhile),
 * and an excluding pathspec is given only for a folder git does not ignore already: `git add`
 * exits 1 on one that names an ignored folder, as `.runs` usually is. One `check-ignore` says
 * which are ignored: it prints those, as given.
 */
const snapshotScript = (excludes: ReadonlyArray<string>) =>
  [
    "set -e",
    `info=$(git rev-parse --show-toplevel HEAD --git-path index 2>/dev/null) || exit ${notARepository}`,
    "nl='",
    "'",
    `root=\${info%%"$nl"*}`,
    `rest=\${info#*"$nl"}`,
    `head=\${rest%%"$nl"*}`,
    `gi=\${rest#*"$nl"}`,
    `case "$gi" in /*) ;; *) gi="$PWD/$gi" ;; esac`,
    "origin=$(git remote get-url origin 2>/dev/null) || origin=",
    `printf '%s\\n%s\\n%s\\n' "$root" "$head" "$origin"`,
    `cd "$root"`,
    `idx="\${gi%/*}/codex-orchestrator-index.$$"`,
    `trap 'rm -f "$idx"' EXIT`,
    `if [ -f "$gi" ]; then cp "$gi" "$idx"; else rm -f "$idx"; fi`,
    "set --",
    ...(excludes.length === 0 ? [] : [
      `for dir in ${excludes.map(shellQuote).join(" ")}; do`,
      `  case "$dir" in "$root"/*) set -- "$@" "\${dir#"$root"/}/" ;; esac`,
      "done",
      `if [ $# -gt 0 ]; then`,
      `  ignored=$(git check-ignore "$@") || :`,
      `  for rel in "$@"; do`,
      "    shift",
      `    case "$nl$ignored$nl" in *"$nl$rel$nl"*) ;; *) set -- "$@" ":(exclude)\${rel%/}" ;; esac`,
      "  done",
      "fi"
    ]),
    `GIT_INDEX_FILE="$idx" git add -A -- . "$@"`,
    `GIT_INDEX_FILE="$idx" git diff --cached --binary HEAD | head -c ${diffLimitBytes + 1}`
  ].join("\n")

/** Where the n-th newline of `bytes` is (-1: fewer). */
const nthNewline = (bytes: Uint8Array, n: number) => {
  let at = -1
  for (let seen = 0; seen < n; seen++) {
    at = bytes.indexOf(10, at + 1)
    if (at < 0) return -1
  }
  return at
}

const outsideReason = (repoRoot: string, cwd: string) =>
  `a cloud stage runs in its cwd inside the repository (${repoRoot}), on a runner's worktree of it, and ${cwd} is outside it ` +
  `and in no git repository with a commit; give the stage a cwd inside the repository, or run it on this machine ("executionMode": "mcp")`

/** Makes `workspaceOf` on the ProcessRunner: a request's workspace, or null outside a git repository. */
export const makeWorkspaceSnapshots = Effect.gen(function*() {
  const runner = yield* ProcessRunner
  const path = yield* Path.Path
  const failed = (request: ExecutionRequest, reason: string, cause: unknown) =>
    new ProcessSpawnError({ command: request.command, cwd: request.cwd, reason, cause })

  const snapshot = (request: ExecutionRequest) =>
    Effect.gen(function*() {
      const excludes = [request.env["CODEX_ORCHESTRATOR_RUNS_DIR"], request.env["CODEX_ORCHESTRATOR_OUT_DIR"]]
        .flatMap((dir) => (dir === undefined || dir === "" ? [] : [path.resolve(request.cwd, dir)]))
      const output = yield* Ref.make({ stdout: Chunk.empty<Uint8Array>(), stderr: Chunk.empty<Uint8Array>() })
      const exit = yield* runner.run({ command: snapshotScript(excludes), cwd: request.cwd, env: gitEnv }, {
        onStart: () => Effect.void,
        onOutput: (stream, chunks) => Ref.update(output, (o) => ({ ...o, [stream]: Chunk.appendAll(o[stream], chunks) }))
      })
      // Not a repository (or no commit yet): the runner uses the cwd as given, as on a shared disk;
      // but a cwd outside the run's repository has no place on a runner (it ran at that path there).
      if (exit.exitCode === notARepository) {
        const repoRoot = request.env["CODEX_ORCHESTRATOR_REPO_ROOT"]
        return repoRoot !== undefined && !isWithin(path.resolve(repoRoot), request.cwd, path.sep)
          ? yield* failed(request, outsideReason(repoRoot, request.cwd), request.cwd)
          : null
      }
      const { stderr, stdout } = yield* Ref.get(output)
      const bytes = concatBytes(stdout)
      const end = nthNewline(bytes, 3)
      if (exit.exitCode !== 0 || end < 0) {
        return yield* failed(request, `could not take the uncommitted changes: ${new TextDecoder().decode(concatBytes(stderr)).trim()}`, exit)
      }
      const [root = "", commit = "", origin = ""] = new TextDecoder().decode(bytes.subarray(0, end)).split("\n")
      const diff = bytes.slice(end + 1)
      if (diff.length > diffLimitBytes) {
        return yield* failed(
          request,
          `the uncommitted changes are more than ${diffLimitBytes / 1024 / 1024} MiB, the most a remote stage carries; ` +
            "commit them (runners fetch commits from origin) and run again",
          diff.length
        )
      }
      const workspace: Workspace = { origin: origin === "" ? root : origin, commit, diff, cwd: path.relative(root, request.cwd) }
      return workspace
    })

  const cache = yield* SynchronizedRef.make(new Map<string, Effect.Effect<Workspace | null, ProcessSpawnError>>())
  /**
   * One snapshot per run and working directory, shared by the run's stages: the look-up and the
   * entry are one step, so the stages of a graph starting together take one snapshot, not one each.
   */
  // The snapshot is shared, its failure too: it is told as this request's (its command, its cwd).
  return (request: ExecutionRequest): Effect.Effect<Workspace | null, ProcessSpawnError> =>
    Effect.flatten(SynchronizedRef.modifyEffect(cache, (known) => {
      const key = `${request.runId}\n${request.cwd}`
      const found = known.get(key)
      if (found !== undefined) return Effect.succeed([found, known] as const)
      return Effect.map(Effect.cached(snapshot(request)), (once) => {
        // Bounded: an app that runs many runs keeps the snapshots of the last few only.
        const next = new Map(known).set(key, once)
        for (const old of next.keys()) if (next.size > 8) next.delete(old)
        return [once, next] as const
      })
    })).pipe(Effect.mapError((error) => failed(request, error.reason, error.cause)))
})
