import { Path } from "@effect/platform"
import { Config, Duration, Effect, Layer, Option } from "effect"
import { isTruthy } from "../domain/Env.js"
import { privacyModeOf } from "../domain/Privacy.js"
import { OrchestratorConfig, type OrchestratorSettings } from "../services/OrchestratorConfig.js"

const optionalString = (name: string) =>
  Config.string(name).pipe(
    Config.option,
    // D-3: an empty value counts as unset.
    Config.map(Option.filter((value) => value.length > 0)),
    Config.map(Option.getOrUndefined)
  )

/**
 * Reads the environment (SPEC ENV-1, ENV-2): roots resolve against the process working directory,
 * including relative overrides.
 */
export const OrchestratorConfigLive = Layer.effect(
  OrchestratorConfig,
  Effect.gen(function*() {
    const path = yield* Path.Path
    const env = yield* Config.all({
      root: optionalString("CODEX_ORCHESTRATOR_ROOT"),
      runsDir: optionalString("CODEX_ORCHESTRATOR_RUNS_DIR"),
      outDir: optionalString("CODEX_ORCHESTRATOR_OUT_DIR"),
      taskId: optionalString("MCP_RUNNER_TASK_ID"),
      targetStage: optionalString("CODEX_ORCHESTRATOR_TARGET_STAGE"),
      // PRIV-1: an explicitly empty MODE means shadow, so it is read as given.
      privacyMode: Config.string("CODEX_PRIVACY_GUARD_MODE").pipe(Config.option, Config.map(Option.getOrUndefined)),
      privacyEnforce: Config.string("CODEX_PRIVACY_GUARD_ENFORCE").pipe(Config.option, Config.map(Option.getOrUndefined)),
      experienceMaxWords: optionalString("TFGRPO_EXPERIENCE_MAX_WORDS"),
      groupExecution: optionalString("FEATURE_TFGRPO_GROUP"),
      tfgrpoEpoch: optionalString("TFGRPO_EPOCH"),
      tfgrpoGroupId: optionalString("TFGRPO_GROUP_ID")
    })
    const repoRoot = path.resolve(env.root ?? ".")
    return OrchestratorConfig.of({
      roots: {
        repoRoot,
        runsRoot: env.runsDir === undefined ? path.join(repoRoot, ".runs") : path.resolve(env.runsDir),
        outRoot: env.outDir === undefined ? path.join(repoRoot, "out") : path.resolve(env.outDir)
      },
      envTaskId: env.taskId,
      envTargetStage: env.targetStage,
      heartbeatInterval: Duration.seconds(5),
      heartbeatStaleAfter: Duration.seconds(30),
      subscriberGrace: Duration.seconds(120),
      privacyMode: privacyModeOf(env.privacyMode, env.privacyEnforce),
      experienceMaxWords: env.experienceMaxWords,
      groupExecution: isTruthy(env.groupExecution),
      tfgrpoEpoch: env.tfgrpoEpoch,
      tfgrpoGroupId: env.tfgrpoGroupId
    })
  })
)

/** Fixed settings for tests and embedders: roots under `repoRoot`, nothing read from the environment. */
export const OrchestratorConfigTest = (repoRoot: string, overrides: Partial<OrchestratorSettings> = {}) =>
  Layer.succeed(
    OrchestratorConfig,
    OrchestratorConfig.of({
      roots: { repoRoot, runsRoot: `${repoRoot}/.runs`, outRoot: `${repoRoot}/out` },
      envTaskId: undefined,
      envTargetStage: undefined,
      heartbeatInterval: Duration.seconds(5),
      heartbeatStaleAfter: Duration.seconds(30),
      subscriberGrace: Duration.seconds(120),
      privacyMode: "shadow",
      experienceMaxWords: undefined,
      groupExecution: false,
      tfgrpoEpoch: undefined,
      tfgrpoGroupId: undefined,
      ...overrides
    })
  )
