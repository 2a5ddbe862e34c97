/**
 * A runner's hold on its `--workspaces` folder (issue 18), on in-memory files, a fixed host and the
 * TestClock: a live holder refuses a second runner in one line; a gone holder (dead, or its pid now
 * another process's) is taken over with a warning, by exactly one of two runners racing; the hold is
 * released when the runner's scope closes, and only while it is still its own.
 */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Scope, TestClock } from "effect"
import { FilesMemory } from "../../src/layers/Files.js"
import { HostMemory, type HostMemoryOptions } from "../../src/layers/Host.js"
import { holdFileName, holdWorkspaces, judgeHolder, writingGraceMs, type WorkspacesHolder } from "../../src/layers/cluster/workspacesHold.js"
import { Files } from "../../src/services/Files.js"
import { withLogs } from "../support/logs.js"

const root = "/srv/runner-a"
const file = `${root}/${holdFileName}`

const holder = (overrides: Partial<WorkspacesHolder> = {}): WorkspacesHolder => ({
  pid: 700,
  host: "test-host",
  started: "started-700",
  listen: "localhost:34431",
  since: "2026-12-07T06:00:00.000Z",
  ...overrides
})

const facts = { ageMs: 60_000, host: "test-host", alive: true, startTime: "started-700" }

/** Holds `root` as the runner of pid `pid` (listening on port `pid`) in `scope`, on this host. */
const holdAs = (scope: Scope.Scope, pid: number, host: HostMemoryOptions = {}) =>
  holdWorkspaces({ root, listen: `localhost:${pid}` }).pipe(
    Scope.extend(scope),
    Effect.provide(Layer.merge(HostMemory({ pid, ...host }), Path.layer))
  )

const plant = (record: WorkspacesHolder | string) =>
  Effect.flatMap(Files, (files) =>
    Effect.zipRight(files.makeDirectory(root), files.writeAtomic(file, typeof record === "string" ? record : `${JSON.stringify(record)}\n`)))

const recorded = Effect.flatMap(Files, (files) => files.readText(file))

describe("judgeHolder", () => {
  it("holds while the holder's pid lives with the start time it recorded, or where it cannot be checked", () => {
    assert.deepStrictEqual(judgeHolder({ ...facts, holder: holder() }), { _tag: "Held" })
    // Another machine's process cannot be checked.
    assert.deepStrictEqual(judgeHolder({ ...facts, holder: holder({ host: "other" }), alive: false, startTime: undefined }), { _tag: "Held" })
    // No start time known (an OS without /proc): alive is all there is.
    assert.deepStrictEqual(judgeHolder({ ...facts, holder: holder({ started: undefined }), startTime: "x" }), { _tag: "Held" })
    assert.deepStrictEqual(judgeHolder({ ...facts, holder: holder(), startTime: undefined }), { _tag: "Held" })
  })

  it("is stale when the holder is gone or its pid is another process now; an unreadable record only once it is old", () => {
    assert.deepStrictEqual(judgeHolder({ ...facts, holder: holder(), alive: false, startTime: undefined }), {
      _tag: "Stale",
      why: "its runner localhost:34431 (pid 700) is gone"
    })
    assert.deepStrictEqual(judgeHolder({ ...facts, holder: holder(), startTime: "started-later" }), {
      _tag: "Stale",
      why: "its runner localhost:34431 is gone (pid 700 is another process now)"
    })
    assert.deepStrictEqual(judgeHolder({ ...facts, holder: undefined, ageMs: writingGraceMs - 1 }), { _tag: "Writing" })
    assert.deepStrictEqual(judgeHolder({ ...facts, holder: undefined, ageMs: writingGraceMs }), { _tag: "Stale", why: "its record is unreadable" })
  })
})

describe("holdWorkspaces", () => {
  it.scoped("a free folder is held for the scope, with pid, host, start time and address, and released when it closes", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      yield* holdAs(scope, 501)
      const record = JSON.parse((yield* recorded) ?? "{}")
      assert.deepInclude(record, { pid: 501, host: "test-host", started: "started-501", listen: "localhost:501" })
      yield* Scope.close(scope, Exit.void)
      assert.isUndefined(yield* recorded)
    }).pipe(Effect.provide(FilesMemory)))

  it.scoped("a live holder refuses a second runner in one line naming the folder, its pid and address and the fix; its record stays", () =>
    Effect.gen(function*() {
      yield* plant(holder())
      const scope = yield* Scope.make()
      const refused = yield* Effect.flip(holdAs(scope, 501, { alive: [700] }))
      assert.strictEqual(refused._tag, "WorkspacesHeld")
      assert.strictEqual(
        refused.message,
        `--workspaces ${root} is held by the runner localhost:34431 (pid 700 on test-host); two runners on one folder would corrupt ` +
          "each other's clones and worktrees: give this runner --workspaces <another folder>."
      )
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(JSON.parse((yield* recorded) ?? "{}").pid, 700)
    }).pipe(Effect.provide(FilesMemory)))

  it.scoped("a holder on another machine refuses too, and the line says how to free a folder whose runner is gone", () =>
    Effect.gen(function*() {
      yield* plant(holder({ host: "build-2" }))
      const scope = yield* Scope.make()
      const refused = yield* Effect.flip(holdAs(scope, 501))
      assert.strictEqual(
        refused.message,
        `--workspaces ${root} is held by the runner localhost:34431 (pid 700 on build-2); two runners on one folder would corrupt ` +
          "each other's clones and worktrees: give this runner --workspaces <another folder>. A runner on another machine cannot " +
          `be checked from here: if it is gone for good, remove ${root}/.runner.json.`
      )
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.provide(FilesMemory)))

  it.scoped("a dead holder's hold, and one whose pid is another process now, are taken over with a warning", () =>
    Effect.gen(function*() {
      for (const host of [{}, { alive: [700], startTimes: { 700: "started-later" } }]) {
        yield* plant(holder())
        const scope = yield* Scope.make()
        const [, logs] = yield* withLogs(holdAs(scope, 501, host))
        assert.strictEqual(JSON.parse((yield* recorded) ?? "{}").pid, 501)
        const warnings = logs.filter(([level]) => level === "WARN").map(([, message]) => message)
        assert.lengthOf(warnings, 1)
        assert.match(warnings[0] ?? "", new RegExp(`^Taking over ${root} from a previous runner: its runner localhost:34431 .*gone`))
        yield* Scope.close(scope, Exit.void)
        assert.deepStrictEqual((yield* Effect.flatMap(Files, (files) => files.list(root))).filter((name) => name !== ".gitignore"), [])
      }
    }).pipe(Effect.provide(FilesMemory)))

  it.scoped("two runners racing over a stale hold: exactly one takes it, the other is refused naming the winner", () =>
    Effect.gen(function*() {
      yield* plant(holder())
      const scope = yield* Scope.make()
      // Each sees the other alive (the same start time as its own record), the old holder dead.
      const results = yield* Effect.all([
        Effect.either(holdAs(scope, 501, { alive: [502] })),
        Effect.either(holdAs(scope, 502, { alive: [501] }))
      ], { concurrency: 2 })
      const won = results.filter((result) => result._tag === "Right")
      const lost = results.flatMap((result) => (result._tag === "Left" ? [result.left] : []))
      assert.lengthOf(won, 1)
      assert.lengthOf(lost, 1)
      const winner = JSON.parse((yield* recorded) ?? "{}").pid
      assert.include(lost[0]?.message ?? "", `(pid ${winner} on test-host)`)
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.provide(FilesMemory)))

  it.scoped("a record being written is waited for; one left unreadable past the grace is taken over", () =>
    Effect.gen(function*() {
      yield* plant("")
      const scope = yield* Scope.make()
      const taking = yield* Effect.fork(holdAs(scope, 501))
      yield* TestClock.adjust("1 second")
      assert.isNull(taking.unsafePoll())
      yield* TestClock.adjust(writingGraceMs)
      yield* Fiber.join(taking)
      assert.strictEqual(JSON.parse((yield* recorded) ?? "{}").pid, 501)
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.provide(FilesMemory)))

  it.scoped("a runner whose hold was taken from it does not remove the new holder's record when it stops", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      yield* holdAs(scope, 501)
      yield* plant(holder())
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(JSON.parse((yield* recorded) ?? "{}").pid, 700)
    }).pipe(Effect.provide(FilesMemory)))
})
