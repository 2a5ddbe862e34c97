/**
 * The branches and tags a remote stage makes in its worktree, undone when the worktree is handed
 * back (issue 18). A runner's worktrees share their clone's refs, so a branch a stage creates would
 * outlive it and meet a later stage of another run there (`git checkout -b feature` failing on the
 * second run). Each clone has a `reference-transaction` hook that appends, for a transaction made in
 * a worktree (the folder the hook runs in has a `.git` file), each change under refs/heads and
 * refs/tags to `codex-refs` in that worktree's own git folder: the stage's changes, told apart from
 * those of the stages in the clone's other worktrees. When the worktree is recycled or removed, each
 * ref it changed goes back to what it was before its first change (removed if it did not exist),
 * unless it changed since (another worktree's stage): a ref is only moved from the value this
 * worktree left it at.
 */
import type { Path } from "@effect/platform"
import { Effect } from "effect"
import { shellCommand } from "../../domain/Shell.js"
import type { Files } from "../../services/Files.js"
import type { ProcessRunner } from "../../services/ProcessRunner.js"
import { gitEnv } from "./gitEnv.js"
import { runForText } from "./processText.js"

/** The hook's file name in the clone's `hooks` folder (git 2.28 and later run it; older ones ignore it). */
export const refsHook = "reference-transaction"

/** Where the hook writes, in a worktree's own git folder (`<clone>/worktrees/<name>`). */
export const refsRecord = "codex-refs"

/**
 * The hook: one shell, no other process. Not a worktree (the clone's own fetches) or not yet
 * committed: its input is read and dropped.
 */
export const refsHookScript = [
  "#!/bin/sh",
  "# codex-orchestrator runner: records the branches and tags a stage changes in its worktree; undone when the worktree is handed back",
  `if [ "$1" != committed ] || [ ! -f .git ]; then while read -r _; do :; done; exit 0; fi`,
  "read -r _ dir < .git || exit 0",
  "while read -r old new ref; do",
  `  case "$ref" in refs/heads/*|refs/tags/*) printf '%s %s %s\\n' "$old" "$new" "$ref" >> "$dir/${refsRecord}" ;; esac`,
  "done",
  ""
].join("\n")

/**
 * The environment of the runner's own git commands in its clones and worktrees: no hook runs for
 * them (the refs hook is for the stage's changes; it would also cost each of them a shell or more,
 * 3 of them for one `git reset --hard`).
 */
export const runnerGitEnv: Readonly<Record<string, string>> = {
  ...gitEnv,
  GIT_CONFIG_COUNT: "1",
  GIT_CONFIG_KEY_0: "core.hooksPath",
  GIT_CONFIG_VALUE_0: "/dev/null"
}

const isZero = (oid: string) => /^0+$/.test(oid)

/** Per ref, its value before the worktree's first change and after its last (a zero id: none). */
export const refChanges = (record: string): ReadonlyMap<string, { readonly before: string; readonly after: string }> => {
  const changes = new Map<string, { before: string; after: string }>()
  for (const line of record.split("\n")) {
    const [before, after, ref] = line.trim().split(" ")
    if (before === undefined || after === undefined || ref === undefined || !/^refs\/(heads|tags)\//.test(ref)) continue
    const known = changes.get(ref)
    changes.set(ref, { before: known?.before ?? before, after })
  }
  return changes
}

/**
 * The `git update-ref` commands that undo a worktree's record, each checked against the value it
 * left (git refuses the change otherwise: another stage moved the ref since), each allowed to fail
 * alone. None when there is nothing to undo. A ref the stage deleted without changing it first is
 * not restored: git 2.39 records a deletion without the value the ref had.
 */
export const undoCommands = (record: string): ReadonlyArray<ReadonlyArray<string>> =>
  [...refChanges(record)].flatMap(([ref, { after, before }]) => {
    if (before === after) return []
    if (isZero(before)) return isZero(after) ? [] : [["git", "update-ref", "-d", ref, after]]
    // A zero `after` (deleted since) has update-ref recreate the ref only where it is still absent.
    return [["git", "update-ref", ref, before, after]]
  })

interface RefsContext {
  readonly files: Files["Type"]
  readonly path: Path.Path
  readonly processes: ProcessRunner["Type"]
}

/**
 * Puts back the branches and tags changed in the worktree whose git folder is `gitDir`
 * (`<clone>/worktrees/<name>`), as its hook recorded them: one process, none when it recorded none.
 */
export const undoWorktreeRefs = ({ files, path, processes }: RefsContext, gitDir: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    const recordPath = path.join(gitDir, refsRecord)
    const commands = undoCommands((yield* files.readText(recordPath)) ?? "")
    if (commands.length > 0) {
      const clone = path.dirname(path.dirname(gitDir))
      const command = commands.map((args) => `${shellCommand(args)} 2>/dev/null || :`).join("\n")
      yield* runForText(processes, { command, cwd: clone, env: { ...runnerGitEnv, GIT_DIR: clone } })
    }
    yield* files.remove(recordPath)
  }).pipe(Effect.catchAll((error) => Effect.logWarning(`could not put back the refs changed in ${gitDir}: ${error.message}`)))

/**
 * What the worktrees a runner killed there left behind changed (their folders removed when the next
 * runner starts, before git forgets them): undone as for a worktree handed back. A worktree still
 * there (kept after a failure) keeps its changes.
 */
export const undoLeftBehind = (context: RefsContext, root: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { files, path } = context
    const repos = path.join(root, "repos")
    for (const clone of yield* files.list(repos)) {
      const admin = path.join(repos, clone, "worktrees")
      for (const name of yield* files.list(admin)) {
        const gitDir = path.join(admin, name)
        const dotGit = (yield* files.readText(path.join(gitDir, "gitdir")))?.trim()
        if (dotGit === undefined || (yield* files.info(path.join(gitDir, refsRecord))) === undefined) continue
        if ((yield* files.info(path.dirname(dotGit))) === undefined) yield* undoWorktreeRefs(context, gitDir)
      }
    }
  }).pipe(Effect.catchAll((error) => Effect.logWarning(`could not put back the refs of the worktrees left in ${root}: ${error.message}`)))
