import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { App } from "codex-orchestrator"
import * as Cli from "codex-orchestrator/cli"
import { Console, Effect, Layer } from "effect"
import { ci } from "./pipelines.js"

// `myapp orch start|plan|status|resume|exec ...`: every flag of the package's own command line,
// on an engine configured from code.
const orch = Cli.rootCommandOn("orch", App.engineLayer({ pipelines: [ci] }))
const hello = Command.make("hello", {}, () => Console.log("hello from myapp"))
const myapp = Command.make("myapp").pipe(Command.withSubcommands([orch, hello]))

// Command.run as the package's own binary runs it: a usage error is one line naming the flag and
// `myapp orch start --help`, not the parser's own text.
const program = Cli.runWithUsageLines(myapp, { name: "myapp", version: "1.0.0" })(process.argv).pipe(
  // What the commands need besides the engine: the base services (settings, files, runs) and Node.
  Effect.provide(App.AppBaseLive.pipe(Layer.provideMerge(NodeContext.layer)))
)

// Runs it as the package's own binary runs: progress on stderr, one line per failure, exit codes
// 0 (succeeded), 1 (the run failed), 2 (bad input), 130 (interrupted).
Cli.runCli(program, ValidationError.isValidationError)
