/**
 * The entry point of `status` alone (the executable picks it when the first argument is `status`):
 * the same command as in main.ts, without the other commands and without processes, so that the
 * most frequent read starts quickly (issue 3's speed target). The full CLI still has `status` too.
 */
import { Command } from "@effect/cli"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Effect, Layer } from "effect"
import { AppBaseLive } from "../layers/AppBase.js"
import { runCli } from "./edge.js"
import { version } from "./shared.js"
import { status } from "./status.js"

const root = Command.make("codex-orchestrator").pipe(Command.withSubcommands([status]))
const platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

runCli(
  Command.run(root, { name: "codex-orchestrator", version })(process.argv).pipe(
    Effect.provide(AppBaseLive.pipe(Layer.provideMerge(platform)))
  )
)
