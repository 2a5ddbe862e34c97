/**
 * Git's own blob ids for a stage's inputs (DECISIONS B-5): for a file git tracks and that is the same
 * in the working tree as in the index, the index's id is its content's id, so the file need not be
 * read. Used when a stage has many inputs; a file git does not know, or that differs from the index,
 * is hashed as before (cacheDigest.ts computes the same kind of id, so both ways give one key).
 */
import { Effect } from "effect"
import type { Git } from "../../services/Git.js"

/** Above this many matched inputs, asking git (two processes) is cheaper than reading every file. */
export const gitInputThreshold = 64

/** Ids by path relative to `root` of the tracked, unmodified regular files under it; empty when git cannot tell. */
export const cleanBlobIds = (git: Git["Type"], root: string) =>
  Effect.gen(function*() {
    const none = new Map<string, string>()
    const staged = yield* git.run(["ls-files", "--stage", "-z"], root)
    if (staged.exitCode !== 0) return none
    const dirty = yield* git.run(["diff", "--name-only", "--relative", "-z"], root)
    if (dirty.exitCode !== 0) return none
    const changed = new Set(dirty.stdout.split("\u0000").filter((path) => path.length > 0))
    const ids = new Map<string, string>()
    for (const record of staged.stdout.split("\u0000")) {
      const tab = record.indexOf("\t")
      if (tab < 0) continue
      const [mode, id, stage] = record.slice(0, tab).split(" ")
      const path = record.slice(tab + 1)
      // Regular files only (a symlink's id is its target's name; a submodule's is a commit), merged ones only.
      if (stage !== "0" || id === undefined || !(mode === "100644" || mode === "100755") || changed.has(path)) continue
      ids.set(path, id)
    }
    return ids
  }).pipe(Effect.orElseSucceed(() => new Map<string, string>()))
