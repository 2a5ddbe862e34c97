/**
 * The Live ProcessRunner on real processes (wall clock, no TestClock): what a stage prints arrives
 * whole and in order, exits and signals are reported, a bad working directory is a spawn error, and
 * an interrupted stage loses its whole process group.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Clock, Deferred, Effect, Fiber, Layer, Ref } from "effect"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { HostLive } from "../../src/layers/Host.js"
import { ProcessRunnerLive, processRunnerLive } from "../../src/layers/ProcessRunner.js"
import { Host } from "../../src/services/Host.js"
import { type ProcessHandlers, ProcessRunner, type ProcessSpec } from "../../src/services/ProcessRunner.js"

const host = Layer.provide(HostLive, NodeContext.layer)
const live = Layer.merge(ProcessRunnerLive.pipe(Layer.provide(host)), host)
/** The Live runner with a long wait for the output of background processes once the shell has exited. */
const longHold = Layer.merge(processRunnerLive({ heldOutputGrace: "30 seconds" }).pipe(Layer.provide(host)), host)
/** The Live runner with a short wait for the output of background processes once the shell has exited. */
const shortHold = Layer.merge(processRunnerLive({ heldOutputGrace: "300 millis" }).pipe(Layer.provide(host)), host)
const spec = (command: string, env: Record<string, string> = {}): ProcessSpec => ({ command, cwd: process.cwd(), env })
const decoder = new TextDecoder()

type Event = { readonly _tag: "start"; readonly pid: number } | { readonly _tag: "output"; readonly stream: "stdout" | "stderr"; readonly text: string }

/** Runs `command`, recording every handler call; `slow` makes each output call take a millisecond. */
const record = (command: ProcessSpec, slow = false) =>
  Effect.gen(function*() {
    const events = yield* Ref.make<ReadonlyArray<Event>>([])
    const handlers: ProcessHandlers<never> = {
      onStart: (pid) => Ref.update(events, (all): ReadonlyArray<Event> => [...all, { _tag: "start", pid }]),
      onOutput: (stream, chunks) =>
        Ref.update(events, (all): ReadonlyArray<Event> => [
          ...all,
          { _tag: "output", stream, text: Chunk.toReadonlyArray(chunks).map((bytes) => decoder.decode(bytes)).join("") }
        ]).pipe(Effect.zipLeft(slow ? Effect.sleep("1 millis") : Effect.void))
    }
    const exit = yield* (yield* ProcessRunner).run(command, handlers)
    const all = yield* Ref.get(events)
    const text = (stream: "stdout" | "stderr") =>
      all.map((event) => (event._tag === "output" && event.stream === stream ? event.text : "")).join("")
    return { exit, events: all, stdout: text("stdout"), stderr: text("stderr") }
  })

describe("ProcessRunnerLive", () => {
  it.live("reports the pid first, then both pipes' output whole, and the exit code", () =>
    Effect.gen(function*() {
      const result = yield* record(spec("printf 'out\\n'; printf 'err\\n' >&2; printf 'more'; exit 3"))
      assert.deepStrictEqual(result.exit, { exitCode: 3, signal: null })
      assert.strictEqual(result.stdout, "out\nmore")
      assert.strictEqual(result.stderr, "err\n")
      const [first] = result.events
      assert(first?._tag === "start" && first.pid > 1)
      assert.strictEqual(result.events.filter((event) => event._tag === "start").length, 1)
    }).pipe(Effect.provide(live)))

  it.live("loses no output of short processes, and stdin is at end-of-file", () =>
    Effect.gen(function*() {
      const results = yield* Effect.forEach(
        Array.from({ length: 40 }, (_, i) => i),
        (i) => record(spec(`cat; echo line-${i}`)),
        { concurrency: 4 }
      )
      assert.deepStrictEqual(results.map((result) => result.stdout), results.map((_, i) => `line-${i}\n`))
      assert(results.every((result) => result.exit.exitCode === 0))
    }).pipe(Effect.provide(live)))

  it.live("passes the stage's variables on top of the parent environment", () =>
    Effect.gen(function*() {
      const result = yield* record(spec("printf '%s|%s' \"$STAGE_VALUE\" \"${PATH:+has-path}\"", { STAGE_VALUE: "from stage" }))
      assert.strictEqual(result.stdout, "from stage|has-path")
    }).pipe(Effect.provide(live)))

  it.live("reports a death by signal", () =>
    Effect.gen(function*() {
      const result = yield* record(spec("kill -TERM $$"))
      assert.deepStrictEqual(result.exit, { exitCode: null, signal: "SIGTERM" })
    }).pipe(Effect.provide(live)))

  it.live("keeps every byte of a large output when the handler is slow (the pipes are paused, not dropped)", () =>
    Effect.gen(function*() {
      const result = yield* record(spec("head -c 3000000 /dev/zero | tr '\\0' a; head -c 1000000 /dev/zero | tr '\\0' b >&2"), true)
      assert.strictEqual(result.stdout.length, 3_000_000)
      assert.strictEqual(result.stdout.replaceAll("a", ""), "")
      assert.strictEqual(result.stderr.length, 1_000_000)
      assert.strictEqual(result.exit.exitCode, 0)
    }).pipe(Effect.provide(live)))

  it.live("gathers a fast trickle of short writes into few handler calls, none much past 64 KiB", () =>
    Effect.gen(function*() {
      // 30,000 lines of ~11 bytes, each its own write: one call per read would be thousands of calls.
      const started = yield* Clock.currentTimeMillis
      const result = yield* record(spec("awk 'BEGIN{for(i=0;i<30000;i++){print \"line \" i; fflush()}}'"))
      const elapsed = (yield* Clock.currentTimeMillis) - started
      const calls = result.events.flatMap((event) => (event._tag === "output" ? [event.text.length] : []))
      assert.strictEqual(result.stdout.split("\n").length, 30_001)
      // At most one call per 50 ms gathering window while awk prints (20 on a quiet machine; a loaded
      // one prints more slowly, so more windows pass), never one per write.
      assert.isAtMost(calls.length, Math.max(20, Math.ceil(elapsed / 50) + 5), `${calls.length} handler calls in ${elapsed} ms`)
      // A pipe is paused once it holds 64 KiB; the read that crossed it is at most 64 KiB.
      assert.isAtMost(Math.max(...calls), 128 * 1024)
    }).pipe(Effect.provide(live)))

  it.live("hands a line on while the process still runs, not only when it exits", () =>
    Effect.gen(function*() {
      const firstAt = yield* Deferred.make<number>()
      const started = yield* Clock.currentTimeMillis
      const handlers: ProcessHandlers<never> = {
        onStart: () => Effect.void,
        onOutput: () => Effect.flatMap(Clock.currentTimeMillis, (at) => Deferred.succeed(firstAt, at))
      }
      const exit = yield* (yield* ProcessRunner).run(spec("echo first; sleep 2; echo second"), handlers)
      const ended = yield* Clock.currentTimeMillis
      assert.strictEqual(exit.exitCode, 0)
      assert.isBelow((yield* Deferred.await(firstAt)) - started, ended - started - 1000, "the first line waited for the sleep")
    }).pipe(Effect.provide(live)))

  it.live("fails with a spawn error when the working directory does not exist", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(record({ command: "true", cwd: "/nonexistent/speed-test", env: {} }))
      assert.strictEqual(error._tag, "ProcessSpawnError")
      assert.strictEqual(error.reason, "the working directory does not exist (ENOENT)")
      assert.strictEqual(error.cwd, "/nonexistent/speed-test")
    }).pipe(Effect.provide(live)))

  it.live("runs the shell whatever PATH the stage sets: only the command's own lookups use it", () =>
    Effect.gen(function*() {
      // A stage `env` with a PATH that has no `sh` (a tool's own bin folder alone) once failed to
      // start, reported as a missing working directory.
      const result = yield* record(spec("echo started; no-such-tool-anywhere; echo \"status $?\"", { PATH: "/nonexistent/bin" }))
      assert.deepStrictEqual(result.exit, { exitCode: 0, signal: null })
      assert.strictEqual(result.stdout, "started\nstatus 127\n")
      assert.include(result.stderr, "no-such-tool-anywhere")
    }).pipe(Effect.provide(live)))

  it.live("a command whose first word starts with '-' is run as a command, not read as the shell's options", () =>
    Effect.gen(function*() {
      const result = yield* record(spec("-codex-no-such-tool; echo \"after $?\""))
      assert.strictEqual(result.stdout, "after 127\n")
      assert.include(result.stderr, "-codex-no-such-tool")
      assert.notInclude(result.stderr, "llegal option")
      const dashed = yield* record(spec("--version 2>/dev/null || echo ran"))
      assert.strictEqual(dashed.stdout, "ran\n")
    }).pipe(Effect.provide(live)))

  it.live("a command too large for the system fails to start with the sizes and the fix, in a bounded message", () =>
    Effect.gen(function*() {
      // One argument may be at most 128 KiB on Linux: the shell never starts (E2BIG).
      const command = `echo ${"x".repeat(200 * 1024)}`
      const error = yield* Effect.flip(record(spec(command)))
      assert.strictEqual(error._tag, "ProcessSpawnError")
      assert.strictEqual(error.command, command, "the error keeps the whole command")
      assert.match(error.reason, /too large to start \(E2BIG\): the command is 200\.0 KiB/)
      assert.include(error.reason, "script file")
      assert.isBelow(error.message.length, 1000, "the message shows the command's head, not all of it")
      assert.include(error.message, `Could not start "echo xxx`)
      assert.include(error.message, `… (204805 bytes)"`)
    }).pipe(Effect.provide(live)))

  it.live("an environment too large for the system names its largest variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(record(spec("true", { HUGE_VALUE: "y".repeat(300 * 1024) })))
      assert.match(error.reason, /too large to start \(E2BIG\): .*the largest variable, HUGE_VALUE, is 300\.0 KiB/)
    }).pipe(Effect.provide(live)))

  it.live("interrupted, stops the whole process group, background children included", () =>
    Effect.gen(function*() {
      const host = yield* Host
      const background = yield* Deferred.make<number>()
      const handlers: ProcessHandlers<never> = {
        onStart: () => Effect.void,
        onOutput: (_, chunks) => {
          const pid = Number.parseInt(Chunk.toReadonlyArray(chunks).map((bytes) => decoder.decode(bytes)).join(""), 10)
          return Number.isInteger(pid) ? Deferred.succeed(background, pid) : Effect.void
        }
      }
      const fiber = yield* Effect.fork((yield* ProcessRunner).run(spec("sleep 30 > /dev/null & echo $!; wait"), handlers))
      const pid = yield* Deferred.await(background)
      assert.isTrue(yield* host.isAlive(pid))
      yield* Fiber.interrupt(fiber)
      assert.isFalse(yield* host.isAlive(pid))
    }).pipe(Effect.provide(live)))
  it.live("a background process holding the output does not hold the stage: the shell's exit ends it, the holder is stopped", () =>
    Effect.gen(function*() {
      const host = yield* Host
      // `sleep 30 &` inherits the stage's stdout and stderr: the pipes stay open for 30 s after the shell exits.
      const result = yield* record(spec("sleep 30 & echo $!; echo done >&2")).pipe(
        Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => new Error("the stage waited for its background process") })
      )
      assert.deepStrictEqual(result.exit, { exitCode: 0, signal: null })
      assert.strictEqual(
        result.stderr,
        "done\ncodex-orchestrator: processes this command started in the background still held its output 300ms later; " +
          "they were stopped. To keep one running after the stage, redirect its output (`server > server.log 2>&1 &`).\n"
      )
      const pid = Number.parseInt(result.stdout, 10)
      assert.isTrue(Number.isInteger(pid) && pid > 1, result.stdout)
      assert.isFalse(yield* host.isAlive(pid), "the background process that held the output was stopped")
    }).pipe(Effect.provide(shortHold)))

  it.live("what a background process prints shortly after the shell exits is kept", () =>
    Effect.gen(function*() {
      const result = yield* record(spec("(sleep 0.2; echo late) & echo early"))
      assert.deepStrictEqual(result.exit, { exitCode: 0, signal: null })
      assert.strictEqual(result.stdout, "early\nlate\n")
    }).pipe(Effect.provide(live)))

  it.live("a background process whose output goes elsewhere is left running (a server for later stages)", () =>
    Effect.gen(function*() {
      const host = yield* Host
      const result = yield* record(spec("sleep 30 > /dev/null 2>&1 & echo $!"))
      const pid = Number.parseInt(result.stdout, 10)
      assert.isTrue(Number.isInteger(pid) && pid > 1, result.stdout)
      assert.isTrue(yield* host.isAlive(pid), "the redirected background process survives its stage")
      yield* Effect.ignore(Effect.try(() => process.kill(pid, "SIGKILL")))
    }).pipe(Effect.provide(live)))

  it.live("run where the caller cannot be interrupted (a runner's entity handler) ends with its process, not after the grace", () =>
    Effect.gen(function*() {
      // Before: the timer of the grace for held output (EXE-7), forked in an uninterruptible region, could not
      // be interrupted when the process ended, so every remote stage waited out the grace on its runner.
      const started = yield* Clock.currentTimeMillis
      const result = yield* Effect.uninterruptible(record(spec("echo done")))
      const elapsed = (yield* Clock.currentTimeMillis) - started
      assert.deepStrictEqual(result.exit, { exitCode: 0, signal: null })
      assert.strictEqual(result.stdout, "done\n")
      assert.isBelow(elapsed, 15_000, `took ${elapsed} ms: the 30 s grace was waited out`)
    }).pipe(Effect.provide(longHold)))
})
