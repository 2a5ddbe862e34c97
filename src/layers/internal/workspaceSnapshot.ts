/**
 * The orchestrator's side of a remote stage's workspace (issue 18): the repository's origin, its
 * commit, and the uncommitted changes (untracked files included, the run folders left out) as a
 * binary diff, bounded so a request stays small. Taken once per run and repository: the stages of a
 * run see the repository as it was when the run's first remote stage started.
 */
import { Path } from "@effect/platform"
import { Chunk, Effect, Ref } from "effect"
import type { Workspace } from "../../domain/Cluster.js"
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
 * process above all): the repository's root, HEAD and origin on three lines, then the diff of
 * everything not committed against HEAD, from a copy of the index (the user's index is left
 * alone), without the excluded folders (absolute; those outside the repository do not count); at
 * most one byte more than the limit is read. `add` must not look into them (a run writes and
 * renames files there meanwhile), and an excluding pathspec is given only for a folder git does not
 * ignore already: `git add` exits 1 on one that names an ignored folder, as `.runs` usually is.
 */
const snapshotScript = (excludes: ReadonlyArray<string>) =>
  [
    "set -e",
    `info=$(git rev-parse --show-toplevel HEAD 2>/dev/null) || exit ${notARepository}`,
    "nl='",
    "'",
    `root=\${info%%"$nl"*}`,
    `head=\${info#*"$nl"}`,
    "origin=$(git remote get-url origin 2>/dev/null) || origin=",
    `printf '%s\\n%s\\n%s\\n' "$root" "$head" "$origin"`,
    `cd "$root"`,
    `idx=$(mktemp "\${TMPDIR:-/tmp}/codex-orchestrator-index.XXXXXX")`,
    `trap 'rm -f "$idx"' EXIT`,
    `gi=$(git rev-parse --git-path index)`,
    `if [ -f "$gi" ]; then cp "$gi" "$idx"; else rm -f "$idx"; fi`,
    "set --",
    ...(excludes.length === 0 ? [] : [
      `for dir in ${excludes.map(shellQuote).join(" ")}; do`,
      `  case "$dir" in "$root"/*) rel=\${dir#"$root"/}; git check-ignore -q "$rel/" || set -- "$@" ":(exclude)$rel" ;; esac`,
      "done"
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
      // Not a repository (or no commit yet): the runner uses the cwd as given, as on a shared disk.
      if (exit.exitCode === notARepository) return null
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

  const cache = yield* Ref.make(new Map<string, Effect.Effect<Workspace | null, ProcessSpawnError>>())
  /** One snapshot per run and working directory, shared by the run's stages. */
  // The snapshot is shared, its failure too: it is told as this request's (its command, its cwd).
  return (request: ExecutionRequest): Effect.Effect<Workspace | null, ProcessSpawnError> =>
    Effect.flatten(Effect.flatMap(Ref.get(cache), (known) => {
      const key = `${request.runId}\n${request.cwd}`
      const found = known.get(key)
      if (found !== undefined) return Effect.succeed(found)
      return Effect.tap(Effect.cached(snapshot(request)), (once) =>
        Ref.update(cache, (all) => {
          // Bounded: an app that runs many runs keeps the snapshots of the last few only.
          const next = new Map(all).set(key, once)
          for (const old of next.keys()) if (next.size > 8) next.delete(old)
          return next
        }))
    })).pipe(Effect.mapError((error) => failed(request, error.reason, error.cause)))
})
