/**
 * Every environment variable the orchestrator reads, as `Config` descriptors with their defaults,
 * grouped by section. A section is decoded by the one layer that needs it (see each section's doc),
 * so a bad value fails only the commands that use it: `status` reads `paths` and `runs` alone and
 * never fails on an engine, control-plane, learning or cloud-sync setting.
 *
 * Descriptors are data, like schemas: nothing is read until a layer decodes a section with
 * `decodeSettings`, which turns any `ConfigError` into one `InvalidSetting` naming the variable, the
 * value and what was expected (bad input, exit 2). Tests decode sections with
 * `ConfigProvider.fromMap(map, { pathDelim: "_" })` (STYLE §4.7), never with `process.env`.
 *
 * The error, the decoder and the kinds of variables live in SettingsKinds.ts; this module re-exports
 * the first two so that a layer imports its section and `decodeSettings` from one place.
 */
import { Config, ConfigError, Duration, Either, Option } from "effect"
import { colourSettingsOf } from "./Colour.js"
import { isLearningEnabled } from "./LearningRecords.js"
import { notHttpUrl, notifyVariable, shownTarget, splitTargets, targetProblem, urlProblem } from "./Notify.js"
import { oneLine } from "./OneLine.js"
import { otelEndpointVariable } from "./Telemetry.js"
import { privacyModeOf } from "./Privacy.js"
import { experienceWordLimit } from "./PromptPacks.js"
import {
  flag,
  type Format,
  given,
  invalidValue,
  nonNegativeNumber,
  parsed,
  parsedOr,
  positiveInteger,
  text,
  trimmedText,
  wholeNumberBetween
} from "./SettingsKinds.js"
import { defaultCacheMaxBytes, parseByteSize } from "./StageCache.js"
import { tfgrpoDefaults } from "./TfgrpoGroup.js"

export { decodeSettings, InvalidSetting, invalidSettingOf, nonNegativeNumber, positiveInteger } from "./SettingsKinds.js"
// The review gate's and the Codex CLI's sections live in a module of their own (this one's size); import them from here.
export { codexSection, gateSection, type GateSection } from "./SettingsGate.js"
export { processSection, type ProcessSection } from "./SettingsProcess.js"
export {
  cloudSyncSection,
  credentialsSection,
  headerSafeToken,
  helperVariable,
  shortTokenReason,
  tokenVariable,
  unprintableTokenReason
} from "./SettingsCloud.js"
export {
  clusterDatabaseGiven,
  clusterDatabaseVariable,
  clusterLockExpiryVariable,
  clusterRunnerSection,
  clusterSection,
  type ClusterSection,
  clusterStopGraceVariable,
  parseClusterDatabaseUrl
} from "./SettingsCluster.js"

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

/**
 * `paths`: where the repository, runs and outputs are, and the task (ENV-1..3). Decoded by
 * BaseConfigLive, which every command builds. Roots are resolved against the working directory
 * there; the task id is validated (ID-1) where it is used, so only commands that need it fail on it.
 */
export const pathsSection = Config.all({
  root: text("CODEX_ORCHESTRATOR_ROOT"),
  runsDir: text("CODEX_ORCHESTRATOR_RUNS_DIR"),
  outDir: text("CODEX_ORCHESTRATOR_OUT_DIR"),
  taskId: Config.map(text("MCP_RUNNER_TASK_ID"), Option.getOrUndefined)
})
export type PathsSection = Config.Config.Success<typeof pathsSection>

/** Fixed timings of a run. Not read from the environment: the manifest records them (RUN-8). */
export const runDefaults = {
  /** RUN-8: the heartbeat's interval, recorded as `heartbeat_interval_seconds`. */
  heartbeatInterval: Duration.seconds(5),
  /** RUN-8 / D-9: a run whose heartbeat is older than this is stale. */
  heartbeatStaleAfter: Duration.seconds(30)
} as const

/**
 * `runs`: what every writer of run files needs: the heartbeat timings and the privacy mode (PRIV-1:
 * `CODEX_PRIVACY_GUARD_MODE` when set, even empty, else `CODEX_PRIVACY_GUARD_ENFORCE`). Decoded by
 * BaseConfigLive; it cannot fail.
 */
export const runsSection = Config.all({
  heartbeatInterval: Config.succeed(runDefaults.heartbeatInterval),
  heartbeatStaleAfter: Config.succeed(runDefaults.heartbeatStaleAfter),
  privacyMode: Config.map(
    Config.all([given("CODEX_PRIVACY_GUARD_MODE"), given("CODEX_PRIVACY_GUARD_ENFORCE")]),
    ([mode, enforce]) => privacyModeOf(Option.getOrUndefined(mode), Option.getOrUndefined(enforce))
  )
})
export type RunsSection = Config.Config.Success<typeof runsSection>

const switchModes = "enforce or shadow (or 1/0, true/false, yes/no, on/off)"
const offValues = ["", "shadow", "0", "false", "no", "off"]

/**
 * A shadow/enforce switch read as PRIV-1: `modeVariable` when set (even empty), else
 * `enforceVariable`; a value that is neither on nor off (`enforced`) is bad input naming the
 * variable, not a silent shadow.
 */
const switchMode = (modeVariable: string, enforceVariable: string) =>
  Config.mapOrFail(
    Config.all([given(modeVariable), given(enforceVariable)]),
    ([mode, enforce]) => {
      const [name, value] = Option.isSome(mode) ? [modeVariable, mode.value] : [enforceVariable, Option.getOrUndefined(enforce)]
      const parsedMode = privacyModeOf(value, undefined)
      return parsedMode === "enforce" || value === undefined || offValues.includes(value.trim().toLowerCase())
        ? Either.right(parsedMode)
        : Either.left(invalidValue(name, value, switchModes, "shadow"))
    }
  )

export const engineDefaults = {
  /**
   * How long a finished `start`/`resume` waits for event subscribers (task-state snapshot, cloud
   * upload) before it returns anyway with a warning: 120 s covers an upload's three attempts (10 s each by
   * default, CODEX_CLOUD_SYNC_TIMEOUT_SECONDS) and a credential helper's 30 s.
   */
  subscriberGrace: Duration.seconds(120),
  experienceMaxWords: experienceWordLimit
} as const

/**
 * `engine`: the settings of commands that plan or run pipelines. Decoded by OrchestratorConfigLive,
 * so a bad value stops those commands (exit 2) and nothing else.
 */
export const engineSection = Config.all({
  /** CLI-10: the target when `--target` is not given. */
  targetStage: Config.map(text("CODEX_ORCHESTRATOR_TARGET_STAGE"), Option.getOrUndefined),
  /**
   * How long a finished `start`/`resume` waits for `on` handlers (EventBus) before it returns with a
   * warning: `CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS`, a number ≥ 0 (default 120; 0 waits for none).
   */
  subscriberGrace: Config.map(
    parsedOr("CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS", nonNegativeNumber, Duration.toSeconds(engineDefaults.subscriberGrace)),
    (seconds) => Duration.millis(Math.round(seconds * 1000))
  ),
  /**
   * PRIV-1's variables, checked: `runs` reads the mode for every command (status included) and cannot
   * fail, so a typo (`enforced`) is refused here, by the commands that run pipelines, rather than run
   * them unredacted. The mode itself is the base settings' (`runs`): the same value.
   */
  privacyModeChecked: switchMode("CODEX_PRIVACY_GUARD_MODE", "CODEX_PRIVACY_GUARD_ENFORCE"),
  /** LOG-1: a `command:stdout|stderr` line after each output chunk in the stage log. */
  emitCommandStreams: flag("CODEX_ORCHESTRATOR_EMIT_COMMAND_STREAMS"),
  /** INS-5: the word limit of experience summaries. */
  experienceMaxWords: parsedOr(
    "TFGRPO_EXPERIENCE_MAX_WORDS",
    wholeNumberBetween(1, experienceWordLimit),
    engineDefaults.experienceMaxWords
  )
})
export type EngineSection = Config.Config.Success<typeof engineSection>

/**
 * `tfgrpo`: TF-GRPO group mode and run context (GRP-1, TFG-1, CP-3, CP-7). Decoded once by
 * OrchestratorConfigLive; the TaskManager, the run context and the control plane all read the
 * result. A number is undefined when its variable is unset or blank.
 */
export const tfgrpoSection = Config.all({
  /** GRP-1 / CP-3: group mode, with a group size of 2 unless one is given. */
  groupFeature: flag("FEATURE_TFGRPO_GROUP"),
  groupSize: Config.map(parsed("TFGRPO_GROUP_SIZE", positiveInteger), Option.getOrUndefined),
  groupId: Config.map(trimmedText("TFGRPO_GROUP_ID"), Option.getOrUndefined),
  epoch: Config.map(parsed("TFGRPO_EPOCH", positiveInteger), Option.getOrUndefined),
  sampleSize: Config.map(parsed("TFGRPO_SAMPLE_SIZE", positiveInteger, String(tfgrpoDefaults.sampleSize)), Option.getOrUndefined),
  epochs: Config.map(parsed("TFGRPO_EPOCHS", positiveInteger, String(tfgrpoDefaults.epochs)), Option.getOrUndefined),
  trainTemperature: Config.map(
    parsed("TFGRPO_TRAIN_TEMP", nonNegativeNumber, String(tfgrpoDefaults.train)),
    Option.getOrUndefined
  ),
  evalTemperature: Config.map(parsed("TFGRPO_EVAL_TEMP", nonNegativeNumber, String(tfgrpoDefaults.eval)), Option.getOrUndefined)
})
export type TfgrpoSection = Config.Config.Success<typeof tfgrpoSection>

/**
 * `controlPlane`: CP-1's mode, `CODEX_CONTROL_PLANE_MODE` when set (even empty), else
 * `CODEX_CONTROL_PLANE_ENFORCE`, parsed as PRIV-1 (a typo is bad input). Decoded by ControlPlaneLive.
 */
export const controlPlaneSection = Config.all({
  mode: switchMode("CODEX_CONTROL_PLANE_MODE", "CODEX_CONTROL_PLANE_ENFORCE")
})

/**
 * `learning`: LRN-1's switch (`LEARNING_PIPELINE_ENABLED`, exactly `1`, unlike the other booleans)
 * and LRN-2's snapshot folder (relative values resolve against the working directory). Decoded by
 * LearningLive.
 */
export const learningSection = Config.all({
  enabled: Config.map(given("LEARNING_PIPELINE_ENABLED"), (value) => isLearningEnabled(Option.getOrUndefined(value))),
  snapshotDir: Config.map(text("LEARNING_SNAPSHOT_DIR"), Option.getOrUndefined)
})

/**
 * `notify` (EXEC-4): CODEX_ORCHESTRATOR_NOTIFY, a comma list of http(s) URLs the run summary is POSTed
 * to when `--notify` names none. Decoded by the commands that run pipelines; a value that is not such
 * a list stops them (exit 2) before anything runs.
 */
export const notifySection = Config.mapOrFail(trimmedText(notifyVariable), (value) => {
  const targets = Option.match(value, { onNone: () => [], onSome: (list) => splitTargets([list]) })
  const bad = targets.find((target) => targetProblem(target) !== undefined)
  if (bad === undefined) return Either.right({ targets })
  // A URL refused for its user or password, or a control character: that is the reason to give, not the list's shape.
  const problem = targetProblem(bad)
  return Either.left(
    problem !== notHttpUrl
      ? ConfigError.InvalidData([notifyVariable], `${notifyVariable}: the target "${shownTarget(bad)}" ${problem}.`)
      : invalidValue(notifyVariable, bad, "a comma list of http(s) URLs", undefined, " (a notification target)")
  )
})

/**
 * `tracing` (issue 22): OTEL_EXPORTER_OTLP_ENDPOINT, the base http(s) URL of an OTLP/HTTP collector
 * the runs' traces are exported to when `--otel-endpoint` names none. Decoded by the commands that run
 * pipelines; a value that is not such a URL stops them (exit 2) before anything runs.
 */
export const tracingSection = Config.mapOrFail(trimmedText(otelEndpointVariable), (value) =>
  Option.match(value, {
    onNone: () => Either.right({ endpoint: Option.none<string>() }),
    onSome: (url) => {
      const problem = urlProblem(url)
      if (problem === undefined) return Either.right({ endpoint: Option.some(url) })
      return Either.left(
        problem === notHttpUrl
          ? invalidValue(otelEndpointVariable, url, "an http(s) URL", undefined, " (an OTLP/HTTP collector)")
          : ConfigError.InvalidData([otelEndpointVariable], `${otelEndpointVariable}: "${oneLine(url)}" ${problem}.`)
      )
    }
  }))

/**
 * `terminal`: colour in help, usage errors and progress lines (issue 16 item 23): `NO_COLOR` (set and
 * not empty: off) and `FORCE_COLOR` (anything but 0/false: on, even for a pipe). Decoded by the CLI's
 * edge for every command; it cannot fail.
 */
export const terminalSection = Config.map(
  Config.all([given("NO_COLOR"), given("FORCE_COLOR")]),
  ([noColor, forceColor]) => colourSettingsOf(Option.getOrUndefined(noColor), Option.getOrUndefined(forceColor))
)

/**
 * `design` (DES-2, DES-3, CFG-10): the activation variables as given (empty is unset), the design
 * config's path, and the run a design step belongs to, from the environment the engine gives stage
 * commands (ENV-5). Decoded by the design toolkit's layer and by the pipeline catalog; it cannot fail.
 */
export const designSection = Config.all({
  toolkit: Config.map(text("DESIGN_TOOLKIT"), Option.getOrUndefined),
  pipeline: Config.map(text("DESIGN_PIPELINE"), Option.getOrUndefined),
  referencePipeline: Config.map(text("DESIGN_REFERENCE_PIPELINE"), Option.getOrUndefined),
  configPath: Config.map(text("DESIGN_CONFIG_PATH"), Option.getOrUndefined),
  stageTaskId: Config.map(text("CODEX_ORCHESTRATOR_TASK_ID"), Option.getOrUndefined),
  stageRunId: Config.map(text("CODEX_ORCHESTRATOR_RUN_ID"), Option.getOrUndefined),
  stageManifestPath: Config.map(text("CODEX_ORCHESTRATOR_MANIFEST_PATH"), Option.getOrUndefined)
})
export type DesignSection = Config.Config.Success<typeof designSection>


/** `CODEX_ORCHESTRATOR_CACHE`: `off` (or 0, false, no) turns the stage cache off; on, 1, true, yes or unset keep it on. */
const cacheSwitch: Format<boolean> = {
  expected: "on or off",
  parse: (value) => {
    const lower = value.toLowerCase()
    return ["on", "1", "true", "yes"].includes(lower) ? true : ["off", "0", "false", "no"].includes(lower) ? false : undefined
  }
}

const byteSize: Format<number> = {
  expected: "a size in bytes such as 1048576, 512M or 2G",
  parse: parseByteSize
}

/**
 * `cache` (DECISIONS B-5): whether the stage cache is on (`CODEX_ORCHESTRATOR_CACHE`, default on),
 * its folder (`CODEX_ORCHESTRATOR_CACHE_DIR`, default `<runs root>/.cache`; relative values resolve
 * against the working directory) and its size bound (`CODEX_ORCHESTRATOR_CACHE_MAX_SIZE`, default
 * 1G; least recently used entries go first). Decoded by the StageCache layers.
 */
export const cacheSection = Config.all({
  // The default in the words the variable's values use: "(default on)", not "(default true)".
  enabled: Config.map(parsed("CODEX_ORCHESTRATOR_CACHE", cacheSwitch, "on"), Option.getOrElse(() => true)),
  dir: Config.map(text("CODEX_ORCHESTRATOR_CACHE_DIR"), Option.getOrUndefined),
  maxBytes: Config.map(parsed("CODEX_ORCHESTRATOR_CACHE_MAX_SIZE", byteSize, "1G"), Option.getOrElse(() => defaultCacheMaxBytes))
})
export type CacheSection = Config.Config.Success<typeof cacheSection>
