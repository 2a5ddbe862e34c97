import { Path } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
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

/** The base settings an app gives in code: its roots and any of the rest. */
export interface BaseOverrides extends RootOverrides, Partial<Omit<BaseSettings, "roots">> {}

/**
 * Decodes the `paths` and `runs` sections, and nothing else (every command builds this, `status`
 * included); what `overrides` gives wins over the environment.
 */
export const BaseConfigWith = ({ outRoot, repoRoot, runsRoot, ...rest }: BaseOverrides) =>
  Layer.effect(
    BaseConfig,
    Effect.gen(function*() {
      const path = yield* Path.Path
      const paths = yield* decodeSettings(pathsSection)
      const runs = yield* decodeSettings(runsSection)
      return BaseConfig.of({
        roots: rootsOf(path, paths, { repoRoot, runsRoot, outRoot }),
        envTaskId: paths.taskId,
        ...runs,
        ...rest
      })
    })
  )

/** The base settings from the environment alone. */
export const BaseConfigLive = BaseConfigWith({})

