/**
 * The git questions the guards and the review hand-off share: is this a repository, does a ref name
 * a commit, which base to diff against (SPEC GRD-1, GRD-2 base selection).
 */
import { Effect } from "effect"
import { parseNulList } from "../../domain/DiffBudget.js"
import type { Git } from "../../services/Git.js"
import { NotAGitRepository } from "../../services/Guards.js"

type GitService = typeof Git.Service

/** Fails with NotAGitRepository unless `cwd` is inside a work tree with at least one commit. */
export const requireRepository = (git: GitService, cwd: string) =>
  Effect.gen(function*() {
    const inside = yield* git.run(["rev-parse", "--is-inside-work-tree"], cwd)
    if (inside.exitCode !== 0 || inside.stdout.trim() !== "true") {
      return yield* new NotAGitRepository({ path: cwd, detail: inside.stderr.trim().split("\n")[0] || "not a work tree" })
    }
    const head = yield* git.run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd)
    if (head.exitCode !== 0) return yield* new NotAGitRepository({ path: cwd, detail: "it has no commit yet" })
  })

/** Whether `ref` names a commit. */
export const isCommit = (git: GitService, cwd: string, ref: string) =>
  ref.trim().length === 0 || ref.startsWith("-")
    ? Effect.succeed(false)
    : Effect.map(git.run(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], cwd), (r) => r.exitCode === 0)

/** The first root commit of HEAD's history (the oldest, when there are several). */
export const rootCommit = (git: GitService, cwd: string) =>
  Effect.map(git.run(["rev-list", "--max-parents=0", "HEAD"], cwd), (r) => {
    const roots = r.stdout.split("\n").map((line) => line.trim()).filter((line) => line.length > 0)
    return roots[roots.length - 1] ?? "HEAD"
  })

/** The first candidate that names a commit, else origin/main when it exists, else the root commit. */
export const resolveBase = (git: GitService, cwd: string, candidates: ReadonlyArray<string | undefined>) =>
  Effect.gen(function*() {
    for (const candidate of [...candidates, "origin/main"]) {
      if (candidate !== undefined && (yield* isCommit(git, cwd, candidate))) return candidate
    }
    return yield* rootCommit(git, cwd)
  })

/** A NUL-separated path list from git (`-z`), or none when git refused (an empty range, no parent). */
export const gitPaths = (git: GitService, cwd: string, args: ReadonlyArray<string>) =>
  Effect.map(git.run(args, cwd), (r) => (r.exitCode === 0 ? parseNulList(r.stdout) : []))
