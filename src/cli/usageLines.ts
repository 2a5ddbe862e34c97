/**
 * The parser's usage errors as the CLI's other bad input (D-1): one `error:` line naming the flag or
 * argument and the command's `--help`, exit 2. @effect/cli prints its own text first, without the
 * prefix and often without the flag ("Expected one of the following cases: never, on-request,
 * auto"); here that print is held back and the error becomes a UsageError, which the edge prints.
 */
import { CliConfig, Command, CommandDescriptor, HelpDoc, type Usage, ValidationError } from "@effect/cli"
import { Console, Effect, FiberRef, HashSet } from "effect"
import { stripAnsi } from "../domain/Colour.js"
import { UsageError } from "./usage.js"

const nameOf = (command: CommandDescriptor.Command<unknown>) => [...HashSet.values(CommandDescriptor.getNames(command))][0] ?? ""

/**
 * A command's subcommands by name. `CommandDescriptor.getSubcommands` gives a nested command group
 * as its parent alone, so the descriptor is read as @effect/cli 0.77 builds it: `Map` wraps a
 * command, `Subcommands` holds its `children`.
 */
const subcommandsOf = (command: unknown): ReadonlyMap<string, CommandDescriptor.Command<unknown>> => {
  const node = command as { readonly _tag?: string; readonly command?: unknown; readonly children?: ReadonlyArray<CommandDescriptor.Command<unknown>> }
  if (node._tag === "Map") return subcommandsOf(node.command)
  if (node._tag !== "Subcommands" || !Array.isArray(node.children)) return new Map()
  return new Map(node.children.map((child) => [nameOf(child), child]))
}

/** The words of `args` that name subcommands, from the root down, and the command they reach. */
const commandPath = (root: CommandDescriptor.Command<unknown>, args: ReadonlyArray<string>) => {
  const path: Array<string> = []
  let command = root
  for (const arg of args) {
    const next = subcommandsOf(command).get(arg)
    if (next === undefined) break
    path.push(arg)
    command = next
  }
  return { path, command }
}

/** Every flag name the usage of a command shows (`--task`, `-f`); `withValue`: only those that take a value. */
const flagNames = (usage: Usage.Usage, withValue = false): ReadonlyArray<string> => {
  switch (usage._tag) {
    case "Named":
      return withValue && usage.acceptedValues._tag === "None" ? [] : usage.names.filter((name) => name.startsWith("-"))
    case "Optional":
    case "Repeated":
      return flagNames(usage.usage, withValue)
    case "Alternation":
    case "Concat":
      return [...flagNames(usage.left, withValue), ...flagNames(usage.right, withValue)]
    default:
      return []
  }
}

/** The flags of `command` that take a value (for runIdOf: what a dangling one may be). */
export const valueFlagsOf = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>) => flagNames(Command.getUsage(command), true)

/** The flags given after the command's words, each with its value and the argument indexes it takes. */
const givenFlags = (args: ReadonlyArray<string>, from: number) =>
  args.flatMap((arg, i): ReadonlyArray<{ readonly flag: string; readonly value: string | undefined; readonly indexes: ReadonlyArray<number> }> => {
    if (i < from || !arg.startsWith("-") || arg === "--" || args.slice(from, i).includes("--")) return []
    const equals = arg.indexOf("=")
    if (equals > 0) return [{ flag: arg.slice(0, equals), value: arg.slice(equals + 1), indexes: [i] }]
    const next = args[i + 1]
    return next === undefined || next.startsWith("-")
      ? [{ flag: arg, value: undefined, indexes: [i] }]
      : [{ flag: arg, value: next, indexes: [i, i + 1] }]
  })

/** The parser's text for `error` on one line ("'x' is not a integer" made "an integer"). */
const text = (error: ValidationError.ValidationError) =>
  stripAnsi(HelpDoc.toAnsiText(error.error)).split("\n").map((line) => line.trim()).filter((line) => line.length > 0).join("; ")
    .replace(/ is not a (?=[aeiou])/g, " is not an ")

const unknownArgument = /^Received unknown argument: '(.*)'$/

/**
 * The one line for `error`, a failure of the command line `args` (the root's name excluded): what is
 * wrong, naming the flag or argument, then where the command's flags are described.
 */
const usageReason = (
  root: CommandDescriptor.Command<unknown>,
  program: string,
  error: ValidationError.ValidationError,
  args: ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const { command, path } = commandPath(root, args)
    const help = `See '${[program, ...path, "--help"].join(" ")}'.`
    const said = text(error)
    if (ValidationError.isCommandMismatch(error) || ValidationError.isMissingSubcommand(error)) {
      const given = args[path.length]
      const known = [...subcommandsOf(command).keys()].join(", ")
      const what = given === undefined ? "a command is missing" : `'${given}' is not a command`
      return `${[program, ...path].join(" ")}: ${what} (one of ${known}). ${help}`
    }
    const unknown = unknownArgument.exec(said)?.[1]
    if (unknown !== undefined) {
      const flags = flagNames(CommandDescriptor.getUsage(command))
      const givenTwice = (flag: string) => args.filter((arg) => arg === flag || arg.startsWith(`${flag}=`)).length > 1
      if (!unknown.startsWith("-")) {
        // A flag given twice leaves its second value over as an argument (status and resume, whose
        // run id may be one): the flag is what to name, not that value.
        const repeated = flags.find(givenTwice)
        return repeated === undefined ? `unexpected argument '${unknown}'. ${help}` : `${repeated} is given more than once. ${help}`
      }
      // `--format=` (nothing after the `=`) reaches here whole: the flag is `--format`, its value
      // missing; so does a second `--run=s`: the flag is `--run`, given twice.
      const flag = unknown.includes("=") ? unknown.slice(0, unknown.indexOf("=")) : unknown
      if (!flags.includes(flag)) return `unknown option ${unknown}. ${help}`
      return `${flag} ${givenTwice(flag) ? "is given more than once" : "needs a value"}. ${help}`
    }
    // A value the flag refuses: the flag is the one without which the command line parses otherwise.
    const config = CliConfig.defaultConfig
    for (const given of givenFlags(args, path.length)) {
      const without = args.filter((_, i) => !given.indexes.includes(i))
      const reparsed = yield* Effect.either(CommandDescriptor.parse(root, [nameOf(root), ...without], config))
      // Without a flag the command needs, the parser says that flag is missing: not the culprit.
      if (reparsed._tag === "Right" || (text(reparsed.left) !== said && !text(reparsed.left).includes(given.flag))) {
        // A flag the command does not have, where the parser expected an argument (`start -x --task t`).
        if (!flagNames(CommandDescriptor.getUsage(command)).includes(given.flag)) return `unknown option ${given.flag}. ${help}`
        return `${given.flag}${given.value === undefined ? "" : ` ${JSON.stringify(given.value)}`}: ${said.replace(/\.$/, "")}. ${help}`
      }
    }
    return `${said.replace(/\.$/, "")}. ${help}`
  })

/** Whether the running code is a command's handler (after parsing), where the Console is the command's own. */
const inHandler = FiberRef.unsafeMake(false)

/**
 * Runs the command line `args` on `root` as `Command.run` does, failing with a UsageError (its line
 * from `usageReason`) where the parser fails; the parser's own print is dropped. A command's handler
 * keeps the Console as it is (its progress lines on stderr).
 */
export const runWithUsageLines = <Name extends string, R, E, A>(
  root: Command.Command<Name, R, E, A>,
  config: { readonly name: string; readonly version: string }
) => {
  const run = Command.run(root.pipe(Command.transformHandler((handler) => Effect.locally(handler, inHandler, true))), config)
  return (argv: ReadonlyArray<string>) =>
    Console.consoleWith((console) =>
      Effect.withConsole(run(argv), {
        ...console,
        error: (...parts) => Effect.flatMap(FiberRef.get(inHandler), (running) => (running ? console.error(...parts) : Effect.void))
      })
    ).pipe(
      Effect.catchIf(
        (error): error is ValidationError.ValidationError => ValidationError.isValidationError(error) && !ValidationError.isHelpRequested(error),
        (error) =>
          Effect.flatMap(
            usageReason(root.descriptor, config.name, error, argv.slice(2)),
            (reason) => Effect.fail(new UsageError({ reason }))
          )
      )
    )
}
