/**
 * A stage printing 200 MiB (DECISIONS D-11, D-12): every byte reaches the stage log as `exec:chunk`
 * events, the manifest stays small, and the orchestrator's peak RSS stays flat.
 */
import { existsSync, statSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
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

const totalBytes = 200 * 1024 * 1024
/**
 * Flat means the output cost less than half its own size over the same run printing 1 KiB: buffered
 * output would cost at least all of it. Measured against that baseline, not as an absolute figure,
 * because the CLI's own footprint grows with what it bundles (D-11). The bound is relative to the
 * output, not a fixed figure, since what the streamed path holds at its peak is read buffers and
 * garbage that V8 collects when it chooses: with 50 MiB printed it measured +28 to +54 MiB from one
 * run to the next (more under load), which a fixed 45 MiB bound failed at random.
 */
const growthLimitMiB = totalBytes / 1024 / 1024 / 2

/** The peak RSS (VmHWM) of `start big` in `repo`, in MiB, and its result. */
const peakOf = async (repo: { readonly dir: string }) => {
  const result = await runCli(["start", "big", "--task", "t", "--format", "json"], { cwd: repo.dir, sampleMemory: true })
  assert.isDefined(result.peakRssKiB, "VmHWM could not be read from /proc/<pid>/status")
  return { result, peakMiB: (result.peakRssKiB ?? 0) / 1024 }
}

const bigConfig = (bytes: number) => ({
  pipelines: [
    pipeline("big", [
      commandStage("flood", `head -c ${bytes} /dev/zero | tr '\\0' 'a'`),
      commandStage("after", "echo after")
    ])
  ]
})

describe("a stage printing 200 MiB", () => {
  it(`streams it all to the stage log with a flat memory profile (peak RSS < ${growthLimitMiB} MiB over a 1 KiB run)`, async () => {
    const baseline = await withRepo(bigConfig(1024), peakOf)
    await withRepo(
      bigConfig(totalBytes),
      async (repo) => {
        const { peakMiB, result } = await peakOf(repo)
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

        // Peak resident set size of the orchestrator process (VmHWM, sampled every 20 ms), over the baseline.
        console.log(
          `[large-output] orchestrator peak RSS (VmHWM): ${peakMiB.toFixed(1)} MiB for ${totalBytes} bytes of output, ` +
            `${baseline.peakMiB.toFixed(1)} MiB for 1 KiB`
        )
        assert.isBelow(peakMiB - baseline.peakMiB, growthLimitMiB, `peak RSS ${peakMiB.toFixed(1)} MiB, ${baseline.peakMiB.toFixed(1)} MiB for 1 KiB`)
      }
    )
  })
})
