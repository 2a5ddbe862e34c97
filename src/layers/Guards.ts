import { Path } from "@effect/platform"
import { Clock, Effect, Layer } from "effect"
import {
  evaluateBudget,
  maxUntrackedBytes,
  measureText,
  type DiffScope,
  parseNumstat,
  type UntrackedMeasure
} from "../domain/DiffBudget.js"
import { changeIssues, freshnessIssue, isSpecFileName, specDirectories, utcDayOf } from "../domain/SpecGuard.js"
import { Files } from "../services/Files.js"
import { Git, GitUnavailable } from "../services/Git.js"
import { type DiffBudgetRequest, Guards, UnknownRevision } from "../services/Guards.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { PipelineCatalog } from "../services/PipelineCatalog.js"
import { scanDocs } from "./internal/docsScan.js"
import { syncTaskDocs } from "./internal/docsSync.js"
import { gitPaths, isCommit, requireRepository, resolveBase } from "./internal/gitRefs.js"

/** The guards on the repository at the configured root (CODEX_ORCHESTRATOR_ROOT, else the working directory). */
export const GuardsLive = Layer.effect(
  Guards,
  Effect.gen(function*() {
    const git = yield* Git
    const files = yield* Files
    const path = yield* Path.Path
    const catalog = yield* PipelineCatalog
    const root = (yield* BaseConfig).roots.repoRoot

    /** git that must succeed: a failure here is not an answer but a broken call. */
    const gitText = (args: ReadonlyArray<string>) =>
      Effect.flatMap(git.run(args, root), (r) =>
        r.exitCode === 0
          ? Effect.succeed(r.stdout)
          : new GitUnavailable({ args, reason: `it exited ${r.exitCode}: ${r.stderr.trim()}`, cause: r }))

    const spec = Effect.fn("Guards.spec")(function*(request: { readonly baseSha?: string | undefined }) {
      yield* requireRepository(git, root)
      const base = yield* resolveBase(git, root, [request.baseSha])
      const symmetric = yield* gitPaths(git, root, ["diff", "--name-only", "-z", `${base}...HEAD`])
      const changed = symmetric.length > 0 ? symmetric : yield* gitPaths(git, root, ["diff", "--name-only", "-z", "HEAD~1..HEAD"])
      const specFiles: Array<string> = []
      for (const dir of specDirectories) {
        for (const name of yield* files.list(path.join(root, dir))) {
          const stat = yield* files.info(path.join(root, dir, name))
          if (isSpecFileName(name) && stat?.type === "file") specFiles.push(`${dir}/${name}`)
        }
      }
      const today = utcDayOf(yield* Clock.currentTimeMillis)
      const freshness: Array<string> = []
      for (const file of specFiles) {
        const issue = yield* files.readText(path.join(root, file)).pipe(
          Effect.map((text) => text === undefined ? `${file}: file missing during freshness check` : freshnessIssue(file, text, today)),
          Effect.catchTag("FileAccessError", (error) => Effect.succeed(`${file}: unable to read file (${error.message})`))
        )
        if (issue !== undefined) freshness.push(issue)
      }
      return { base, changed, specFiles, issues: [...changeIssues(changed), ...freshness] }
    })

    /**
     * An untracked path as `git add` would count it. git lists a symbolic link itself (never what is
     * under a linked folder), and counts it as one line, its target, whatever it points at (a folder,
     * nothing, a file of any size): a path whose real path is elsewhere, or that leads nowhere, is one.
     */
    const measureUntracked = (realRootPath: string) => (file: string) =>
      Effect.gen(function*() {
        const target = path.join(root, file)
        const real = yield* files.realPath(target)
        if (real === undefined || real !== path.join(realRootPath, file)) return { _tag: "Lines", lines: 1, binary: false } satisfies UntrackedMeasure
        const stat = yield* files.info(target)
        if (stat === undefined || stat.type !== "file") return { _tag: "Unreadable", reason: "not a regular file" } satisfies UntrackedMeasure
        if (stat.size > maxUntrackedBytes) return { _tag: "TooLarge", bytes: stat.size } satisfies UntrackedMeasure
        const text = yield* files.readText(target)
        return text === undefined ? { _tag: "Unreadable", reason: "it disappeared" } satisfies UntrackedMeasure : measureText(text)
      }).pipe(Effect.catchTag("FileAccessError", (error) => Effect.succeed<UntrackedMeasure>({ _tag: "Unreadable", reason: error.message })))

    const diffBudget = Effect.fn("Guards.diffBudget")(function*(request: DiffBudgetRequest) {
      yield* requireRepository(git, root)
      const limits = { maxFiles: request.maxFiles, maxLines: request.maxLines, overrideReason: request.overrideReason }
      const commit = request.commit?.trim()
      if (commit !== undefined && commit.length > 0) {
        if (!(yield* isCommit(git, root, commit))) return yield* new UnknownRevision({ option: "--commit", revision: commit })
        const show = ["show", "--no-renames", "--format=", "-z"]
        const [changed, numstat] = yield* Effect.all([
          gitPaths(git, root, [...show, "--name-only", commit]),
          Effect.map(gitText([...show, "--numstat", commit]), parseNumstat)
        ])
        const scope: DiffScope = { _tag: "Commit", commit }
        return evaluateBudget({ scope, changed, numstat, untracked: [] }, limits)
      }
      if (request.base !== undefined && !(yield* isCommit(git, root, request.base))) {
        return yield* new UnknownRevision({ option: "--base", revision: request.base })
      }
      const base = yield* resolveBase(git, root, [request.base, ...(request.envBase ?? [])])
      const [changed, numstat, untrackedPaths] = yield* Effect.all([
        Effect.map(gitText(["diff", "--name-only", "--no-renames", "-z", base]), (text) => text.split("\0").filter((p) => p.length > 0)),
        Effect.map(gitText(["diff", "--numstat", "--no-renames", "-z", base]), parseNumstat),
        gitPaths(git, root, ["ls-files", "--others", "--exclude-standard", "-z"])
      ])
      const measure = measureUntracked((yield* files.realPath(root)) ?? root)
      const untracked = yield* Effect.forEach(untrackedPaths, (file) => Effect.map(measure(file), (measure) => ({ path: file, measure })))
      return evaluateBudget({ scope: { _tag: "WorkingTree", base }, changed, numstat, untracked }, limits)
    })

    return Guards.of({ spec, diffBudget, docs: scanDocs(files, path, catalog, root), syncDocs: syncTaskDocs(files, path, root) })
  })
)
