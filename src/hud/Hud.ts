/**
 * The HUD on an EventBus (SPEC HUD-1, DECISIONS B-6): `mount` subscribes to the bus, folds every event
 * into a HudState with `reduceHud`, and redraws the Ink view at most once per `interval` (120 ms), and
 * once a second while nothing happens (elapsed time, a retry's countdown). A stage printing 100k lines
 * costs one fold per output chunk and eight redraws a second. The view is loaded when `mount` runs.
 * When the scope closes the last state is drawn and the view taken down, its last frame left on the
 * terminal: what the caller prints next comes after it.
 */
import { Clock, Duration, Effect, Exit, Fiber, Ref, Schedule, type Scope, Stream } from "effect"
import { colourSettingsOf, colourWanted } from "../domain/Colour.js"
import type { OrchestratorEvent } from "../domain/Events.js"
import { terminalSection } from "../domain/Settings.js"
import { EventBus } from "../services/EventBus.js"
import { addNote, type HudApproval, type HudNote, type HudState, initialHudState, reduceHud } from "./HudState.js"
import type { HudRenderer, HudRenderOptions } from "./HudView.js"
import { loadHudView } from "./loadView.js"

/** Where and how often the HUD draws. */
export interface MountOptions extends HudRenderOptions {
  /** At most one redraw per interval (default 120 ms, HUD-1). */
  readonly interval?: Duration.DurationInput
  /**
   * How long a scope closing without failure waits for the followed run's `run:completed` to be taken,
   * so the last frame shows everything published before (default 2 s).
   */
  readonly settleWithin?: Duration.DurationInput
  /** Draws on something other than Ink (tests, a plain-text embedder); the Ink view by default. */
  readonly renderer?: (state: HudState, nowMs: number) => HudRenderer
}

/** A mounted HUD. */
export interface MountedHud {
  /**
   * Adds a progress or warning line. Synchronous, so that a Logger can call it: a line the run logs
   * while the HUD is drawn would otherwise be written over the frame.
   */
  readonly note: (note: HudNote) => void
  /**
   * A stage waits for approval: the HUD draws it and steps aside (the view taken down, its frame
   * left), so that the question and the typed answer have the terminal to themselves.
   */
  readonly stepAside: (approval: HudApproval) => Effect.Effect<void>
  /** The answer is in: the HUD is drawn again, below what the question left. */
  readonly comeBack: Effect.Effect<void>
  /** The state as it is now. */
  readonly state: Effect.Effect<HudState>
}

/**
 * Whether the HUD draws in colour: as the caller says, else not when NO_COLOR is set and not empty
 * (no-color.org; it wins over FORCE_COLOR, as for help and errors). The HUD is only drawn on a terminal.
 */
export const hudColour = (options: { readonly colour?: boolean }): Effect.Effect<boolean> =>
  options.colour !== undefined
    ? Effect.succeed(options.colour)
    : Effect.map(Effect.orElseSucceed(terminalSection, () => colourSettingsOf(undefined, undefined)), (settings) => colourWanted(settings, true))

/** The event after which nothing more about the followed run comes. */
const ends = (state: HudState, event: OrchestratorEvent) => event.type === "run:completed" && event.runId === state.runId

/** Mounts the HUD until the scope closes; the bus's events from now on are what it shows. */
export const mount = (options: MountOptions = {}): Effect.Effect<MountedHud, never, EventBus | Scope.Scope> =>
  Effect.gen(function*() {
    const bus = yield* EventBus
    const interval = options.interval ?? Duration.millis(120)
    const state = yield* Ref.make(initialHudState)
    const dirty = yield* Ref.make(true)
    // Lines from a Logger arrive outside any fiber; the next draw takes them.
    let pendingNotes: Array<HudNote> = []
    const takeNotes = Effect.suspend(() => {
      const notes = pendingNotes
      pendingNotes = []
      return notes.length === 0 ? Effect.void : Ref.update(state, (s) => notes.reduce(addNote, s)).pipe(Effect.zipRight(Ref.set(dirty, true)))
    })

    const makeRenderer = options.renderer ??
      (yield* Effect.map(Effect.zip(Effect.promise(loadHudView), hudColour(options)), ([view, colour]) => (s: HudState, now: number) =>
        view.renderHud(s, now, { ...options, colour })))
    // The view drawn now; none while the HUD stands aside. One fiber at a time draws, mounts or unmounts.
    let current: HudRenderer | undefined
    const screen = yield* Effect.makeSemaphore(1)
    let lastSecond = -1
    const draw = (force: boolean) =>
      Effect.gen(function*() {
        yield* takeNotes
        const now = yield* Clock.currentTimeMillis
        const second = Math.floor(now / 1000)
        const changed = yield* Ref.getAndSet(dirty, false)
        if (current === undefined || (!force && !changed && second === lastSecond)) return
        lastSecond = second
        current.update(yield* Ref.get(state), now)
      })
    const show = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(Ref.get(state), (s) =>
        Effect.sync(() => {
          current = makeRenderer(s, now)
        })))
    const takeDown = Effect.zipRight(
      draw(true),
      Effect.sync(() => {
        current?.unmount()
        current = undefined
      })
    )
    yield* Effect.acquireRelease(screen.withPermits(1)(show), () => screen.withPermits(1)(takeDown))

    const events = yield* bus.subscribe
    const consumer = yield* events.pipe(
      Stream.runForEachWhile((event) =>
        Ref.modify(state, (s) => {
          const next = reduceHud(s, event)
          return [!ends(next, event), next] as const
        }).pipe(Effect.tap(() => Ref.set(dirty, true)))
      ),
      Effect.forkScoped
    )
    // Closed after a run: the events it published are taken before the last frame (bounded: a run
    // whose run:completed never comes costs `settleWithin`). Not after an interruption (Ctrl-C), which
    // must not wait, nor after a failure.
    yield* Effect.addFinalizer((exit) =>
      Exit.isSuccess(exit)
        // Finalizers run uninterruptibly; the wait must be interruptible for its timeout to end it.
        ? Effect.asVoid(Effect.option(Effect.timeout(Effect.interruptible(Fiber.await(consumer)), options.settleWithin ?? Duration.seconds(2))))
        : Effect.void
    )
    yield* Effect.forkScoped(Effect.repeat(screen.withPermits(1)(draw(false)), Schedule.spaced(interval)))

    return {
      note: (note) => {
        pendingNotes.push(note)
      },
      // One interval first: the events published just before (the stage that finished) make the frame.
      stepAside: (approval) =>
        Effect.zipRight(
          Effect.sleep(interval),
          screen.withPermits(1)(Ref.update(state, (s) => ({ ...s, approval })).pipe(Effect.zipRight(takeDown)))
        ),
      comeBack: screen.withPermits(1)(
        Ref.update(state, (s) => ({ ...s, approval: null })).pipe(Effect.zipRight(Effect.suspend(() => current === undefined ? show : Effect.void)))
      ),
      state: Ref.get(state)
    }
  })
