import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { App, EventBus, Reviewer, RunEngine } from "codex-orchestrator"
import { Console, Context, Effect, Layer, Logger, LogLevel } from "effect"
import { ci } from "./pipelines.js"

/** The app's release calendar; the reviewer below asks it. */
class ReleaseWindow extends Context.Tag("myapp/ReleaseWindow")<ReleaseWindow, { readonly open: Effect.Effect<boolean> }>() {}

/** A reviewer of one's own: approves a successful build only while the release window is open. */
const WindowReviewer = Layer.effect(
  Reviewer.Reviewer,
  Effect.map(ReleaseWindow, (window) =>
    Reviewer.Reviewer.of({
      review: ({ build }) =>
        Effect.map(window.open, (open) =>
          open && build.success
            ? { summary: `Release ${build.runId}.`, decision: { approved: true } }
            : { summary: "Held.", decision: { approved: false, feedback: "Wait for the release window." } })
    }))
)

// Any subset of the agents (Planner, Builder, Tester, Reviewer); the others stay the CLI's own.
const AppLayer = App.makeAppLayer({ settings: { repoRoot: process.cwd() }, pipelines: [ci], agents: WindowReviewer }).pipe(
  Layer.provide(Layer.succeed(ReleaseWindow, { open: Effect.succeed(false) })),
  Layer.provide(NodeContext.layer)
)

const main = Effect.gen(function*() {
  yield* (yield* EventBus.EventBus).on("review:completed", (event) =>
    Console.log(`review: ${event.review.summary} approved=${event.review.decision.approved}`))
  const { manifest } = yield* (yield* RunEngine.RunEngine).start({ pipelineId: "ci", taskId: "demo" })
  yield* Console.log(`run: ${manifest.status}`)
})

NodeRuntime.runMain(main.pipe(Effect.scoped, Effect.provide(AppLayer), Logger.withMinimumLogLevel(LogLevel.Warning)))
