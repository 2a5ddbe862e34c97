import { Path } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import type { Roots } from "../domain/RunLayout.js"
import { decodeSettings, type PathsSection, pathsSection, runsSection } from "../domain/Settings.js"
import { BaseConfig } from "../services/BaseConfig.js"

/**
 * ENV-1 / ENV-2: the repository root is `CODEX_ORCHESTRATOR_ROOT`, else the working directory; the
 * runs and out roots default below it. Every root, relative overrides included, resolves against the
 * working directory.
 */
export const rootsOf = (path: Path.Path, paths: PathsSection): Roots => {
  const repoRoot = path.resolve(Option.getOrElse(paths.root, () => "."))
  return {
    repoRoot,
    runsRoot: Option.match(paths.runsDir, { onNone: () => path.join(repoRoot, ".runs"), onSome: (dir) => path.resolve(dir) }),
    outRoot: Option.match(paths.outDir, { onNone: () => path.join(repoRoot, "out"), onSome: (dir) => path.resolve(dir) })
  }
}

/** Decodes the `paths` and `runs` sections, and nothing else: every command builds this, `status` included. */
export const BaseConfigLive = Layer.effect(
  BaseConfig,
  Effect.gen(function*() {
    const path = yield* Path.Path
    const paths = yield* decodeSettings(pathsSection)
    const runs = yield* decodeSettings(runsSection)
    return BaseConfig.of({ roots: rootsOf(path, paths), envTaskId: paths.taskId, ...runs })
  })
)
