/**
 * Runs one Live capture in its own process and prints `{ section, rssBeforeKiB, peakKiB }` as JSON:
 * the resident set size just before the capture and the process's peak (VmHWM) just after it, so a
 * test can tell whether the snapshot was streamed. Usage: node --import tsx <this file> <repoRoot>
 */
import { readFileSync, writeFileSync } from "node:fs"
import { captureIn } from "./learningRepo.js"

const statusKiB = (field: "VmRSS" | "VmHWM"): number => {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(readFileSync("/proc/self/status", "utf8"))
  return match === null ? Number.NaN : Number(match[1])
}

const repoRoot = process.argv[2]
if (repoRoot === undefined) throw new Error("usage: learningCaptureMain <repoRoot>")
// Load the tar package and warm up the runtime before measuring, so only the capture's growth counts.
await import("tar")
global.gc?.()
// Resets VmHWM to the current RSS (Linux >= 4.0), so start-up's own peak does not count.
writeFileSync("/proc/self/clear_refs", "5")
const rssBeforeKiB = statusKiB("VmRSS")
const { section } = await captureIn(repoRoot)
process.stdout.write(`${JSON.stringify({ section, rssBeforeKiB, peakKiB: statusKiB("VmHWM") })}\n`)
