/**
 * The orchestrator's side of a remote stage's workspace (issue 18): the repository's origin, its
 * commit, and the uncommitted changes (untracked files included, the run folders left out) as a
 * binary diff, bounded so a request stays small. Taken once per run and repository: the stages of a
 * run see the repository as it was when the run's first remote stage started.
 */
import { Path } from "@effect/platform"
import { Chunk, Effect, Ref } from "effect"
import type { Workspace } from "../../domain/Cluster.js"
import { shellCommand, shellQuote } from "../../domain/Shell.js"
import type { ExecutionRequest } from "../../services/Executor.js"
import { ProcessRunner, ProcessSpawnError } from "../../services/ProcessRunner.js"
import { runForText } from "./processText.js"
import { concatBytes } from "./bytes.js"

/** The most uncommitted change a remote stage carries; beyond it, the user commits. */
export const diffLimitBytes = 16 * 1024 * 1024

const gitEnv = { LC_ALL: "C", GIT_PAGER: "cat", GIT_TERMINAL_PROMPT: "0" }

/**
 * The diff of everything not committed against HEAD, from a copy of the index (the user's index is
 * left alone), without the excluded folders; at most one byte more than the limit is read. `add`
 * must not look into them (a run writes and renames files there meanwhile), and an excluding
 * pathspec is given only for a folder git does not ignore already: `git add` exits 1 on one that
 * names an ignored folder, as `.runs` usually is.
 */
const diffScript = (excludes: ReadonlyArray<string>) =>
  [
    "set -e",
    `idx=$(mktemp "\${TMPDIR:-/tmp}/codex-orchestrator-index.XXXXXX")`,
    `trap 'rm -f "$idx"' EXIT`,
    `gi=$(git rev-parse --git-path index)`,
    `if [ -f "$gi" ]; then cp "$gi" "$idx"; else rm -f "$idx"; fi`,
    "set --",
    ...(excludes.length === 0
      ? []
      : [`for dir in ${excludes.map(shellQuote).join(" ")}; do git check-ignore -q "$dir/" || set -- "$@" ":(exclude)$dir"; done`]),
    `GIT_INDEX_FILE="$idx" git add -A -- . "$@"`,
    `GIT_INDEX_FILE="$idx" git diff --cached --binary HEAD | head -c ${diffLimitBytes + 1}`
  ].join("\n")

/** Makes `workspaceOf` on the ProcessRunner: a request's workspace, or null outside a git repository. */
export const makeWorkspaceSnapshots = Effect.gen(function*() {
  const runner = yield* ProcessRunner
  const path = yield* Path.Path
  const failed = (request: ExecutionRequest, reason: string, cause: unknown) =>
    new ProcessSpawnError({ command: request.command, cwd: request.cwd, reason, cause })

  const snapshot = (request: ExecutionRequest) =>
    Effect.gen(function*() {
      const info = yield* runForText(runner, {
        command: `${shellCommand(["git", "rev-parse", "--show-toplevel", "HEAD"])} && (git remote get-url origin 2>/dev/null || true)`,
        cwd: request.cwd,
        env: gitEnv
      })
      const [root, commit, origin] = info.stdout.split("\n").map((line) => line.trim())
      // Not a repository (or no commit yet): the runner uses the cwd as given, as on a shared disk.
      if (info.exit.exitCode !== 0 || root === undefined || commit === undefined || root === "" || commit === "") return null
      const inside = (dir: string | undefined) => {
        if (dir === undefined) return []
        const relative = path.relative(root, dir)
        return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? [] : [relative]
      }
      const excludes = [...inside(request.env["CODEX_ORCHESTRATOR_RUNS_DIR"]), ...inside(request.env["CODEX_ORCHESTRATOR_OUT_DIR"])]
      const output = yield* Ref.make({ stdout: Chunk.empty<Uint8Array>(), stderr: Chunk.empty<Uint8Array>() })
      const exit = yield* runner.run({ command: diffScript(excludes), cwd: root, env: gitEnv }, {
        onStart: () => Effect.void,
        onOutput: (stream, chunks) => Ref.update(output, (o) => ({ ...o, [stream]: Chunk.appendAll(o[stream], chunks) }))
      })
      const { stderr, stdout } = yield* Ref.get(output)
      if (exit.exitCode !== 0) {
        return yield* failed(request, `could not take the uncommitted changes: ${new TextDecoder().decode(concatBytes(stderr)).trim()}`, exit)
      }
      const diff = concatBytes(stdout)
      if (diff.length > diffLimitBytes) {
        return yield* failed(
          request,
          `the uncommitted changes are more than ${diffLimitBytes / 1024 / 1024} MiB, the most a remote stage carries; ` +
            "commit them (runners fetch commits from origin) and run again",
          diff.length
        )
      }
      const workspace: Workspace = { origin: origin === undefined || origin === "" ? root : origin, commit, diff, cwd: path.relative(root, request.cwd) }
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
