/** ENV-1..3, ENV-6, D-3, PRIV-1: the environment read through Config, driven by a ConfigProvider. */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { OrchestratorConfigLive } from "../src/layers/OrchestratorConfig.js"
import { OrchestratorConfig } from "../src/services/OrchestratorConfig.js"

const settingsWith = (env: Record<string, string>) =>
  OrchestratorConfig.pipe(
    Effect.provide(OrchestratorConfigLive.pipe(Layer.provide(Path.layer))),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
  )

describe("OrchestratorConfigLive", () => {
  it.effect("defaults: the working directory is the repo, .runs and out below it, shadow privacy", () =>
    Effect.gen(function*() {
      const path = yield* Path.Path
      const settings = yield* settingsWith({})
      const cwd = path.resolve(".")
      assert.deepStrictEqual(settings.roots, { repoRoot: cwd, runsRoot: `${cwd}/.runs`, outRoot: `${cwd}/out` })
      assert.strictEqual(settings.envTaskId, undefined)
      assert.strictEqual(settings.privacyMode, "shadow")
    }).pipe(Effect.provide(Path.layer)))

  it.effect("ENV-1/ENV-2: overrides; relative ones resolve against the working directory, not the repo root", () =>
    Effect.gen(function*() {
      const path = yield* Path.Path
      const settings = yield* settingsWith({
        CODEX_ORCHESTRATOR_ROOT: "/srv/repo",
        CODEX_ORCHESTRATOR_RUNS_DIR: "runs-here",
        CODEX_ORCHESTRATOR_OUT_DIR: "/abs/out"
      })
      assert.strictEqual(settings.roots.repoRoot, "/srv/repo")
      assert.strictEqual(settings.roots.runsRoot, path.resolve("runs-here"))
      assert.strictEqual(settings.roots.outRoot, "/abs/out")
    }).pipe(Effect.provide(Path.layer)))

  it.effect("D-3: an empty MCP_RUNNER_TASK_ID counts as unset; a value is kept as given for validation later", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* settingsWith({ MCP_RUNNER_TASK_ID: "" })).envTaskId, undefined)
      assert.strictEqual((yield* settingsWith({ MCP_RUNNER_TASK_ID: "../x" })).envTaskId, "../x")
      assert.strictEqual((yield* settingsWith({ CODEX_ORCHESTRATOR_TARGET_STAGE: "test" })).envTargetStage, "test")
    }))

  it.effect("PRIV-1: MODE wins over ENFORCE, even empty; enforce values", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* settingsWith({ CODEX_PRIVACY_GUARD_MODE: "enforce" })).privacyMode, "enforce")
      assert.strictEqual((yield* settingsWith({ CODEX_PRIVACY_GUARD_ENFORCE: "yes" })).privacyMode, "enforce")
      assert.strictEqual(
        (yield* settingsWith({ CODEX_PRIVACY_GUARD_MODE: "", CODEX_PRIVACY_GUARD_ENFORCE: "1" })).privacyMode,
        "shadow"
      )
      assert.strictEqual((yield* settingsWith({ CODEX_PRIVACY_GUARD_MODE: "off" })).privacyMode, "shadow")
    }))
})
