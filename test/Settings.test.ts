/**
 * The settings module (src/domain/Settings.ts), one section at a time, and the layers that decode
 * them: ENV-1..3, ENV-6, D-3, PRIV-1, CLI-10, INS-5, TFG-1, CP-1, CP-3, CP-7, GRP-1, LRN-1, SYNC-1,
 * SYNC-2. The environment is a ConfigProvider over a map (pathDelim "_", STYLE §4.7).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { type Config, ConfigProvider, Duration, Effect, Layer, Option, Redacted } from "effect"
import {
  cloudSyncSection,
  controlPlaneSection,
  credentialsSection,
  decodeSettings,
  engineSection,
  learningSection,
  pathsSection,
  processSection,
  runsSection,
  tfgrpoSection
} from "../src/domain/Settings.js"
import { BaseConfigLive } from "../src/layers/BaseConfig.js"
import { OrchestratorConfigLive, OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { BaseConfig } from "../src/services/BaseConfig.js"
import { OrchestratorConfig } from "../src/services/OrchestratorConfig.js"

/** What BaseConfigLive reads roots with: paths, and the file system for roots named through a link. */
const platform = Layer.merge(Path.layer, NodeFileSystem.layer)

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" }))

const decode = <A>(section: Config.Config<A>, env: Record<string, string>) => decodeSettings(section).pipe(withEnv(env))

/** The InvalidSetting a section fails with in `env`. */
const failure = <A>(section: Config.Config<A>, env: Record<string, string>) => Effect.flip(decode(section, env))

describe("paths (ENV-1..3, D-3) through BaseConfigLive", () => {
  const base = (env: Record<string, string>) =>
    BaseConfig.pipe(Effect.provide(BaseConfigLive.pipe(Layer.provide(platform))), withEnv(env))

  it.effect("defaults: the working directory is the repository, .runs and out below it", () =>
    Effect.gen(function*() {
      const path = yield* Path.Path
      const cwd = path.resolve(".")
      const settings = yield* base({})
      assert.deepStrictEqual(settings.roots, { repoRoot: cwd, runsRoot: `${cwd}/.runs`, outRoot: `${cwd}/out` })
      assert.strictEqual(settings.envTaskId, undefined)
    }).pipe(Effect.provide(Path.layer)))

  it.effect("overrides; relative ones resolve against the working directory, not the repository root", () =>
    Effect.gen(function*() {
      const path = yield* Path.Path
      const settings = yield* base({
        CODEX_ORCHESTRATOR_ROOT: "/srv/repo",
        CODEX_ORCHESTRATOR_RUNS_DIR: "runs-here",
        CODEX_ORCHESTRATOR_OUT_DIR: "/abs/out"
      })
      assert.deepStrictEqual(settings.roots, { repoRoot: "/srv/repo", runsRoot: path.resolve("runs-here"), outRoot: "/abs/out" })
      // Empty overrides count as unset.
      const empty = yield* base({ CODEX_ORCHESTRATOR_ROOT: "/srv/repo", CODEX_ORCHESTRATOR_RUNS_DIR: "" })
      assert.strictEqual(empty.roots.runsRoot, "/srv/repo/.runs")
    }).pipe(Effect.provide(Path.layer)))

  it.effect("an empty MCP_RUNNER_TASK_ID is unset; a value is kept as given, validated where it is used", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* decode(pathsSection, { MCP_RUNNER_TASK_ID: "" })).taskId, undefined)
      assert.strictEqual((yield* decode(pathsSection, { MCP_RUNNER_TASK_ID: "../x" })).taskId, "../x")
    }))
})

describe("runs (RUN-8, PRIV-1)", () => {
  it.effect("heartbeat timings are fixed: 5 s and 30 s", () =>
    Effect.gen(function*() {
      const runs = yield* decode(runsSection, {})
      assert.deepStrictEqual([Duration.toSeconds(runs.heartbeatInterval), Duration.toSeconds(runs.heartbeatStaleAfter)], [5, 30])
      assert.strictEqual(runs.privacyMode, "shadow")
    }))

  it.effect("privacy: MODE wins over ENFORCE, even empty; enforce values", () =>
    Effect.gen(function*() {
      const mode = (env: Record<string, string>) => Effect.map(decode(runsSection, env), (runs) => runs.privacyMode)
      assert.strictEqual(yield* mode({ CODEX_PRIVACY_GUARD_MODE: "enforce" }), "enforce")
      assert.strictEqual(yield* mode({ CODEX_PRIVACY_GUARD_ENFORCE: "yes" }), "enforce")
      assert.strictEqual(yield* mode({ CODEX_PRIVACY_GUARD_MODE: "", CODEX_PRIVACY_GUARD_ENFORCE: "1" }), "shadow")
      assert.strictEqual(yield* mode({ CODEX_PRIVACY_GUARD_MODE: "off" }), "shadow")
    }))

  // A typo left secrets in every file a run wrote while the user believed them redacted. `runs` is
  // read by every command (status included) and cannot fail: the engine's section refuses it.
  it.effect("privacy: a value neither on nor off (a typo: enforced) is bad input for the commands that run pipelines, naming the variable", () =>
    Effect.gen(function*() {
      const cases = [
        ["CODEX_PRIVACY_GUARD_MODE", { CODEX_PRIVACY_GUARD_MODE: "enforced" }, "enforced"],
        ["CODEX_PRIVACY_GUARD_MODE", { CODEX_PRIVACY_GUARD_MODE: "redact", CODEX_PRIVACY_GUARD_ENFORCE: "1" }, "redact"],
        ["CODEX_PRIVACY_GUARD_ENFORCE", { CODEX_PRIVACY_GUARD_ENFORCE: "strict" }, "strict"]
      ] as const
      for (const [variable, env, value] of cases) {
        const error = yield* failure(engineSection, env)
        assert.strictEqual(error.variable, variable)
        assert.strictEqual(
          error.message,
          `${variable}=${JSON.stringify(value)} is not enforce or shadow (or 1/0, true/false, yes/no, on/off). ` +
            `Set ${variable} to enforce or shadow (or 1/0, true/false, yes/no, on/off) or unset it (default shadow).`
        )
        assert.strictEqual((yield* decode(runsSection, env)).privacyMode, "shadow", "status still reads its runs")
      }
      for (const value of ["enforce", " ON ", "shadow", "", "no", "0"]) {
        yield* decode(engineSection, { CODEX_PRIVACY_GUARD_MODE: value })
      }
    }))
})

describe("engine (CLI-10, INS-5)", () => {
  it.effect("defaults: no target stage, a 120 s subscriber grace, 32 words", () =>
    Effect.gen(function*() {
      const engine = yield* decode(engineSection, {})
      assert.deepStrictEqual(
        [engine.targetStage, Duration.toSeconds(engine.subscriberGrace), engine.experienceMaxWords],
        [undefined, 120, 32]
      )
      assert.strictEqual((yield* decode(engineSection, { CODEX_ORCHESTRATOR_TARGET_STAGE: "test" })).targetStage, "test")
    }))

  it.effect("CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS: a number ≥ 0 of seconds; anything else names the variable", () =>
    Effect.gen(function*() {
      for (const [value, ms] of [["", 120_000], ["0", 0], ["2.5", 2_500], [" 30 ", 30_000]] as const) {
        const engine = yield* decode(engineSection, { CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS: value })
        assert.strictEqual(Duration.toMillis(engine.subscriberGrace), ms)
      }
      for (const value of ["-1", "soon", "5s"]) {
        const error = yield* failure(engineSection, { CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS: value })
        assert.strictEqual(error.variable, "CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS")
        assert.include(error.message, JSON.stringify(value))
      }
    }))

  it.effect("CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS (EXE-7): a number ≥ 0 of seconds, default 2; anything else names the variable", () =>
    Effect.gen(function*() {
      for (const [value, ms] of [["", 2_000], ["0", 0], ["0.25", 250], [" 60 ", 60_000]] as const) {
        const settings = yield* decode(processSection, { CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS: value })
        assert.strictEqual(Duration.toMillis(settings.outputGrace), ms)
      }
      for (const value of ["-1", "soon", "2s"]) {
        const error = yield* failure(processSection, { CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS: value })
        assert.strictEqual(error.variable, "CODEX_ORCHESTRATOR_OUTPUT_GRACE_SECONDS")
        assert.include(error.message, `${JSON.stringify(value)} is not a number ≥ 0.`)
      }
    }))

  it.effect("TFGRPO_EXPERIENCE_MAX_WORDS: a whole number from 1 to 32; blank means 32", () =>
    Effect.gen(function*() {
      for (const [value, words] of [["", 32], ["  ", 32], ["1", 1], ["32", 32], [" 16 ", 16]] as const) {
        assert.strictEqual((yield* decode(engineSection, { TFGRPO_EXPERIENCE_MAX_WORDS: value })).experienceMaxWords, words)
      }
      for (const value of ["0", "-3", "abc", "1.5", "12words", "33"]) {
        const error = yield* failure(engineSection, { TFGRPO_EXPERIENCE_MAX_WORDS: value })
        assert.strictEqual(error._tag, "InvalidSetting")
        assert.strictEqual(error.variable, "TFGRPO_EXPERIENCE_MAX_WORDS")
        assert.strictEqual(
          error.message,
          `TFGRPO_EXPERIENCE_MAX_WORDS=${JSON.stringify(value)} is not a whole number from 1 to 32. ` +
            "Set TFGRPO_EXPERIENCE_MAX_WORDS to a whole number from 1 to 32 or unset it (default 32)."
        )
      }
    }))
})

describe("tfgrpo (TFG-1, CP-3, CP-7, GRP-1)", () => {
  it.effect("parses the variables; blank is unset", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* decode(tfgrpoSection, {}), {
        groupFeature: false,
        groupSize: undefined,
        groupId: undefined,
        epoch: undefined,
        sampleSize: undefined,
        epochs: undefined,
        trainTemperature: undefined,
        evalTemperature: undefined
      })
      assert.deepStrictEqual(
        yield* decode(tfgrpoSection, {
          FEATURE_TFGRPO_GROUP: " Yes ",
          TFGRPO_GROUP_SIZE: "3",
          TFGRPO_GROUP_ID: " g1 ",
          TFGRPO_EPOCH: "2",
          TFGRPO_SAMPLE_SIZE: "50",
          TFGRPO_EPOCHS: " ",
          TFGRPO_TRAIN_TEMP: "0.9",
          TFGRPO_EVAL_TEMP: "0"
        }),
        {
          groupFeature: true,
          groupSize: 3,
          groupId: "g1",
          epoch: 2,
          sampleSize: 50,
          epochs: undefined,
          trainTemperature: 0.9,
          evalTemperature: 0
        }
      )
      assert.isFalse((yield* decode(tfgrpoSection, { FEATURE_TFGRPO_GROUP: "off" })).groupFeature)
    }))

  it.effect("a bad value is one InvalidSetting naming the variable, the value and what is expected", () =>
    Effect.gen(function*() {
      for (const value of ["abc", "0", "-2", "2.5", "1e3"]) {
        assert.strictEqual((yield* failure(tfgrpoSection, { TFGRPO_GROUP_SIZE: value })).variable, "TFGRPO_GROUP_SIZE", value)
      }
      assert.strictEqual(
        (yield* failure(tfgrpoSection, { TFGRPO_GROUP_SIZE: "abc" })).message,
        `TFGRPO_GROUP_SIZE="abc" is not a positive integer. Set TFGRPO_GROUP_SIZE to a positive integer or unset it.`
      )
      assert.strictEqual(
        (yield* failure(tfgrpoSection, { TFGRPO_TRAIN_TEMP: "hot" })).message,
        `TFGRPO_TRAIN_TEMP="hot" is not a number ≥ 0. Set TFGRPO_TRAIN_TEMP to a number ≥ 0 or unset it (default 0.7).`
      )
      // Digits enough to overflow a double are not a temperature (Number gives Infinity, JSON writes null).
      const overflow = `1${"0".repeat(400)}`
      assert.strictEqual((yield* failure(tfgrpoSection, { TFGRPO_EVAL_TEMP: overflow })).variable, "TFGRPO_EVAL_TEMP")
      assert.strictEqual(
        (yield* failure(tfgrpoSection, { TFGRPO_EPOCH: "first" })).message,
        `TFGRPO_EPOCH="first" is not a positive integer. Set TFGRPO_EPOCH to a positive integer or unset it.`
      )
      // Two bad values: still one error, about one of them.
      const both = yield* failure(tfgrpoSection, { TFGRPO_EPOCH: "x", TFGRPO_EPOCHS: "y" })
      assert.include(["TFGRPO_EPOCH", "TFGRPO_EPOCHS"], both.variable)
      assert.isTrue(both.message.startsWith(`${both.variable}=`), both.message)
    }))
})

describe("controlPlane (CP-1) and learning (LRN-1)", () => {
  it.effect("the control-plane mode is PRIV-1's parsing of its own variables", () =>
    Effect.gen(function*() {
      const mode = (env: Record<string, string>) => Effect.map(decode(controlPlaneSection, env), (section) => section.mode)
      assert.strictEqual(yield* mode({}), "shadow")
      assert.strictEqual(yield* mode({ CODEX_CONTROL_PLANE_ENFORCE: "on" }), "enforce")
      assert.strictEqual(yield* mode({ CODEX_CONTROL_PLANE_MODE: "", CODEX_CONTROL_PLANE_ENFORCE: "1" }), "shadow")
      assert.strictEqual(yield* mode({ CODEX_PRIVACY_GUARD_MODE: "enforce" }), "shadow", "the privacy guard's variables are not read")
    }))

  it.effect("a control-plane mode that is neither on nor off (a typo of enforce) is bad input naming the variable and the fix", () =>
    Effect.gen(function*() {
      const mode = (env: Record<string, string>) => Effect.map(decode(controlPlaneSection, env), (section) => section.mode)
      assert.strictEqual(yield* mode({ CODEX_CONTROL_PLANE_MODE: " Shadow " }), "shadow")
      assert.strictEqual(yield* mode({ CODEX_CONTROL_PLANE_MODE: "off" }), "shadow")
      assert.strictEqual(yield* mode({ CODEX_CONTROL_PLANE_ENFORCE: "0" }), "shadow")
      const typo = yield* failure(controlPlaneSection, { CODEX_CONTROL_PLANE_MODE: "enforced" })
      assert.strictEqual(typo.variable, "CODEX_CONTROL_PLANE_MODE")
      assert.strictEqual(
        typo.message,
        "CODEX_CONTROL_PLANE_MODE=\"enforced\" is not enforce or shadow (or 1/0, true/false, yes/no, on/off). " +
          "Set CODEX_CONTROL_PLANE_MODE to enforce or shadow (or 1/0, true/false, yes/no, on/off) or unset it (default shadow)."
      )
      const enforce = yield* failure(controlPlaneSection, { CODEX_CONTROL_PLANE_ENFORCE: "maybe" })
      assert.strictEqual(enforce.variable, "CODEX_CONTROL_PLANE_ENFORCE")
    }))

  it.effect("learning is on only for exactly 1; an empty snapshot folder is unset", () =>
    Effect.gen(function*() {
      const enabled = (value: string) => Effect.map(decode(learningSection, { LEARNING_PIPELINE_ENABLED: value }), (l) => l.enabled)
      assert.isTrue(yield* enabled("1"))
      for (const value of ["true", "yes", " 1", "0", ""]) assert.isFalse(yield* enabled(value), value)
      assert.deepStrictEqual(yield* decode(learningSection, { LEARNING_SNAPSHOT_DIR: "" }), { enabled: false, snapshotDir: undefined })
      assert.strictEqual((yield* decode(learningSection, { LEARNING_SNAPSHOT_DIR: "snaps" })).snapshotDir, "snaps")
    }))
})

describe("cloudSync and credentials (SYNC-1, SYNC-2)", () => {
  it.effect("off unless CODEX_CLOUD_SYNC is on; then only the settings it uses are checked", () =>
    Effect.gen(function*() {
      assert.isTrue(Option.isNone(yield* decode(cloudSyncSection, { CODEX_CLOUD_BASE_URL: "ftp://x" })))
      assert.deepStrictEqual(
        yield* decode(cloudSyncSection, { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: " ws ", CLOUD_SYNC_BUCKET: " " }),
        Option.some({ baseUrl: "https://api.codex.cloud", workspaceId: "ws", attemptTimeoutSeconds: 10 })
      )
      const badUrl = yield* failure(cloudSyncSection, {
        CODEX_CLOUD_SYNC: "1",
        CODEX_CLOUD_WORKSPACE_ID: "ws",
        CODEX_CLOUD_BASE_URL: "ftp://x"
      })
      assert.strictEqual(badUrl.variable, "CODEX_CLOUD_BASE_URL")
      assert.strictEqual(
        badUrl.message,
        `CODEX_CLOUD_BASE_URL="ftp://x" is not an http(s) URL (cloud sync is on, CODEX_CLOUD_SYNC). ` +
          "Set CODEX_CLOUD_BASE_URL to an http(s) URL or unset it (default https://api.codex.cloud)."
      )
      assert.strictEqual((yield* failure(cloudSyncSection, { CODEX_CLOUD_SYNC: "yes" })).variable, "CODEX_CLOUD_WORKSPACE_ID")
    }))

  it.effect("with sync on, a CODEX_CLOUD_BASE_URL with a query or a fragment is bad input that does not echo it", () =>
    Effect.gen(function*() {
      const on = { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: "ws" }
      for (const url of ["https://cloud.test/api?key=s3cretvalue", "https://cloud.test/api#s3cretvalue", "https://cloud.test/?"]) {
        const bad = yield* failure(cloudSyncSection, { ...on, CODEX_CLOUD_BASE_URL: url })
        assert.strictEqual(bad.variable, "CODEX_CLOUD_BASE_URL", url)
        assert.include(bad.message, "query or a fragment")
        assert.notInclude(bad.message, "s3cretvalue")
      }
      assert.isTrue(Option.isSome(yield* decode(cloudSyncSection, { ...on, CODEX_CLOUD_BASE_URL: "https://cloud.test/api/" })))
    }))

  it.effect("with sync on, a CODEX_CLOUD_TOKEN shorter than 6 characters is bad input naming it, never its value", () =>
    Effect.gen(function*() {
      const on = { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: "ws" }
      for (const token of ["x", " abcde "]) {
        const short = yield* failure(cloudSyncSection, { ...on, CODEX_CLOUD_TOKEN: token })
        assert.strictEqual(short.variable, "CODEX_CLOUD_TOKEN")
        assert.include(short.message, `is ${token.trim().length} character`)
        assert.include(short.message, "at least 6")
        assert.notInclude(short.message, `"${token.trim()}"`)
      }
      // Six characters, a helper that gives the token instead, or sync off: accepted.
      assert.isTrue(Option.isSome(yield* decode(cloudSyncSection, { ...on, CODEX_CLOUD_TOKEN: "abcdef" })))
      assert.isTrue(Option.isSome(yield* decode(cloudSyncSection, { ...on, CODEX_CLOUD_TOKEN: "x", CODEX_CLOUD_CREDENTIAL_HELPER: "pass x" })))
      assert.isTrue(Option.isNone(yield* decode(cloudSyncSection, { CODEX_CLOUD_TOKEN: "x" })))
    }))

  it.effect("credentials: the helper wins; a blank token is no token; the token stays redacted", () =>
    Effect.gen(function*() {
      const none = yield* decode(credentialsSection, { CODEX_CLOUD_TOKEN: "  ", CODEX_CLOUD_CREDENTIAL_HELPER: " " })
      assert.isTrue(Option.isNone(none.token) && Option.isNone(none.helper))
      const given = yield* decode(credentialsSection, { CODEX_CLOUD_TOKEN: "t0ken", CODEX_CLOUD_CREDENTIAL_HELPER: " pass show x " })
      assert.deepStrictEqual(given.helper, Option.some("pass show x"))
      assert.strictEqual(Option.map(given.token, Redacted.value).pipe(Option.getOrUndefined), "t0ken")
      assert.notInclude(String(given.token), "t0ken")
    }))
})

describe("OrchestratorConfigLive and OrchestratorConfigTest", () => {
  const engine = (env: Record<string, string>) =>
    OrchestratorConfig.pipe(
      Effect.provide(OrchestratorConfigLive.pipe(Layer.provideMerge(BaseConfigLive), Layer.provide(platform))),
      withEnv(env)
    )

  it.effect("the engine's settings are the base ones plus its own sections, decoded once", () =>
    Effect.gen(function*() {
      const settings = yield* engine({
        FEATURE_TFGRPO_GROUP: "1",
        TFGRPO_EPOCH: "4",
        TFGRPO_GROUP_SIZE: "2",
        TFGRPO_GROUP_ID: "g",
        CODEX_PRIVACY_GUARD_ENFORCE: "1"
      })
      assert.deepStrictEqual(
        [settings.groupExecution, settings.tfgrpoEpoch, settings.tfgrpoGroupId, settings.tfgrpoGroup.groupSize, settings.privacyMode],
        [true, 4, "g", 2, "enforce"]
      )
    }))

  it.effect("a bad engine setting fails the engine's settings, never the base ones (what status reads)", () =>
    Effect.gen(function*() {
      const env = { TFGRPO_EPOCH: "soon", CODEX_CLOUD_SYNC: "1" }
      const error = yield* Effect.flip(engine(env))
      assert.strictEqual(error.variable, "TFGRPO_EPOCH")
      const base = yield* BaseConfig.pipe(Effect.provide(BaseConfigLive.pipe(Layer.provide(platform))), withEnv(env))
      assert.strictEqual(base.privacyMode, "shadow")
    }))

  it.effect("the Test layer uses the same defaults as the Live layers, and takes a typed partial", () =>
    Effect.gen(function*() {
      const path = yield* Path.Path
      const live = yield* engine({})
      const test = yield* OrchestratorConfig.pipe(Effect.provide(OrchestratorConfigTest(path.resolve("."))))
      assert.deepStrictEqual(test, live)
      const custom = yield* Effect.all([OrchestratorConfig, BaseConfig]).pipe(
        Effect.provide(OrchestratorConfigTest("/repo", { experienceMaxWords: 8, privacyMode: "enforce" }))
      )
      assert.deepStrictEqual([custom[0].experienceMaxWords, custom[0].privacyMode, custom[1].privacyMode], [8, "enforce", "enforce"])
    }).pipe(Effect.provide(Path.layer)))
})
