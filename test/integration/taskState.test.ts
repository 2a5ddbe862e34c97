/**
 * PER-3 under concurrency, end to end: many `start`s of one task finishing at once must each leave
 * their record in `out/<task>/runs.json`. A run that finds `<runs>/<task>.lock` busy queues its
 * record for the next holder of the lock, as metrics does (MET-2), and never tells the user to
 * delete a lock another run may hold.
 */
import { assert, beforeAll, describe, it } from "vitest"
import { existsSync } from "node:fs"
import {
  asArray,
  asObject,
  asString,
  commandStage,
  describeResult,
  listDir,
  pipeline,
  readJson,
  readNdjson,
  requireBuiltCli,
  runCli,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const config = { pipelines: [pipeline("quick", [commandStage("one", "true")])] }
const starts = 32

describe("runs.json under concurrent runs (PER-3)", () => {
  it(`${starts} simultaneous starts of one task leave ${starts} records`, () =>
    withRepo(config, async (repo) => {
      const results = await Promise.all(
        Array.from({ length: starts }, () => runCli(["start", "quick", "--task", "crowd", "--format", "json"], { cwd: repo.dir }))
      )
      for (const result of results) assert.strictEqual(result.code, 0, describeResult(result))
      const runIds = results.map((result) => asString(asObject(JSON.parse(result.stdout), "stdout")["run_id"], "run_id"))
      const snapshot = readJson(repo.path("out", "crowd", "runs.json"))
      const recorded = asArray(snapshot["runs"], "runs").map((run) => asString(asObject(run, "run")["runId"], "runId"))
      assert.deepStrictEqual([...recorded].sort(), [...runIds].sort(), "every run is in runs.json once")
      assert.isFalse(existsSync(repo.path(".runs", "crowd.lock")), "the lock is released")
      for (const result of results) assert.notMatch(result.stderr, /delete the lock/i, describeResult(result))
      assert.deepStrictEqual(listDir(repo.path(".runs", "crowd", "runs.pending")), [], "nothing is left queued")
      // Metrics queue the same way (MET-2), and whoever releases the lock last merges what was queued:
      // every run's line is in metrics.json, none is left in metrics.pending.
      assert.deepStrictEqual(listDir(repo.path(".runs", "crowd", "metrics.pending")).filter((name) => name.endsWith(".jsonl")), [])
      const lines = readNdjson(repo.path(".runs", "crowd", "metrics.json")).map((line) => asString(line["run_id"], "run_id"))
      assert.deepStrictEqual([...lines].sort(), [...runIds].sort(), "every run has one metrics line")
    }), 240_000)
})
