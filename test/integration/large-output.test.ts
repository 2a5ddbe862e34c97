/**
 * A stage printing 50 MB (DECISIONS D-11, D-12): every byte reaches the stage log as `exec:chunk`
 * events, the manifest stays small, and the orchestrator's peak RSS stays flat.
 */
import { existsSync, statSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import {
  asString,
  commandAt,
  commandStage,
  describeResult,
  forEachNdjsonLine,
  parseJson,
  asObject,
  pipeline,
  readJson,
  readNdjson,
  requireBuiltCli,
  runCli,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const totalBytes = 50 * 1024 * 1024
const rssLimitMiB = 150

describe("a stage printing 50 MB", () => {
  it(`streams it all to the stage log with a flat memory profile (peak RSS < ${rssLimitMiB} MiB)`, () =>
    withRepo(
      {
        pipelines: [
          pipeline("big", [
            commandStage("flood", `head -c ${totalBytes} /dev/zero | tr '\\0' 'a'`),
            commandStage("after", "echo after")
          ])
        ]
      },
      async (repo) => {
        const result = await runCli(["start", "big", "--task", "t", "--format", "json"], {
          cwd: repo.dir,
          sampleMemory: true
        })
        assert.strictEqual(result.code, 0, describeResult(result))
        const output = asObject(parseJson(result.stdout), "stdout")
        const runDir = repo.path(asString(output["artifact_root"], "artifact_root"))
        const manifestPath = join(runDir, "manifest.json")
        const manifest = readJson(manifestPath)
        assert.strictEqual(manifest["status"], "succeeded")
        assert.strictEqual(commandAt(manifest, 0)["exit_code"], 0)
        assert.strictEqual(commandAt(manifest, 1)["status"], "succeeded")

        // D-12: bounded summaries only.
        const manifestSize = statSync(manifestPath).size
        assert.isBelow(manifestSize, 64 * 1024, `manifest.json is ${manifestSize} bytes`)
        const summary = asString(commandAt(manifest, 0)["summary"], "summary")
        assert.strictEqual(summary, `${"a".repeat(240)}…`)

        // D-11: every byte is in the stage log, in order, as exec:chunk events.
        let bytes = 0
        let dataLength = 0
        let chunks = 0
        let onlyA = true
        let lastSequence = 0
        let sequencesInOrder = true
        await forEachNdjsonLine(join(runDir, "commands", "01-flood.ndjson"), (event) => {
          if (event["type"] !== "exec:chunk") return
          chunks += 1
          bytes += Number(event["bytes"])
          const data = asString(event["data"], "data")
          dataLength += data.length
          if (onlyA && !/^a*$/.test(data)) onlyA = false
          if (event["sequence"] !== lastSequence + 1) sequencesInOrder = false
          lastSequence = Number(event["sequence"])
        })
        assert.strictEqual(bytes, totalBytes, "sum of exec:chunk bytes")
        assert.strictEqual(dataLength, totalBytes, "length of the concatenated exec:chunk data")
        assert.isTrue(onlyA, "chunk data is not the printed output")
        assert.isTrue(sequencesInOrder, "exec:chunk sequence numbers are not 1, 2, 3, ...")
        assert.isAbove(chunks, 1)

        // runner.ndjson carries lifecycle events only.
        const runnerLog = join(runDir, "runner.ndjson")
        assert.isBelow(statSync(runnerLog).size, 64 * 1024)
        assert.isFalse(readNdjson(runnerLog).some((event) => event["type"] === "exec:chunk"))
        assert.isFalse(existsSync(join(runDir, "errors", "01-flood.json")))

        // Peak resident set size of the orchestrator process (VmHWM, sampled every 20 ms).
        const peak = result.peakRssKiB
        assert.isDefined(peak, "VmHWM could not be read from /proc/<pid>/status")
        const peakMiB = (peak ?? 0) / 1024
        console.log(`[large-output] orchestrator peak RSS (VmHWM) for ${totalBytes} bytes of output: ${peakMiB.toFixed(1)} MiB`)
        assert.isBelow(peakMiB, rssLimitMiB, `peak RSS ${peakMiB.toFixed(1)} MiB`)
      }
    ))
})
