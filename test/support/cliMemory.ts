/**
 * Runs a command line in the test, on the engine around it (the test kit's in-memory app): its exit,
 * its exit code (D-1) and what it printed on stdout and stderr (the Console's log and error).
 */
import { Command } from "@effect/cli"
import { Cause, Console, Effect, Exit, Option, Ref } from "effect"
import * as Cli from "../../src/cli/index.js"

/** Runs `program`, capturing what it prints through the Console. */
export const captured = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const out = yield* Ref.make<ReadonlyArray<string>>([])
    const err = yield* Ref.make<ReadonlyArray<string>>([])
    const console = yield* Console.consoleWith(Effect.succeed)
    const into = (lines: Ref.Ref<ReadonlyArray<string>>) => (...parts: ReadonlyArray<unknown>) =>
      Ref.update(lines, (all) => [...all, parts.join(" ")])
    const exit = yield* program.pipe(Effect.withConsole({ ...console, log: into(out), error: into(err) }), Effect.exit)
    return { code: Cli.exitCode(exit), exit, stdout: (yield* Ref.get(out)).join("\n"), stderr: (yield* Ref.get(err)).join("\n") }
  })

/** `command` run on the command line `args`, as `Command.run` runs it. */
export const runCommandLine = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>, args: ReadonlyArray<string>) =>
  captured(Command.run(command, { name: "cli", version: "1.0.0" })(["node", "cli", ...args]))

/** The message of the error a command line failed with (its defect, pretty, when it died). */
export const failureOf = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit)
    ? Option.match(Cause.failureOption(exit.cause), {
      onNone: () => Cause.pretty(exit.cause),
      onSome: (error) => (error instanceof Error ? error.message : String(error))
    })
    : "(succeeded)"
