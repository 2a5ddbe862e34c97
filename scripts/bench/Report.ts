/** Statistics over samples, target checks and the Markdown tables the benchmark prints. */
import type { Sample } from "./Measure.js"

export interface ArmResult {
  readonly name: string
  readonly samples: ReadonlyArray<Sample>
}

export interface Summary {
  readonly name: string
  readonly runs: number
  readonly medianMs: number
  readonly minMs: number
  readonly maxMs: number
  /** Highest peak over all runs: the memory target must hold for every run. */
  readonly peakRssKiB: number | undefined
  /** Highest over all runs. */
  readonly diskBytes: number | undefined
}

export const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const upper = sorted[mid] ?? Number.NaN
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2
}

const maxDefined = (values: ReadonlyArray<number | undefined>) => {
  const defined = values.filter((value): value is number => value !== undefined)
  return defined.length === 0 ? undefined : Math.max(...defined)
}

export const summarize = (arm: ArmResult): Summary => {
  const walls = arm.samples.map((s) => s.wallMs)
  return {
    name: arm.name,
    runs: walls.length,
    medianMs: median(walls),
    minMs: Math.min(...walls),
    maxMs: Math.max(...walls),
    peakRssKiB: maxDefined(arm.samples.map((s) => s.peakRssKiB)),
    diskBytes: maxDefined(arm.samples.map((s) => s.diskBytes))
  }
}

export type Verdict = "PASS" | "FAIL" | "info"

export const verdict = (ok: boolean): Verdict => (ok ? "PASS" : "FAIL")

export interface Row {
  readonly workload: string
  readonly orchestrator: string
  readonly floor: string
  readonly overhead: string
  readonly target: string
  readonly result: Verdict
}

export const ms = (value: number) => `${value.toFixed(1)} ms`
export const signedMs = (value: number) => `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(1)} ms`
export const mib = (kib: number | undefined) => (kib === undefined ? "n/a" : `${(kib / 1024).toFixed(1)} MiB`)
export const megabytes = (bytes: number) =>
  bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`
export const throughput = (bytes: number, wallMs: number) => `${(bytes / 1e6 / (wallMs / 1000)).toFixed(1)} MB/s`

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) =>
  [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((cells) => `| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`)
  ].join("\n")

export const resultsTable = (rows: ReadonlyArray<Row>) =>
  table(
    ["workload", "orchestrator", "floor", "overhead/ratio", "target", "result"],
    rows.map((row) => [row.workload, row.orchestrator, row.floor, row.overhead, row.target, row.result])
  )

export const detailsTable = (groups: ReadonlyArray<{ readonly group: string; readonly arms: ReadonlyArray<Summary> }>) =>
  table(
    ["workload", "measured", "runs", "median", "min", "max", "peak RSS", "disk"],
    groups.flatMap(({ arms, group }) =>
      arms.map((arm) => [
        group,
        arm.name,
        String(arm.runs),
        ms(arm.medianMs),
        ms(arm.minMs),
        ms(arm.maxMs),
        mib(arm.peakRssKiB),
        arm.diskBytes === undefined ? "" : megabytes(arm.diskBytes)
      ])
    )
  )
