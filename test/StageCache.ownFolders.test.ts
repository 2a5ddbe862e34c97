/**
 * B-5: a stage's globs never walk into the orchestrator's own folders (the runs root, the stage cache,
 * the out root). Every run writes there, so `inputs: ["**"]` at the repository root never hit, and
 * `outputs: ["**"]` stored the runs' files. In-memory layers only.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { CacheSpec } from "../src/domain/StageCache.js"
import { EntropySeeded } from "../src/layers/Entropy.js"
import { FilesMemory, InMemoryFiles } from "../src/layers/Files.js"
import { GitMemory } from "../src/layers/Git.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { StageCacheMemory, StageCacheOnGit } from "../src/layers/StageCache.js"
import { type CacheProbe, StageCache } from "../src/services/StageCache.js"

const repo = "/repo"
const logPath = `${repo}/.runs/t/cli/run-1/commands/01-all.ndjson`
const spec: CacheSpec = { inputs: ["**"], outputs: ["**"] }
const probe: CacheProbe = { pipelineId: "p", taskId: "t", stageId: "all", command: "make", cwd: repo, env: {}, spec }

const base = Layer.mergeAll(OrchestratorConfigTest(repo), EntropySeeded(1), Path.layer)
const layers = [
  ["StageCacheMemory", StageCacheMemory().pipe(Layer.provideMerge(FilesMemory), Layer.provideMerge(base))],
  ["StageCacheLive on FilesMemory", StageCacheOnGit.pipe(Layer.provide(GitMemory({})), Layer.provideMerge(FilesMemory), Layer.provideMerge(base))]
] as const

for (const [name, layer] of layers) {
  describe(`${name}: the orchestrator's own folders are no stage's files (B-5)`, () => {
    it.effect("`**` reads and stores the stage's files only: a second run hits although the first wrote its records", () =>
      Effect.gen(function*() {
        const files = yield* InMemoryFiles
        const cache = yield* StageCache
        yield* files.write(`${repo}/src/a.ts`, "a\n")
        yield* files.write(`${repo}/dist/a.js`, "a\n")
        yield* files.write(logPath, "")
        const first = yield* cache.lookup(probe)
        if (first._tag !== "Miss") return assert.fail(`expected a miss, got ${first._tag}`)
        assert.deepStrictEqual(Object.keys(first.key.parts.inputs), ["dist/a.js", "src/a.ts"])
        yield* cache.store(first.key, { runId: "run-1", logPath, attempt: 1 })
        // What the run itself leaves once its stage is done, and a later run's records.
        yield* files.write(`${repo}/.runs/t/cli/run-1/manifest.json`, "{}")
        yield* files.write(`${repo}/.runs/t/cli/run-2/.heartbeat`, "now")
        yield* files.write(`${repo}/out/t/runs.json`, "[]")
        const second = yield* cache.lookup(probe)
        if (second._tag !== "Hit") return assert.fail(`expected a hit, got ${second._tag}`)
        assert.deepStrictEqual(second.meta.outputs.map((output) => output.path), ["dist/a.js", "src/a.ts"])
        yield* files.write(`${repo}/src/a.ts`, "b\n")
        const third = yield* cache.lookup(probe)
        assert.deepStrictEqual(third._tag === "Miss" ? third.changed : [], ["input src/a.ts changed"])
      }).pipe(Effect.provide(layer)))
  })
}
