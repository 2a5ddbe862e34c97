import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeJsonFile } from "../../src/domain/FileErrors.js"
import { globToRegExp, staticBase } from "../../src/domain/Glob.js"
import { PipelineConfigFile } from "../../src/domain/Pipeline.js"
import { changedParts, evictionOrder, parseByteSize } from "../../src/domain/StageCache.js"

const configWith = (cache: unknown) =>
  JSON.stringify({ pipelines: [{ id: "p", title: "P", stages: [{ kind: "command", id: "s", title: "S", command: "true", cache }] }] })

describe("Stage cache rules (B-5)", () => {
  it("globs: * within a segment, ** across, braces and classes; the fixed folder to walk", () => {
    const matches = (glob: string, path: string) => globToRegExp(glob).test(path)
    assert.isTrue(matches("src/**/*.ts", "src/a.ts"))
    assert.isTrue(matches("src/**/*.ts", "src/x/y/a.ts"))
    assert.isFalse(matches("src/*.ts", "src/x/a.ts"))
    assert.isTrue(matches("**", "a/b/c"))
    assert.isTrue(matches("{src,test}/[ab].ts", "test/b.ts"))
    assert.isFalse(matches("{src,test}/[ab].ts", "lib/a.ts"))
    assert.isFalse(matches("*.ts", "a.tsx"))
    assert.deepStrictEqual(["src/**/*.ts", "**/*.c", "dist", "a/b/*.js"].map(staticBase), ["src", "", "dist", "a/b"])
  })

  it.effect("a bad cache spec is bad input naming the field", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decodeJsonFile(PipelineConfigFile, "codex.orchestrator.json")(
        configWith({ inputs: ["../secrets/*"], env: ["1BAD"], outputs: ["/etc/passwd"] })
      ))
      const text = error.message
      assert.include(text, "pipelines.0.stages.0.cache.inputs.0 (pipeline \"p\", stage \"s\"): must stay inside the stage's folder (no .. segments)")
      assert.include(text, "pipelines.0.stages.0.cache.env.0 (pipeline \"p\", stage \"s\"): must be an environment variable name")
      assert.include(text, "pipelines.0.stages.0.cache.outputs.0 (pipeline \"p\", stage \"s\"): must be relative to the stage's folder")
      const fine = yield* decodeJsonFile(PipelineConfigFile, "c.json")(configWith({ inputs: ["src/**"] }))
      assert.deepStrictEqual(fine.pipelines[0]?.stages[0]?.kind === "command" ? fine.pipelines[0].stages[0].cache : undefined, { inputs: ["src/**"] })
    }))

  it("sizes, eviction order and what changed", () => {
    assert.deepStrictEqual(["1048576", "512K", "100M", "2G", "1.5GiB", "0", "lots"].map(parseByteSize), [
      1048576, 524288, 104857600, 2147483648, 1610612736, undefined, undefined
    ])
    const entries = [{ key: "a", size: 50, lastUsedMs: 3 }, { key: "b", size: 50, lastUsedMs: 1 }, { key: "c", size: 50, lastUsedMs: 2 }]
    assert.deepStrictEqual(evictionOrder(entries, 100), ["b"])
    assert.deepStrictEqual(evictionOrder(entries, 10), ["b", "c", "a"])
    const parts = { format: 1 as const, version: "1", command: "c", cwd: ".", env: { A: "x" }, inputs: { "a.ts": "1", "b.ts": "2" } }
    assert.deepStrictEqual(changedParts(parts, { ...parts, version: "2", env: {}, inputs: { "a.ts": "9", "c.ts": "3" } }), [
      "orchestrator version 1 -> 2",
      "env A removed",
      "input a.ts changed",
      "input b.ts removed",
      "input c.ts added"
    ])
  })
})
