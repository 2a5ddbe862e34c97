import { FileSystem, Path } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { isWithin } from "../domain/PathContainment.js"
import type { Roots } from "../domain/RunLayout.js"
import { decodeSettings, type PathsSection, pathsSection, runsSection } from "../domain/Settings.js"
import { BaseConfig, type BaseSettings } from "../services/BaseConfig.js"

/** Roots given in code (makeAppLayer's `settings`); each wins over its environment variable. */
export interface RootOverrides {
  /** The repository: `codex.orchestrator.json`, instruction files; the other roots default below it. */
  readonly repoRoot?: string | undefined
  /** Where runs are written (default `<repoRoot>/.runs`). */
  readonly runsRoot?: string | undefined
  /** Where outputs go (default `<repoRoot>/out`). */
  readonly outRoot?: string | undefined
}

/**
 * ENV-1 / ENV-2: the repository root is `CODEX_ORCHESTRATOR_ROOT`, else the working directory; the
 * runs and out roots default below it. Every root, relative overrides included, resolves against the
 * working directory. A root given in code (`overrides`) wins over its variable.
 */
export const rootsOf = (path: Path.Path, paths: PathsSection, overrides: RootOverrides = {}): Roots => {
  const repoRoot = path.resolve(overrides.repoRoot ?? Option.getOrElse(paths.root, () => "."))
  const under = (given: string | undefined, env: Option.Option<string>, name: string) =>
    given === undefined
      ? Option.match(env, { onNone: () => path.join(repoRoot, name), onSome: (dir) => path.resolve(dir) })
      : path.resolve(given)
  return {
    repoRoot,
    runsRoot: under(overrides.runsRoot, paths.runsDir, ".runs"),
    outRoot: under(overrides.outRoot, paths.outDir, "out")
  }
}

/**
 * D-5: a runs or out root that lies inside the repository once symbolic links are resolved, but is
 * named through a link (`$PWD/.runs` in a shell whose `$PWD` is a link to the repository: the working
 * directory is the real path), is said as the folder under the repository root. Every path recorded
 * relative to the repository then stays inside it (`.runs/<task>/...`, never `../lnk/.runs/...`).
 * A root already under the repository root by name is not looked at (no file system call: the
 * defaults); a root elsewhere, or one a link leads out of, is kept as given.
 */
export const rootsUnderRepository = (fs: FileSystem.FileSystem, path: Path.Path, roots: Roots): Effect.Effect<Roots> =>
  Effect.gen(function*() {
    // A folder not made yet is the real path of the nearest one that is, and the rest of its name.
    const real = (target: string): Effect.Effect<string> =>
      fs.realPath(target).pipe(
        Effect.catchAll(() => {
          const parent = path.dirname(target)
          return parent === target ? Effect.succeed(target) : Effect.map(real(parent), (found) => path.join(found, path.basename(target)))
        })
      )
    const namedUnder = (root: string) => isWithin(roots.repoRoot, root, path.sep)
    if (namedUnder(roots.runsRoot) && namedUnder(roots.outRoot)) return roots
    const realRepo = yield* real(roots.repoRoot)
    const said = (root: string) =>
      namedUnder(root) ? Effect.succeed(root) : Effect.map(real(root), (realRoot) =>
        isWithin(realRepo, realRoot, path.sep) ? path.join(roots.repoRoot, path.relative(realRepo, realRoot)) : root)
    return { repoRoot: roots.repoRoot, runsRoot: yield* said(roots.runsRoot), outRoot: yield* said(roots.outRoot) }
  })

/** The base settings an app gives in code: its roots and any of the rest. */
export interface BaseOverrides extends RootOverrides, Partial<Omit<BaseSettings, "roots">> {}

/**
 * Decodes the `paths` and `runs` sections, and nothing else (every command builds this, `status`
 * included); what `overrides` gives wins over the environment. Roots named through a link into the
 * repository are said under it (`rootsUnderRepository`).
 */
export const BaseConfigWith = ({ outRoot, repoRoot, runsRoot, ...rest }: BaseOverrides) =>
  Layer.effect(
    BaseConfig,
    Effect.gen(function*() {
      const path = yield* Path.Path
      const paths = yield* decodeSettings(pathsSection)
      const runs = yield* decodeSettings(runsSection)
      return BaseConfig.of({
        roots: yield* rootsUnderRepository(yield* FileSystem.FileSystem, path, rootsOf(path, paths, { repoRoot, runsRoot, outRoot })),
        envTaskId: paths.taskId,
        ...runs,
        ...rest
      })
    })
  )

/** The base settings from the environment alone. */
export const BaseConfigLive = BaseConfigWith({})

