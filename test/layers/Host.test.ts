/**
 * HostLive's proof that a process group is a run's stage (issue 16, item 14), on real processes:
 * the leader's environment, or with the leader gone a member's, must name the run.
 */
import { spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { environHas, groupOfStat, HostLive, runsOfStat, startTimeOfStat } from "../../src/layers/Host.js"
import { Host } from "../../src/services/Host.js"
import { waitFor } from "../support/cli.js"

const live = Layer.provide(HostLive, NodeContext.layer)

/** A detached `sh -c script` (its own process group) with `CODEX_ORCHESTRATOR_RUN_ID=runId`. */
const startGroup = (script: string, runId: string) => {
  const child = spawn("sh", ["-c", script], {
    detached: true,
    stdio: "ignore",
    env: { ...process.env, CODEX_ORCHESTRATOR_RUN_ID: runId }
  })
  if (child.pid === undefined) throw new Error("could not spawn sh")
  return { pgid: child.pid, stop: () => { try { process.kill(-(child.pid ?? 0), "SIGKILL") } catch { /* gone */ } } }
}

const isLive = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

/** Whether a process of group `pgid` runs `name` already (its exec done: its environment is readable from then on). */
const groupRuns = (pgid: number, name: string) =>
  readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).some((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      return stat.startsWith(`${pid} (${name}) `) && groupOfStat(stat) === pgid
    } catch {
      return false
    }
  })

describe("HostLive.groupBelongsToRun", () => {
  it("parses the group from a stat line and matches whole environment entries", () => {
    assert.strictEqual(groupOfStat("123 (a) b) c) S 1 456 456 0"), 456)
    assert.isUndefined(groupOfStat("garbage"))
    assert.isTrue(environHas("A=1\0CODEX_ORCHESTRATOR_RUN_ID=r1\0", "CODEX_ORCHESTRATOR_RUN_ID=r1"))
    assert.isFalse(environHas("CODEX_ORCHESTRATOR_RUN_ID=r10\0", "CODEX_ORCHESTRATOR_RUN_ID=r1"))
  })

  it.live("is true for the run the leader was started for, false for another run and for a stranger", () =>
    Effect.gen(function*() {
      const host = yield* Host
      const group = startGroup("sleep 30.1", "run-a")
      const stranger = spawn("sleep", ["30.2"], { detached: true, stdio: "ignore" })
      try {
        // The shell may exec `sleep` in its own place: read the environment once that is done.
        yield* Effect.promise(() => waitFor("the group to run sleep", () => (groupRuns(group.pgid, "sleep") ? true : undefined)))
        assert.isTrue(yield* host.groupBelongsToRun(group.pgid, "run-a"))
        assert.isFalse(yield* host.groupBelongsToRun(group.pgid, "run-b"))
        assert.isFalse(yield* host.groupBelongsToRun(stranger.pid ?? 0, "run-a"))
        const own = yield* host.ownGroup
        assert.strictEqual(own, groupOfStat(readFileSync("/proc/self/stat", "utf8")))
      } finally {
        group.stop()
        stranger.kill("SIGKILL")
      }
    }).pipe(Effect.provide(live)))

  it.live("with the leader gone, a member that names the run proves the group", () =>
    Effect.gen(function*() {
      const host = yield* Host
      const group = startGroup("sleep 30.3 & echo $! ; exit 0", "run-c")
      try {
        yield* Effect.promise(() => waitFor("the leader to exit", () => (isLive(group.pgid) ? undefined : true)))
        // Under load the member may still be between fork and exec, its environment briefly unreadable.
        yield* Effect.promise(() => waitFor("the member to run sleep", () => (groupRuns(group.pgid, "sleep") ? true : undefined)))
        assert.isTrue(yield* host.isGroupAlive(group.pgid))
        assert.isTrue(yield* host.groupBelongsToRun(group.pgid, "run-c"))
        assert.isFalse(yield* host.groupBelongsToRun(group.pgid, "run-d"))
      } finally {
        group.stop()
      }
    }).pipe(Effect.provide(live)))
})

describe("HostLive.startTimeOf", () => {
  it("parses the start time from a stat line (the 22nd field, a name with parentheses and spaces included)", () => {
    const fields = Array.from({ length: 30 }, (_, i) => String(i + 3))
    assert.strictEqual(startTimeOfStat(`123 (a) b) c) ${fields.join(" ")}`), "22")
    assert.isUndefined(startTimeOfStat("123 (short) S 1 2"))
  })

  it.live("names one process: this one's is steady, a new process's differs, a gone pid has none", () =>
    Effect.gen(function*() {
      const host = yield* Host
      const own = yield* host.startTimeOf(process.pid)
      assert.match(own ?? "", /^\d+$/)
      assert.strictEqual(yield* host.startTimeOf(process.pid), own)
      yield* Effect.sleep("20 millis")
      const child = spawn("sleep", ["30.4"], { stdio: "ignore" })
      try {
        const theirs = yield* host.startTimeOf(child.pid ?? 0)
        assert.match(theirs ?? "", /^\d+$/)
        assert.notStrictEqual(theirs, own)
      } finally {
        child.kill("SIGKILL")
      }
      assert.isUndefined(yield* host.startTimeOf(0))
      assert.isUndefined(yield* host.startTimeOf(2 ** 22 + 1))
    }).pipe(Effect.provide(live)))
})

describe("HostLive.isGroupAlive and isAlive", () => {
  it("tells a running process from a zombie by its stat line's state", () => {
    assert.isTrue(runsOfStat("123 (sleep) S 1 123 123 0"))
    assert.isTrue(runsOfStat("123 (a) Z) R 1 123 123 0"), "the state after the last parenthesis counts")
    assert.isFalse(runsOfStat("123 (sleep) Z 1 123 123 0"))
    assert.isFalse(runsOfStat("123 (sleep) X 1 123 123 0"))
  })

  it.live("a group left with zombies only (exited, their parent elsewhere not reaping them yet) is not alive", () =>
    Effect.gen(function*() {
      const host = yield* Host
      // The parent forks a child into a group of its own, which exits at once; the parent never reaps it.
      const parent = spawn("perl", ["-e", "$|=1; my $p = fork(); if ($p == 0) { setpgrp(0, 0); exit 0 } print \"$p\\n\"; sleep 30"], {
        stdio: ["ignore", "pipe", "ignore"]
      })
      try {
        const zombie = yield* Effect.promise(() =>
          new Promise<number>((resolve) => parent.stdout.once("data", (data: Buffer) => resolve(Number(data.toString().trim()))))
        )
        yield* Effect.promise(() =>
          waitFor("the child to be a zombie in its own group", () => {
            try {
              const stat = readFileSync(`/proc/${zombie}/stat`, "utf8")
              return groupOfStat(stat) === zombie && /\) Z /.test(stat) ? true : undefined
            } catch {
              return undefined
            }
          })
        )
        // Signal 0 still finds the zombie's group: only its state tells it has ended.
        assert.isFalse(yield* host.isGroupAlive(zombie))
        assert.isFalse(yield* host.isAlive(zombie))
        assert.isTrue(yield* host.isAlive(parent.pid ?? 0))
        assert.isTrue(yield* host.isGroupAlive(groupOfStat(readFileSync(`/proc/${parent.pid}/stat`, "utf8")) ?? 0))
      } finally {
        parent.kill("SIGKILL")
      }
    }).pipe(Effect.provide(live)))
})
