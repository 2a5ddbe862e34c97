/** The CLI's main entry point: every command, on Node's full platform context (processes included). */
import { ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Layer } from "effect"
import { AppBaseLive } from "../layers/App.js"
import { runCli } from "./edge.js"
// The same module an app imports as `codex-orchestrator/cli`.
import { cli } from "./index.js"

runCli(
  cli(process.argv).pipe(Effect.provide(AppBaseLive.pipe(Layer.provideMerge(NodeContext.layer)))),
  ValidationError.isValidationError
)
