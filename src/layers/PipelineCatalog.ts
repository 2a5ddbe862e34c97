import { Path } from "@effect/platform"
import { Effect, Layer, Ref } from "effect"
import { decodeJsonFile, FileAccessError } from "../domain/FileErrors.js"
import {
  configFileName,
  PipelineConfigFile,
  PipelineDefinition,
  type PipelineCatalogData,
  TaskIndexFile,
  taskIndexFileName,
  taskMetadataOf
} from "../domain/Pipeline.js"
import { activeDesignPipeline, needsDesignConfig } from "../domain/DesignActivation.js"
import { designConfigFileName } from "../domain/DesignConfig.js"
import { decodeSettings, designSection } from "../domain/Settings.js"
import { Files } from "../services/Files.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { parseDesignConfig } from "./internal/designConfigFile.js"
import { PipelineCatalog } from "../services/PipelineCatalog.js"

/**
 * The built-in pipelines folder. Two levels above this module both in the sources (src/layers/) and
 * in the builds (dist/layers/, and dist/bin/ for the bundled CLI), which all sit in the package root.
 */
export const builtinPipelinesUrl = new URL("../../pipelines/", import.meta.url)

const configHint = `Fix the fields listed, or see pipelines/diagnostics.json for a valid example.`

/** The built-in pipelines folder as a path. */
const builtinPipelinesDir = Effect.flatMap(Path.Path, (path) => Effect.orDie(path.fromFileUrl(builtinPipelinesUrl)))

/** Every `*.json` of the built-in pipelines folder (`dir`, default the package's `pipelines/`), through `Files`. */
export const readBuiltinPipelines = (dir?: string) =>
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path
    const folder = dir ?? (yield* builtinPipelinesDir)
    // `list` gives nothing for a missing folder; for the package's own pipelines that is a broken install.
    if ((yield* files.info(folder))?.type !== "directory") {
      return yield* new FileAccessError({ path: folder, operation: "list built-in pipelines in", cause: new Error("not a folder") })
    }
    const names = yield* files.list(folder)
    return yield* Effect.forEach(names.filter((name) => name.endsWith(".json")), (name) => {
      const file = path.join(folder, name)
      return files.readText(file).pipe(
        Effect.flatMap((text) => decodeJsonFile(PipelineDefinition, file)(text ?? "")),
      )
    })
  })

/**
 * Reads `<repoRoot>/codex.orchestrator.json` (missing: built-ins only, CFG-1) and every `*.json`
 * built-in, through `Files`. `inCode`: pipelines an app defines in code, merged after the file's (a
 * pipeline of the file wins over one of the same id in code, so a repository can adjust an app's pipeline).
 */
export const PipelineCatalogLive = (builtinsDir?: string, inCode: ReadonlyArray<PipelineDefinition> = []) =>
  Layer.effect(
    PipelineCatalog,
    Effect.gen(function*() {
      const files = yield* Files
      const path = yield* Path.Path
      // Only the roots: a bad engine setting must not stop the commands that only read pipelines (doctor).
      const config = yield* BaseConfig
      const dir = builtinsDir ?? (yield* builtinPipelinesDir)
      const configPath = path.join(config.roots.repoRoot, configFileName)
      const shownConfigPath = path.relative(path.resolve("."), configPath) || configFileName

      /** The file's text, undefined when it does not exist; errors name the file as the user sees it. */
      const readText = (file: string, shown: string) =>
        files.readText(file).pipe(Effect.mapError((error) => new FileAccessError({ path: shown, operation: "read", cause: error.cause })))

      // The config is read for the notify targets and again for the plan; decoding it is the larger
      // cost (~20 ms for a config of 300 stages), so the same text is decoded once. A changed file is read anew.
      const lastConfig = yield* Ref.make<{ readonly text: string; readonly file: PipelineConfigFile } | undefined>(undefined)
      const decodeConfig = (text: string) =>
        Effect.flatMap(Ref.get(lastConfig), (last) =>
          last?.text === text
            ? Effect.succeed(last.file)
            : decodeJsonFile(PipelineConfigFile, shownConfigPath, configHint)(text).pipe(
              Effect.tap((file) => Ref.set(lastConfig, { text, file }))
            ))
      const readUserConfig = Effect.flatMap(readText(configPath, shownConfigPath), (text) =>
        text === undefined ? Effect.succeed(undefined) : decodeConfig(text))

      const readBuiltins = readBuiltinPipelines(dir).pipe(Effect.provideService(Files, files), Effect.provideService(Path.Path, path))

      const designEnv = yield* decodeSettings(designSection)
      /** DES-2: the variables decide; without them, design.config.yaml (DESIGN_CONFIG_PATH), when it exists. */
      const readDesignPipeline = Effect.gen(function*() {
        if (!needsDesignConfig(designEnv)) return activeDesignPipeline(designEnv, undefined)
        const file = path.resolve(config.roots.repoRoot, designEnv.configPath ?? designConfigFileName)
        const shown = path.relative(path.resolve("."), file) || designConfigFileName
        const text = yield* readText(file, shown)
        if (text === undefined) return undefined
        const parsed = parseDesignConfig(text, shown)
        if (parsed._tag === "Left") {
          yield* Effect.logWarning(`${parsed.left.message} The design pipelines stay inactive until it is fixed.`)
          return undefined
        }
        const settings = parsed.right
        return activeDesignPipeline(designEnv, {
          toolkitEnabled: settings.enabled,
          sourceCount: settings.sources.length,
          referenceEnabled: settings.referenceEnabled
        })
      })

      const taskIndexPath = path.join(config.roots.repoRoot, taskIndexFileName)
      const readTaskIndex = Effect.gen(function*() {
        const shown = path.relative(path.resolve("."), taskIndexPath) || taskIndexFileName
        const text = yield* readText(taskIndexPath, shown)
        if (text === undefined) return undefined
        return yield* decodeJsonFile(TaskIndexFile, shown, "Fix the fields listed; each item needs id, slug and title.")(text)
      })

      return PipelineCatalog.of({
        taskMetadata: (taskId) => Effect.map(readTaskIndex, (index) => taskMetadataOf(index, taskId)),
        notifyTargets: Effect.map(readUserConfig, (user) => user?.notify ?? []),
        load: Effect.gen(function*() {
          const [user, builtins, designPipeline] = yield* Effect.all([readUserConfig, readBuiltins, readDesignPipeline], { concurrency: 3 })
          if (user === undefined && inCode.length === 0) {
            // CFG-1: a missing file is not an error, but a user who expected theirs must be told.
            const ids = builtins.map((p) => p.id).join(", ")
            yield* Effect.logWarning(`No ${configFileName} in ${config.roots.repoRoot}: using the built-in pipelines (${ids}).`)
          }
          return {
            configPath: shownConfigPath,
            configFound: user !== undefined,
            user: [...(user?.pipelines ?? []), ...inCode],
            defaultPipeline: user?.defaultPipeline,
            builtins,
            designPipeline
          } satisfies PipelineCatalogData
        })
      })
    })
  )

/** A fixed catalog, for tests and for embedders that define pipelines in code. */
export const PipelineCatalogMemory = (data: Partial<PipelineCatalogData>, tasks?: TaskIndexFile) =>
  Layer.succeed(
    PipelineCatalog,
    PipelineCatalog.of({
      taskMetadata: (taskId) => Effect.succeed(taskMetadataOf(tasks, taskId)),
      notifyTargets: Effect.succeed(data.notify ?? []),
      load: Effect.succeed({
        configPath: data.configPath ?? configFileName,
        configFound: data.configFound ?? (data.user !== undefined),
        user: data.user ?? [],
        defaultPipeline: data.defaultPipeline,
        builtins: data.builtins ?? [],
        designPipeline: data.designPipeline
      })
    })
  )
