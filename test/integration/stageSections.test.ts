/**
 * Manifest sections a stage hands to the engine (domain/StageSections.ts, DES-3): a stage writes
 * `manifest-sections.json` beside the manifest; when it ends, the listed sections are adopted into
 * the manifest and survive the engine's later writes; other keys are ignored, and a file that does
 * not decode is a warning that changes nothing.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { asArray, asObject, commandStage, describeResult, makeTempRepo, pipeline, requireBuiltCli, startJson, type TempRepo } from "../support/cli.js"

let repo: TempRepo

const artifact = { kind: "tokens", slug: "site", breakpoint: null, type: "tokens", path: "x/tokens.json", bytes: 3 }
const write = (json: unknown) =>
  `printf '%s' '${JSON.stringify(json)}' > "$(dirname "$CODEX_ORCHESTRATOR_MANIFEST_PATH")/manifest-sections.json"`

beforeAll(() => {
  requireBuiltCli()
  repo = makeTempRepo({
    pipelines: [pipeline("sections", [
      commandStage("record", write({ design_toolkit_artifacts: [artifact], status: "hacked", run_id: "other" })),
      commandStage("garble", write({ design_toolkit_artifacts: 5 })),
      commandStage("after", "true")
    ])]
  })
})

afterAll(() => repo.cleanup())

describe("stage manifest sections", () => {
  it("adopts the listed sections when the stage ends, ignores other keys, warns on a bad file", async () => {
    const run = await startJson(repo, ["sections", "--task", "t"])
    assert.strictEqual(run.result.code, 0, describeResult(run.result))
    assert.deepStrictEqual(asArray(run.manifest["design_toolkit_artifacts"], "artifacts").map((a) => asObject(a, "artifact")), [artifact])
    assert.strictEqual(run.manifest["status"], "succeeded")
    assert.strictEqual(run.manifest["run_id"], run.output["run_id"])
    assert.include(run.result.stderr, "manifest sections not adopted")
    assert.include(run.result.stderr, "design_toolkit_artifacts")
  })
})
