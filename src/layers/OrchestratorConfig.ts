import { Context, Effect, Layer } from "effect"
import { noGroupNumbers } from "../domain/TfgrpoGroup.js"
import { decodeSettings, engineDefaults, engineSection, runDefaults, tfgrpoSection } from "../domain/Settings.js"
import { BaseConfig, type BaseSettings } from "../services/BaseConfig.js"
import { OrchestratorConfig, type OrchestratorSettings } from "../services/OrchestratorConfig.js"

/** The engine's settings an app gives in code (makeAppLayer's `settings`); the base ones are BaseConfigWith's. */
export type EngineOverrides = Partial<Omit<OrchestratorSettings, keyof BaseSettings>>

/**
 * The engine's settings: the base settings (BaseConfigLive, built below it) plus the `engine` and
 * `tfgrpo` sections, decoded here and nowhere else, and what `overrides` gives over them. A bad
 * value fails this layer with one InvalidSetting, so only the commands that plan or run pipelines
 * stop on it (exit 2).
 */
export const OrchestratorConfigWith = (overrides: EngineOverrides) => Layer.effect(
  OrchestratorConfig,
  Effect.gen(function*() {
    const base = yield* BaseConfig
    const engine = yield* decodeSettings(engineSection)
    const { epoch, groupFeature, groupId, ...group } = yield* decodeSettings(tfgrpoSection)
    return OrchestratorConfig.of({
      ...base,
      envTargetStage: engine.targetStage,
      subscriberGrace: engine.subscriberGrace,
      emitCommandStreams: engine.emitCommandStreams,
      experienceMaxWords: engine.experienceMaxWords,
      groupExecution: groupFeature,
      tfgrpoEpoch: epoch,
      tfgrpoGroupId: groupId,
      tfgrpoGroup: group,
      ...overrides
    })
  })
)

/** The engine's settings from the environment alone. */
export const OrchestratorConfigLive = OrchestratorConfigWith({})

/**
 * Fixed settings for tests and embedders: roots under `repoRoot`, the same defaults as the Live
 * layers, nothing read from the environment. Provides BaseConfig too, from the same values.
 */
export const OrchestratorConfigTest = (repoRoot: string, overrides: Partial<OrchestratorSettings> = {}) => {
  const settings = OrchestratorConfig.of({
    roots: { repoRoot, runsRoot: `${repoRoot}/.runs`, outRoot: `${repoRoot}/out` },
    envTaskId: undefined,
    heartbeatInterval: runDefaults.heartbeatInterval,
    heartbeatStaleAfter: runDefaults.heartbeatStaleAfter,
    privacyMode: "shadow",
    envTargetStage: undefined,
    subscriberGrace: engineDefaults.subscriberGrace,
    emitCommandStreams: false,
    experienceMaxWords: engineDefaults.experienceMaxWords,
    groupExecution: false,
    tfgrpoEpoch: undefined,
    tfgrpoGroupId: undefined,
    tfgrpoGroup: noGroupNumbers,
    ...overrides
  })
  return Layer.succeedContext(Context.make(OrchestratorConfig, settings).pipe(Context.add(BaseConfig, settings)))
}
