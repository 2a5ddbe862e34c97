/** The `gate` and `codex` sections of src/domain/Settings.ts (GRD-1..5, D-3, ENV-6), over a map environment. */
import { assert, describe, it } from "@effect/vitest"
import { type Config, ConfigProvider, Effect } from "effect"
import { codexSection, decodeSettings, gateSection } from "../src/domain/Settings.js"

const decode = <A>(section: Config.Config<A>, env: Record<string, string>) =>
  decodeSettings(section).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" })))

describe("Settings: gate", () => {
  it.effect("nothing set: every value undefined, codex is `codex`, devtools off", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* decode(gateSection, {}), {
        baseSha: undefined,
        diffBudgetBase: undefined,
        maxFiles: undefined,
        maxLines: undefined,
        overrideReason: undefined,
        manifest: undefined,
        stageManifestPath: undefined,
        notes: undefined,
        diffBudgetStage: undefined,
        skipDiffBudget: undefined,
        codexBin: "codex",
        reviewDevtools: false,
        clusterDatabaseUrl: undefined
      })
    }))

  it.effect("values as given; blank is unset; the override reason trimmed; limits stay text (the command warns)", () =>
    Effect.gen(function*() {
      const gate = yield* decode(gateSection, {
        BASE_SHA: "abc123",
        DIFF_BUDGET_BASE: "  ",
        DIFF_BUDGET_MAX_FILES: "lots",
        DIFF_BUDGET_MAX_LINES: "300",
        DIFF_BUDGET_OVERRIDE_REASON: "  vendored fixtures ",
        MANIFEST: "",
        CODEX_ORCHESTRATOR_MANIFEST_PATH: ".runs/t/cli/r/manifest.json",
        NOTES: "Goal: g | Summary: s | Risks: r",
        DIFF_BUDGET_STAGE: "1",
        CODEX_BIN: "/opt/codex",
        CODEX_REVIEW_DEVTOOLS: "yes",
        CODEX_CLUSTER_DATABASE_URL: "not a url"
      })
      assert.strictEqual(gate.baseSha, "abc123")
      assert.strictEqual(gate.diffBudgetBase, undefined)
      assert.strictEqual(gate.maxFiles, "lots")
      assert.strictEqual(gate.maxLines, "300")
      assert.strictEqual(gate.overrideReason, "vendored fixtures")
      assert.strictEqual(gate.manifest, undefined)
      assert.strictEqual(gate.stageManifestPath, ".runs/t/cli/r/manifest.json")
      assert.strictEqual(gate.notes, "Goal: g | Summary: s | Risks: r")
      assert.strictEqual(gate.diffBudgetStage, "1")
      assert.strictEqual(gate.codexBin, "/opt/codex")
      assert.isTrue(gate.reviewDevtools)
      assert.strictEqual(gate.clusterDatabaseUrl, "not a url", "doctor judges it, so decoding does not fail")
    }))
})

describe("Settings: codex", () => {
  it.effect("CODEX_HOME and HOME as given; empty is unset", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* decode(codexSection, { CODEX_HOME: "/c", HOME: "/h" }), { codexHome: "/c", home: "/h" })
      assert.deepStrictEqual(yield* decode(codexSection, { CODEX_HOME: "" }), { codexHome: undefined, home: undefined })
    }))
})
