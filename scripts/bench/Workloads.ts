/**
 * The benchmark's workloads (from the performance issue): each is a pipeline of shell-command
 * stages, written into the temporary repository's codex.orchestrator.json.
 */

export const MiB = 1024 * 1024

/**
 * Prints about `bytes` of base64 text. `base64 -w 76` turns every 57 input bytes into one 77-byte
 * line, so whole lines make the printed size exact (and below `bytes` by less than a line).
 */
export const base64Output = (bytes: number) => `head -c ${Math.floor(bytes / 77) * 57} /dev/urandom | base64 -w 76`

/** `lines` short lines, alternating between stderr and stdout. */
export const interleavedLines = (lines: number) =>
  `awk 'BEGIN{for(i=0;i<${lines};i++){ if(i%2) print "line " i; else print "line " i > "/dev/stderr"}}'`

export interface Runs {
  readonly full: number
  /** 0 skips the workload under `--quick`. */
  readonly quick: number
}

export interface Workload {
  /** The pipeline id. */
  readonly id: string
  readonly label: string
  readonly stages: ReadonlyArray<string>
  /** Output-heavy: measure printed bytes, throughput and bytes on disk. */
  readonly heavyOutput: boolean
  readonly runs: Runs
  /** A stage graph (B-2): every stage `needs: []`, at most this many at once. Serial when absent. */
  readonly graphConcurrency?: number
  /** B-5: the `cache` block of the stage at `index` (0-based); no cache when absent. */
  readonly cache?: (index: number) => Readonly<Record<string, ReadonlyArray<string>>>
}

const repeat = (count: number, command: string): ReadonlyArray<string> => Array.from({ length: count }, () => command)

export const trivial1: Workload = {
  id: "bench-trivial-1",
  label: "`start`, 1 × `true`",
  stages: ["true"],
  heavyOutput: false,
  runs: { full: 7, quick: 2 }
}

export const trivial20: Workload = {
  id: "bench-trivial-20",
  label: "`start`, 20 × `true`",
  stages: repeat(20, "true"),
  heavyOutput: false,
  runs: { full: 7, quick: 2 }
}

export const sleeps: Workload = {
  id: "bench-sleep-5",
  label: "`start`, 5 × `sleep 0.2`",
  stages: repeat(5, "sleep 0.2"),
  heavyOutput: false,
  runs: { full: 5, quick: 1 }
}

export const lines100k: Workload = {
  id: "bench-lines-100k",
  label: "`start`, 100k lines on stdout/stderr",
  stages: [interleavedLines(100_000)],
  heavyOutput: true,
  runs: { full: 5, quick: 1 }
}

const output = (mib: number, runs: Runs): Workload => ({
  id: `bench-output-${mib}mib`,
  label: `\`start\`, ${mib} MiB output`,
  stages: [base64Output(mib * MiB)],
  heavyOutput: true,
  runs
})

export const output20 = output(20, { full: 5, quick: 1 })
export const output200 = output(200, { full: 3, quick: 1 })
export const output800 = output(800, { full: 2, quick: 0 })

/** B-2: eight independent `sleep 1` at concurrency 8 (the floor is 1 s; serial takes 8 s). */
export const graphSleeps: Workload = {
  id: "bench-graph-sleep-8",
  label: "`start`, 8 × `sleep 1` as a graph, concurrency 8",
  stages: repeat(8, "sleep 1"),
  heavyOutput: false,
  runs: { full: 3, quick: 1 },
  graphConcurrency: 8
}

/** B-2: 64 independent trivial stages at concurrency 8, against the same 64 run serially. */
export const graphTrivial64: Workload = {
  id: "bench-graph-trivial-64",
  label: "`start`, 64 × `true` as a graph, concurrency 8",
  stages: repeat(64, "true"),
  heavyOutput: false,
  runs: { full: 5, quick: 2 },
  graphConcurrency: 8
}

export const trivial64: Workload = {
  id: "bench-trivial-64",
  label: "`start`, 64 × `true`",
  stages: repeat(64, "true"),
  heavyOutput: false,
  runs: { full: 5, quick: 2 }
}

/** A stage that only sleeps: the orchestrator should use no CPU meanwhile, heartbeats aside. */
export const idle: Workload = {
  id: "bench-idle",
  label: "`start`, 1 × `sleep 6`",
  stages: ["sleep 6"],
  heavyOutput: false,
  runs: { full: 2, quick: 1 }
}

/** A run `status --watch` follows: idle for 3 s, then it finishes. */
export const watched: Workload = {
  id: "bench-watched",
  label: "`status --watch --interval 1` on `sleep 3; echo done`",
  stages: ["sleep 3; echo done"],
  heavyOutput: false,
  runs: { full: 3, quick: 1 }
}

/**
 * B-5: a gate of ten stages that each work for a second, print a line and write an output file,
 * cached on the repository's sources: the first run does the work, a re-run replays every stage.
 */
export const cached10: Workload = {
  id: "bench-cached-10",
  label: "`start`, 10 cached stages (`sleep 1`, a line printed, an output file written)",
  stages: Array.from({ length: 10 }, (_, i) =>
    `sleep 1; mkdir -p build && echo "stage ${i + 1}" > build/s${i + 1}.txt && echo "stage ${i + 1} built"`),
  heavyOutput: false,
  runs: { full: 3, quick: 1 },
  cache: (i) => ({ inputs: ["codex.orchestrator.json"], outputs: [`build/s${i + 1}.txt`] })
}

export const all: ReadonlyArray<Workload> = [
  trivial1,
  trivial20,
  sleeps,
  lines100k,
  output20,
  output200,
  output800,
  idle,
  watched,
  graphSleeps,
  graphTrivial64,
  trivial64,
  cached10
]

/** The codex.orchestrator.json that holds every workload, one command stage per entry of `stages`. */
export const configFile = (workloads: ReadonlyArray<Workload>) =>
  JSON.stringify(
    {
      pipelines: workloads.map((workload) => ({
        id: workload.id,
        title: workload.label,
        ...(workload.graphConcurrency === undefined ? {} : { concurrency: workload.graphConcurrency }),
        stages: workload.stages.map((command, i) => ({
          kind: "command",
          id: `s${String(i + 1).padStart(2, "0")}`,
          title: `stage ${i + 1}`,
          command,
          ...(workload.graphConcurrency === undefined ? {} : { needs: [] }),
          ...(workload.cache === undefined ? {} : { cache: workload.cache(i) })
        }))
      }))
    },
    null,
    2
  )
