/**
 * A runner's worktrees kept for the next stage of the same workspace (issue 18). Making a worktree
 * takes git processes, each one 10-300 ms on a loaded machine, and it stood on every remote stage's
 * path; the stages of a run (and the runs of one commit) share their workspace: the same origin,
 * commit and uncommitted diff. So a worktree an attempt is done with is made fresh again off the
 * attempt's path (reset to the commit, cleaned, the diff applied: `recycle`) and handed to the next
 * attempt of that workspace.
 *
 * - One attempt at a time has a worktree: a lease is the tree, until it is released.
 * - An attempt that finds no tree ready waits for one being recycled (it is as far as a new one
 *   would be, with no more git bookkeeping), else takes a ready tree of another workspace of the
 *   same family (the same clone: another commit or other changes, as after an edit) and recycles it
 *   for its own on its path (a checkout and a clean, against a new worktree's git bookkeeping, one
 *   at a time a clone, and a full checkout), else a new one is made (`create`).
 * - At most `keep` trees wait ready, all workspaces together (the oldest go first), each for at most
 *   `idle`; closing the pool's scope removes them, and the recycles under way.
 * - A tree whose recycling fails, or that its attempt discards, is removed.
 * - A recycle waits (`settle`) while the runner is busy ending attempts: released while other trees
 *   are leased, or within `settle` of another release, it starts once no tree has been leased or
 *   released for `settle`, or at once when an attempt waits for it. Recycling is git processes
 *   (a spawn from the runner's big process blocks its event loop ~10 ms): started as each of a
 *   burst of attempts ended, they held back the saving and sending of the others' results.
 */
import { Clock, Deferred, Duration, Effect, Exit, FiberId, Option, Schedule } from "effect"

/** What the pool does with git and folders (runnerWorkspace.ts: real git; tests: in memory). */
export interface PoolOperations<K, E> {
  /** A new tree, ready for `key`'s workspace. */
  readonly create: (key: K) => Effect.Effect<string, E>
  /** Makes a used tree as a fresh one for `key` again; a failure has the tree removed. */
  readonly recycle: (tree: string, key: K) => Effect.Effect<void, unknown>
  readonly remove: (tree: string) => Effect.Effect<void>
}

export interface PoolOptions {
  /** The most trees waiting ready, all workspaces together. */
  readonly keep: number
  /** A ready tree unused this long is removed (checked every `idle`, so it waits up to twice that). */
  readonly idle: Duration.DurationInput
  /** How long the pool stays quiet (nothing leased or released) before a deferred recycle starts (default: none). */
  readonly settle?: Duration.DurationInput | undefined
}

/** What an attempt does with its tree when it ends: hand it on, remove it, or leave it (`--keep-failed`). */
export type TreeOutcome = "reuse" | "discard" | "keep"

export interface TreeLease {
  readonly tree: string
  /** Returns at once: recycling and removal happen off the attempt's path. */
  readonly release: (outcome: TreeOutcome) => Effect.Effect<void>
}

interface ReadyTree {
  readonly tree: string
  readonly id: string
  readonly family: string
  readonly since: number
}

/** A tree handed to an attempt waiting for one, and the workspace it was made for. */
interface Handed {
  readonly tree: string
  readonly id: string
}

/**
 * Per family: trees being recycled (their recycles deferred included), the attempts waiting for them
 * (never more than those), and the deferred recycles' go signals.
 */
interface Slot {
  recycling: number
  readonly waiters: Array<Deferred.Deferred<Option.Option<Handed>>>
  readonly deferred: Array<Deferred.Deferred<void>>
}

/**
 * The trees waiting ready (oldest first), and per family the recycles under way and the attempts
 * waiting for them. Changed only inside synchronous steps, so no fiber sees a half-made change.
 */
const makeShelf = <K, E>(options: PoolOptions, operations: PoolOperations<K, E>) => {
  const idleMs = Duration.toMillis(Duration.decode(options.idle))
  let ready: Array<ReadyTree> = []
  const slots = new Map<string, Slot>()
  const slotOf = (family: string) => {
    const found = slots.get(family)
    if (found !== undefined) return found
    const slot: Slot = { recycling: 0, waiters: [], deferred: [] }
    slots.set(family, slot)
    return slot
  }
  const removeAll = (trees: ReadonlyArray<string>) => Effect.forEach(trees, operations.remove, { discard: true })

  /** A tree made ready: to the first attempt waiting for one, else onto the shelf (the oldest beyond `keep` removed). */
  const putReady = (id: string, family: string, tree: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.suspend(() => {
        const waiter = slotOf(family).waiters.shift()
        if (waiter !== undefined) return Deferred.succeed(waiter, Option.some({ tree, id }))
        ready.push({ tree, id, family, since: now })
        const over = ready.length - Math.max(0, options.keep)
        return removeAll(over > 0 ? ready.splice(0, over).map((entry) => entry.tree) : [])
      }))

  /** A recycle that ended badly: its tree is removed, and an attempt that counted on it makes its own. */
  const recycleFailed = (family: string, tree: string) =>
    Effect.zipRight(
      Effect.suspend(() => {
        const slot = slotOf(family)
        const orphan = slot.waiters.length > slot.recycling ? slot.waiters.shift() : undefined
        return orphan === undefined ? Effect.void : Deferred.succeed(orphan, Option.none())
      }),
      operations.remove(tree)
    )

  /** An attempt no longer waiting (interrupted): off the list; a tree handed to it meanwhile goes to the next. */
  const withdraw = (family: string, waiter: Deferred.Deferred<Option.Option<Handed>>) =>
    Effect.zipRight(
      Effect.sync(() => {
        const waiters = slotOf(family).waiters
        const at = waiters.indexOf(waiter)
        if (at >= 0) waiters.splice(at, 1)
      }),
      Effect.whenEffect(
        Effect.flatMap(Deferred.await(waiter), Option.match({ onNone: () => Effect.void, onSome: (handed) => putReady(handed.id, family, handed.tree) })),
        Deferred.isDone(waiter)
      )
    )

  /** The most recently readied tree that `fits` (the likeliest in the disk cache), taken off the shelf. */
  const takeWhere = (fits: (entry: ReadyTree) => boolean) => {
    let at = ready.length - 1
    while (at >= 0 && !fits(ready[at] as ReadyTree)) at -= 1
    const [entry] = at >= 0 ? ready.splice(at, 1) : []
    return entry?.tree
  }
  const take = (id: string) => takeWhere((entry) => entry.id === id)
  const takeOfFamily = (family: string) => takeWhere((entry) => entry.family === family)

  /** Ready trees unused for `idle` are removed. */
  const sweep = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.suspend(() => {
      const stale = ready.filter((entry) => now - entry.since >= idleMs)
      ready = ready.filter((entry) => now - entry.since < idleMs)
      return removeAll(stale.map((entry) => entry.tree))
    }))

  const clear = Effect.suspend(() => {
    const all = ready.map((entry) => entry.tree)
    ready = []
    return removeAll(all)
  })
  return { slotOf, putReady, recycleFailed, withdraw, take, takeOfFamily, sweep, clear, ready: Effect.sync(() => ready.map((entry) => entry.tree)) }
}

/**
 * The recycles a busy pool defers (`settle`): one released while other trees are leased waits
 * `settle`, or less when an attempt of its family waits for a tree (acquire starts it then).
 */
const makeDeferral = (settle: Duration.Duration, slotOf: (family: string) => Slot) => {
  let leased = 0
  return {
    /** Counts a tree as leased; the function returned ends the lease (once, however often called). */
    lease: () => {
      leased += 1
      let ended = false
      return () => {
        if (!ended) leased -= 1
        ended = true
      }
    },
    /** A recycle's wait before it starts: none while no other tree is leased. */
    wait: (family: string) =>
      Effect.suspend(() => {
        if (leased === 0 || !Duration.greaterThan(settle, Duration.zero)) return Effect.void
        const go = Deferred.unsafeMake<void>(FiberId.none)
        const slot = slotOf(family)
        slot.deferred.push(go)
        // Interruptible although released from a finalizer (whose uninterruptibility the recycle's
        // fiber inherits): else the race's loser, waiting for a kick that never came, could not be
        // interrupted, and the race, then the runner's shutdown, waited for it for ever.
        return Effect.interruptible(Effect.raceFirst(Deferred.await(go), Effect.sleep(settle))).pipe(
          Effect.ensuring(Effect.sync(() => {
            const at = slot.deferred.indexOf(go)
            if (at >= 0) slot.deferred.splice(at, 1)
          }))
        )
      })
  }
}

/**
 * A tree of another workspace of the family, made `key`'s on the attempt's path; one that cannot be
 * (a commit the clone lacks: the new one fetches it) is removed and a new one made. Interrupted,
 * the half-made tree is removed.
 */
const adopt = <K, E>(operations: PoolOperations<K, E>, key: K, tree: string): Effect.Effect<string, E> =>
  operations.recycle(tree, key).pipe(
    Effect.onInterrupt(() => operations.remove(tree)),
    Effect.as(tree),
    Effect.catchAll(() => Effect.zipRight(operations.remove(tree), operations.create(key)))
  )

export const makeWorktreePool = <K, E>(
  options: PoolOptions,
  operations: PoolOperations<K, E>,
  idOf: (key: K) => string,
  /** Workspaces whose trees one recycle turns into each other's (default: none but itself). */
  familyOf: (key: K) => string = idOf
) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const shelf = makeShelf(options, operations)
    const { putReady, slotOf } = shelf
    const deferral = makeDeferral(Duration.decode(options.settle ?? Duration.zero), slotOf)

    // The outcome is handled once, whatever ends the recycle: interrupted (the pool closing, also
    // while deferred), the half-made tree goes like a failed one.
    const recycleInBackground = (key: K, id: string, tree: string) =>
      Effect.zipRight(
        Effect.sync(() => {
          slotOf(familyOf(key)).recycling += 1
        }),
        Effect.zipRight(deferral.wait(familyOf(key)), operations.recycle(tree, key)).pipe(
          Effect.onExit((exit) =>
            Effect.zipRight(
              Effect.sync(() => {
                slotOf(familyOf(key)).recycling -= 1
              }),
              Exit.isSuccess(exit) ? putReady(id, familyOf(key), tree) : shelf.recycleFailed(familyOf(key), tree)
            )
          ),
          Effect.forkIn(scope)
        )
      )

    const releaseTree = (key: K, id: string, tree: string, outcome: TreeOutcome) =>
      outcome === "reuse"
        ? Effect.asVoid(recycleInBackground(key, id, tree))
        : outcome === "discard"
        // Forked uninterruptible (the fiber inherits it): the pool closing waits for a removal
        // under way instead of cutting it short (the refs its stage made are put back first).
        ? Effect.asVoid(Effect.uninterruptible(Effect.forkIn(operations.remove(tree), scope)))
        : Effect.void


    /** A tree handed to an attempt: counted as leased until its (first) release. */
    const leaseOf = (key: K, id: string, tree: string): TreeLease => {
      const unlease = deferral.lease()
      return { tree, release: (outcome) => Effect.suspend(() => Effect.zipRight(Effect.sync(unlease), releaseTree(key, id, tree, outcome))) }
    }

    /**
     * Waits for a tree of the family being recycled: its own workspace's is used as it is, another's
     * adopted; none (its recycle failed): the attempt makes its own.
     */
    const awaitRecycled = (key: K, id: string, waiter: Deferred.Deferred<Option.Option<Handed>>) =>
      Deferred.await(waiter).pipe(
        Effect.onInterrupt(() => shelf.withdraw(familyOf(key), waiter)),
        Effect.flatMap(Option.match({
          onNone: () => operations.create(key),
          onSome: (handed) => (handed.id === id ? Effect.succeed(handed.tree) : adopt(operations, key, handed.tree))
        }))
      )

    const acquire = (key: K): Effect.Effect<TreeLease, E> =>
      Effect.gen(function*() {
        const id = idOf(key)
        const waiter = yield* Deferred.make<Option.Option<Handed>>()
        const found = yield* Effect.sync((): { readonly tree: string; readonly adopted: boolean } | "wait" | "create" => {
          const tree = shelf.take(id)
          if (tree !== undefined) return { tree, adopted: false }
          const slot = slotOf(familyOf(key))
          if (slot.recycling > slot.waiters.length) {
            slot.waiters.push(waiter)
            // A deferred recycle starts now: an attempt is waiting for its tree.
            const go = slot.deferred.shift()
            if (go !== undefined) Deferred.unsafeDone(go, Exit.void)
            return "wait"
          }
          const other = shelf.takeOfFamily(familyOf(key))
          return other === undefined ? "create" : { tree: other, adopted: true }
        })
        const tree = found === "create"
          ? yield* operations.create(key)
          : found === "wait"
          ? yield* awaitRecycled(key, id, waiter)
          : found.adopted
          ? yield* adopt(operations, key, found.tree)
          : found.tree
        return leaseOf(key, id, tree)
      })

    // Added before any recycle is forked, so it runs after they are interrupted: nothing is left.
    yield* Effect.addFinalizer(() => shelf.clear)
    yield* Effect.forkIn(Effect.repeat(shelf.sweep, Schedule.spaced(options.idle)), scope)

    return { acquire, ready: shelf.ready }
  })
