/**
 * What every design step starts from (SPEC DES-1, DES-3, CFG-10): the design config read from
 * `--config`, `DESIGN_CONFIG_PATH` or `<repo>/design.config.yaml` and checked with every bad field
 * reported at once; the permit consulted (an unlisted origin is only a warning); the run the step
 * writes into, from the flags or the environment the engine gives stages (ENV-5).
 */
import type { Path } from "@effect/platform"
import { Effect } from "effect"
import { designConfigFileName, type DesignSettings, oneLineDesignConfig } from "../../domain/DesignConfig.js"
import { type DesignLayout, makeDesignLayout } from "../../domain/DesignPaths.js"
import { decodeJsonFile, InvalidFile } from "../../domain/FileErrors.js"
import { parseRunId, resolveTaskId } from "../../domain/Ids.js"
import { PermitFile, permitVerdict, type PermitVerdict } from "../../domain/MirrorConfig.js"
import type { DesignSection } from "../../domain/Settings.js"
import type { BaseSettings } from "../../services/BaseConfig.js"
import { DesignRunUnknown, type DesignStepRequest } from "../../services/DesignToolkit.js"
import type { Files } from "../../services/Files.js"
import { parseDesignConfig } from "./designConfigFile.js"

export interface LoadedConfig {
  readonly settings: DesignSettings
  /** Repository-relative (or as given when outside it). */
  readonly shown: string
}

export interface DesignContext extends LoadedConfig {
  readonly layout: DesignLayout
}

const configHint = `Create it (README, Hi-fi design toolkit, shows every field); an example, valid as it is: ${
  oneLineDesignConfig("https://example.com/", "example")
}`

export const makeDesignContext = (files: Files["Type"], path: Path.Path, base: BaseSettings, env: DesignSection) => {
  const { roots } = base
  const shownOf = (absolute: string) => {
    const relative = path.relative(roots.repoRoot, absolute)
    return relative.startsWith("..") ? absolute : relative
  }

  /** CFG-10: `--config`, else DESIGN_CONFIG_PATH, else the repository's design.config.yaml. */
  const configPathOf = (request: DesignStepRequest) =>
    path.resolve(roots.repoRoot, request.configPath ?? env.configPath ?? designConfigFileName)

  const loadConfig = (request: DesignStepRequest) =>
    Effect.gen(function*() {
      const file = configPathOf(request)
      const shown = shownOf(file)
      const text = yield* files.readText(file)
      if (text === undefined) return yield* new InvalidFile({ path: shown, issues: ["the file does not exist"], hint: configHint })
      const settings = yield* parseDesignConfig(text, shown)
      if (settings.sources.length === 0) {
        return yield* new InvalidFile({
          path: shown,
          issues: ["pipelines.hi_fi_design_toolkit.sources: lists no source"],
          hint: "Add one with url, slug, title and breakpoints."
        })
      }
      return { settings, shown } satisfies LoadedConfig
    })

  /** DES-1: consulted, never blocking; a missing file or an unlisted origin is a warning. */
  const permitOf = (settings: DesignSettings) =>
    Effect.gen(function*() {
      const permitPath = path.join(roots.repoRoot, "compliance", "permit.json")
      const text = yield* files.readText(permitPath)
      const permit = text === undefined
        ? undefined
        : yield* decodeJsonFile(PermitFile, shownOf(permitPath))(text).pipe(
          Effect.tapError((error) => Effect.logWarning(error.message)),
          Effect.orElseSucceed(() => undefined)
        )
      if (text === undefined) yield* Effect.logWarning(`no ${shownOf(permitPath)}; extraction continues (DES-1)`)
      return yield* Effect.forEach(settings.sources, (source) =>
        Effect.gen(function*() {
          const verdict: PermitVerdict = permitVerdict(permit, new URL(source.url))
          if (verdict === "not-listed") {
            yield* Effect.logWarning(`${new URL(source.url).origin} is not listed in ${shownOf(permitPath)} (allowedSources); extraction continues`)
          }
          return { slug: source.dir, origin: new URL(source.url).origin, verdict }
        }))
    })

  /** The run: flags first, then the stage environment (ENV-5); a step cannot guess a run. */
  const contextOf = (step: string, request: DesignStepRequest) =>
    Effect.gen(function*() {
      const loaded = yield* loadConfig(request)
      const taskId = yield* resolveTaskId(base.envTaskId ?? env.stageTaskId, request.taskId)
      const given = request.runId ?? env.stageRunId
      if (given === undefined) return yield* new DesignRunUnknown({ step })
      const runId = yield* parseRunId(given, request.runId === undefined ? "CODEX_ORCHESTRATOR_RUN_ID" : undefined)
      return { ...loaded, layout: makeDesignLayout(path, roots, taskId, runId) } satisfies DesignContext
    })

  return { loadConfig, permitOf, contextOf, shownOf }
}
