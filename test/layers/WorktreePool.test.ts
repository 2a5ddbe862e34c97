/**
 * A runner's worktrees kept for the next attempt of the same workspace (issue 18), on in-memory
 * operations and the TestClock: a released tree is made fresh again off the attempt's path and
 * handed on; two attempts never share one; the pool keeps few and not for long, and nothing once
 * closed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Option, Ref, Scope, TestClock } from "effect"
import { makeWorktreePool } from "../../src/layers/internal/worktreePool.js"

interface Key {
  readonly workspace: string
  /** The clone its workspace is of (default: a family of its own). */
  readonly family?: string
}

/** Operations that record what they did; recycling passes `gate` first (open unless a test closes it), then `recycleFails` decides. */
const operations = Effect.gen(function*() {
  const created = yield* Ref.make<ReadonlyArray<string>>([])
  const recycled = yield* Ref.make<ReadonlyArray<string>>([])
  const removed = yield* Ref.make<ReadonlyArray<string>>([])
  const gate = yield* Ref.make(yield* Deferred.make<void>())
  yield* Deferred.succeed(yield* Ref.get(gate), undefined)
  const recycleFails = yield* Ref.make(false)
  let next = 0
  const ops = {
    create: (key: Key) =>
      Effect.suspend(() => {
        const tree = `${key.workspace}/t${next++}`
        return Effect.as(Ref.update(created, (all) => [...all, tree]), tree)
      }),
    recycle: (tree: string, key: Key) =>
      Effect.gen(function*() {
        yield* Deferred.await(yield* Ref.get(gate))
        if (yield* Ref.get(recycleFails)) return yield* Effect.fail("git failed")
        yield* Ref.update(recycled, (all) => [...all, `${tree} for ${key.workspace}`])
      }),
    remove: (tree: string) => Ref.update(removed, (all) => [...all, tree])
  }
  const closeGate = Effect.flatMap(Deferred.make<void>(), (closed) => Ref.set(gate, closed))
  const openGate = Effect.flatMap(Ref.get(gate), (open) => Deferred.succeed(open, undefined))
  return { ops, created, recycled, removed, closeGate, openGate, recycleFails }
})

const poolIn = (scope: Scope.Scope, keep = 4, settle?: Duration.Duration) =>
  Effect.gen(function*() {
    const recorded = yield* operations
    const pool = yield* makeWorktreePool(
      { keep, idle: Duration.minutes(5), settle },
      recorded.ops,
      (key: Key) => key.workspace,
      (key: Key) => key.family ?? key.workspace
    ).pipe(
      Scope.extend(scope)
    )
    return { ...recorded, pool }
  })

/** Lets the pool's background fibers (recycling, removal) run. */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

const a: Key = { workspace: "a" }
const b: Key = { workspace: "b" }

describe("worktree pool", () => {
  it.scoped("a released tree is recycled and handed to the next attempt of its workspace; another workspace gets a new one", () =>
    Effect.gen(function*() {
      const { created, pool, recycled } = yield* poolIn(yield* Effect.scope)
      const first = yield* pool.acquire(a)
      yield* first.release("reuse")
      yield* settle
      assert.deepStrictEqual(yield* pool.ready, ["a/t0"])
      const again = yield* pool.acquire(a)
      const other = yield* pool.acquire(b)
      assert.deepStrictEqual([again.tree, other.tree], ["a/t0", "b/t1"])
      assert.deepStrictEqual(yield* Ref.get(recycled), ["a/t0 for a"])
      assert.deepStrictEqual(yield* Ref.get(created), ["a/t0", "b/t1"])
    }))

  it.scoped("attempts at the same time never share a tree", () =>
    Effect.gen(function*() {
      const { pool } = yield* poolIn(yield* Effect.scope)
      const trees = yield* Effect.forEach([a, a, a], pool.acquire, { concurrency: "unbounded" })
      assert.deepStrictEqual(trees.map((lease) => lease.tree).sort(), ["a/t0", "a/t1", "a/t2"])
    }))

  it.scoped("an attempt waits for a tree being recycled instead of making one", () =>
    Effect.gen(function*() {
      const { closeGate, created, openGate, pool } = yield* poolIn(yield* Effect.scope)
      const first = yield* pool.acquire(a)
      yield* closeGate
      yield* first.release("reuse")
      const waiting = yield* Effect.fork(pool.acquire(a))
      yield* settle
      assert.isNull(yield* Fiber.poll(waiting).pipe(Effect.map((done) => (done._tag === "Some" ? "done" : null))))
      yield* openGate
      assert.strictEqual((yield* Fiber.join(waiting)).tree, "a/t0")
      assert.deepStrictEqual(yield* Ref.get(created), ["a/t0"])
    }))

  it.scoped("a recycle that fails: the tree is removed and the attempt waiting for it makes its own", () =>
    Effect.gen(function*() {
      const { closeGate, openGate, pool, recycleFails, removed } = yield* poolIn(yield* Effect.scope)
      const first = yield* pool.acquire(a)
      yield* closeGate
      yield* Ref.set(recycleFails, true)
      yield* first.release("reuse")
      const waiting = yield* Effect.fork(pool.acquire(a))
      yield* settle
      yield* openGate
      assert.strictEqual((yield* Fiber.join(waiting)).tree, "a/t1")
      assert.deepStrictEqual(yield* Ref.get(removed), ["a/t0"])
      assert.deepStrictEqual(yield* pool.ready, [])
    }))

  it.scoped("at most `keep` trees wait ready, all workspaces together: the oldest go", () =>
    Effect.gen(function*() {
      const { pool, removed } = yield* poolIn(yield* Effect.scope, 2)
      const leases = yield* Effect.forEach([a, b, a], pool.acquire)
      yield* Effect.forEach(leases, (lease) => Effect.zipRight(lease.release("reuse"), settle), { discard: true })
      assert.deepStrictEqual(yield* pool.ready, ["b/t1", "a/t2"])
      assert.deepStrictEqual(yield* Ref.get(removed), ["a/t0"])
    }))

  it.scoped("a ready tree unused for the idle time is removed", () =>
    Effect.gen(function*() {
      const { pool, removed } = yield* poolIn(yield* Effect.scope)
      yield* Effect.flatMap(pool.acquire(a), (lease) => lease.release("reuse"))
      yield* settle
      yield* TestClock.adjust(Duration.minutes(4))
      assert.deepStrictEqual(yield* pool.ready, ["a/t0"])
      yield* TestClock.adjust(Duration.minutes(1))
      yield* settle
      assert.deepStrictEqual([yield* pool.ready, yield* Ref.get(removed)], [[], ["a/t0"]])
    }))

  it.scoped("a discarded tree is removed, a kept one (--keep-failed) is left alone; neither is handed on", () =>
    Effect.gen(function*() {
      const { pool, recycled, removed } = yield* poolIn(yield* Effect.scope)
      const [discarded, kept] = yield* Effect.forEach([a, a], pool.acquire)
      yield* discarded?.release("discard") ?? Effect.void
      yield* kept?.release("keep") ?? Effect.void
      yield* settle
      assert.deepStrictEqual([yield* pool.ready, yield* Ref.get(removed), yield* Ref.get(recycled)], [[], ["a/t0"], []])
      assert.strictEqual((yield* pool.acquire(a)).tree, "a/t2")
    }))

  it.effect("closing the pool removes the ready trees and those being recycled", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { closeGate, pool, removed } = yield* poolIn(scope)
      const [ready, recycling] = yield* Effect.forEach([a, b], pool.acquire)
      yield* ready?.release("reuse") ?? Effect.void
      yield* settle
      yield* closeGate
      yield* recycling?.release("reuse") ?? Effect.void
      yield* settle
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual([...(yield* Ref.get(removed))].sort(), ["a/t0", "b/t1"])
    }))

  it.effect("closing the pool right after a tree is discarded waits for its removal (its stage's refs are put back there)", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const removed = yield* Ref.make<ReadonlyArray<string>>([])
      const ops = {
        create: (key: Key) => Effect.succeed(`${key.workspace}/t0`),
        recycle: () => Effect.void,
        // Several steps, as the real one (a git process, then the folder).
        remove: (tree: string) => Effect.zipRight(Effect.repeatN(Effect.yieldNow(), 5), Ref.update(removed, (all) => [...all, tree]))
      }
      const pool = yield* makeWorktreePool({ keep: 1, idle: Duration.minutes(5) }, ops, (key: Key) => key.workspace).pipe(Scope.extend(scope))
      const lease = yield* pool.acquire(a)
      yield* lease.release("discard")
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(yield* Ref.get(removed), ["a/t0"])
    }))

  describe("a recycle while other attempts hold trees waits (settle)", () => {
    const later = Duration.millis(150)

    it.scoped("released while another tree is leased: recycled `settle` later; released when none is: at once", () =>
      Effect.gen(function*() {
        const { pool, recycled } = yield* poolIn(yield* Effect.scope, 4, later)
        const [first, second] = yield* Effect.forEach([a, a], pool.acquire)
        yield* first?.release("reuse") ?? Effect.void
        yield* settle
        yield* TestClock.adjust(Duration.millis(149))
        yield* settle
        assert.deepStrictEqual(yield* Ref.get(recycled), [], "not before settle")
        yield* TestClock.adjust(Duration.millis(1))
        yield* settle
        assert.deepStrictEqual(yield* Ref.get(recycled), ["a/t0 for a"])
        yield* second?.release("reuse") ?? Effect.void
        yield* settle
        assert.deepStrictEqual(yield* Ref.get(recycled), ["a/t0 for a", "a/t1 for a"], "the last one out is recycled at once")
      }))

    it.scoped("released from a finalizer (uninterruptible, as a runner's attempt releases): still recycled `settle` later", () =>
      Effect.gen(function*() {
        const { pool, recycled } = yield* poolIn(yield* Effect.scope, 4, later)
        const [first] = yield* Effect.forEach([a, a], pool.acquire)
        yield* Effect.uninterruptible(first?.release("reuse") ?? Effect.void)
        yield* settle
        yield* TestClock.adjust(later)
        yield* settle
        assert.deepStrictEqual(yield* Ref.get(recycled), ["a/t0 for a"])
      }))

    it.scoped("an attempt that would wait for the deferred tree starts its recycle at once", () =>
      Effect.gen(function*() {
        const { created, pool, recycled } = yield* poolIn(yield* Effect.scope, 4, later)
        const [first] = yield* Effect.forEach([a, a], pool.acquire)
        yield* first?.release("reuse") ?? Effect.void
        yield* settle
        const waiting = yield* Effect.fork(pool.acquire(a))
        yield* settle
        const handed = yield* Fiber.poll(waiting)
        assert.isTrue(Option.isSome(handed), "no clock moved: the recycle was not left to its settle time")
        assert.strictEqual((yield* Fiber.join(waiting)).tree, "a/t0")
        assert.deepStrictEqual([yield* Ref.get(recycled), yield* Ref.get(created)], [["a/t0 for a"], ["a/t0", "a/t1"]])
      }))

    it.effect("closing the pool while a recycle is deferred removes its tree", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const { pool, recycled, removed } = yield* poolIn(scope, 4, later)
        const [first] = yield* Effect.forEach([a, a], pool.acquire)
        yield* first?.release("reuse") ?? Effect.void
        yield* settle
        yield* Scope.close(scope, Exit.void)
        assert.deepStrictEqual([yield* Ref.get(removed), yield* Ref.get(recycled)], [["a/t0"], []])
      }))
  })

  describe("another workspace of the same clone (another commit, other changes)", () => {
    const edited: Key = { workspace: "a-edited", family: "clone-1" }
    const first: Key = { workspace: "a-first", family: "clone-1" }
    const elsewhere: Key = { workspace: "b-other", family: "clone-2" }

    it.scoped("takes its ready tree and recycles it for itself on its path: no new tree", () =>
      Effect.gen(function*() {
        const { created, pool, recycled } = yield* poolIn(yield* Effect.scope)
        yield* Effect.flatMap(pool.acquire(first), (lease) => lease.release("reuse"))
        yield* settle
        const lease = yield* pool.acquire(edited)
        assert.strictEqual(lease.tree, "a-first/t0")
        assert.deepStrictEqual(yield* Ref.get(recycled), ["a-first/t0 for a-first", "a-first/t0 for a-edited"])
        assert.deepStrictEqual(yield* Ref.get(created), ["a-first/t0"])
        // Handed back, it is the edited workspace's now.
        yield* lease.release("reuse")
        yield* settle
        assert.strictEqual((yield* pool.acquire(edited)).tree, "a-first/t0")
      }))

    it.scoped("waits for one being recycled, then makes it its own: no new tree", () =>
      Effect.gen(function*() {
        const { closeGate, created, openGate, pool, recycled } = yield* poolIn(yield* Effect.scope)
        const lease = yield* pool.acquire(first)
        yield* closeGate
        yield* lease.release("reuse")
        const waiting = yield* Effect.fork(pool.acquire(edited))
        yield* settle
        assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)), "it waits for the recycle")
        yield* openGate
        assert.strictEqual((yield* Fiber.join(waiting)).tree, "a-first/t0")
        assert.deepStrictEqual(yield* Ref.get(recycled), ["a-first/t0 for a-first", "a-first/t0 for a-edited"])
        assert.deepStrictEqual(yield* Ref.get(created), ["a-first/t0"])
      }))

    it.scoped("leaves another clone's tree alone, and takes its own workspace's tree before a family one", () =>
      Effect.gen(function*() {
        const { pool } = yield* poolIn(yield* Effect.scope)
        const [mine, family] = yield* Effect.forEach([edited, first], pool.acquire)
        yield* Effect.forEach([family, mine], (lease) => lease?.release("reuse") ?? Effect.void, { discard: true })
        yield* settle
        assert.strictEqual((yield* pool.acquire(elsewhere)).tree, "b-other/t2")
        assert.strictEqual((yield* pool.acquire(edited)).tree, "a-edited/t0")
      }))

    it.scoped("a tree that cannot be made the attempt's is removed, and a new one made", () =>
      Effect.gen(function*() {
        const { created, pool, recycleFails, removed } = yield* poolIn(yield* Effect.scope)
        yield* Effect.flatMap(pool.acquire(first), (lease) => lease.release("reuse"))
        yield* settle
        yield* Ref.set(recycleFails, true)
        assert.strictEqual((yield* pool.acquire(edited)).tree, "a-edited/t1")
        assert.deepStrictEqual([yield* Ref.get(removed), yield* Ref.get(created)], [["a-first/t0"], ["a-first/t0", "a-edited/t1"]])
      }))
  })
})
