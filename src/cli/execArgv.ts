/**
 * `exec`'s command line as SPEC EXEC-1 reads it, put in the one form the command-line parser reads
 * without surprises: options first (`--k=v` split, a bare `--json` given its default style), then
 * `--`, then the command and its arguments untouched. The parser alone would take an unknown option
 * for the command (`--jsnl` would be run) and cannot read an option whose value is optional; an
 * unknown option here is a usage error instead (exit 2, nothing run).
 */
import { Effect } from "effect"
import { UsageError } from "./usage.js"

/** The options of `exec` that take a value, and what to say when the value is missing. */
export const execValueOptions: Readonly<Record<string, string>> = {
  cwd: "--cwd requires a directory.",
  notify: "--notify requires a target URI.",
  "otel-endpoint": "--otel-endpoint requires a collector URL.",
  task: "--task requires a task id."
}

/** The options of `exec` that may be given more than once; any other twice is refused, as the parser refuses it for `start`. */
const repeatable: ReadonlySet<string> = new Set(["--notify", "--help", "-h"])

/** The options of `exec` that take none. */
export const execFlagOptions: ReadonlySet<string> = new Set(["jsonl", "verbose", "help"])

export const jsonStyles = ["compact", "pretty"] as const

const isJsonStyle = (word: string | undefined): word is (typeof jsonStyles)[number] =>
  word === "compact" || word === "pretty"

/** One option at `words[at]` in its parser form, and how many words it took; a UsageError if it is not one. */
const readOption = (words: ReadonlyArray<string>, at: number): { readonly out: ReadonlyArray<string>; readonly took: number } | UsageError => {
  const word = words[at] ?? ""
  if (word === "-h") return { out: [word], took: 1 }
  const equals = word.indexOf("=")
  const name = word.slice(2, equals < 0 ? undefined : equals)
  const inline = equals < 0 ? undefined : word.slice(equals + 1)
  if (!word.startsWith("--")) return new UsageError({ reason: `unknown option ${word}.` })
  if (name === "json") {
    if (inline !== undefined && !isJsonStyle(inline)) {
      return new UsageError({ reason: `--json takes compact or pretty, not '${inline}'.` })
    }
    const next = words[at + 1]
    if (inline === undefined && isJsonStyle(next)) return { out: ["--json", next], took: 2 }
    return { out: ["--json", inline ?? "pretty"], took: 1 }
  }
  const missing = execValueOptions[name]
  if (missing !== undefined) {
    const value = inline ?? words[at + 1]
    if (value === undefined || value.length === 0) return new UsageError({ reason: missing })
    return { out: [`--${name}`, value], took: inline === undefined ? 2 : 1 }
  }
  if (execFlagOptions.has(name) && inline === undefined) return { out: [word], took: 1 }
  return new UsageError({ reason: `unknown option --${name}.` })
}

/**
 * The process's argv with an `exec` command line normalised (anything else unchanged). The command
 * starts at `--` or at the first word that is not an option.
 */
export const normaliseExecArgv = (argv: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, UsageError> =>
  Effect.suspend(() => {
    if (argv[2] !== "exec") return Effect.succeed(argv)
    const words = argv.slice(3)
    const options: Array<string> = []
    const seen = new Set<string>()
    let at = 0
    while (at < words.length) {
      const word = words[at] ?? ""
      if (word === "--") {
        at += 1
        break
      }
      if (!word.startsWith("-") || word === "-") break
      const read = readOption(words, at)
      const name = read instanceof UsageError ? "" : read.out[0] ?? ""
      // Twice, the parser would take the second for the command and run it (`--task b echo`).
      const problem = read instanceof UsageError
        ? read.reason
        : seen.has(name) && !repeatable.has(name)
        ? `${name} is given more than once.`
        : undefined
      // As the parser's usage errors say (usageLines.ts): where the command's flags are described.
      if (problem !== undefined || read instanceof UsageError) {
        return Effect.fail(new UsageError({ reason: `${problem} See 'codex-orchestrator exec --help'.` }))
      }
      seen.add(name)
      options.push(...read.out)
      at += read.took
    }
    const command = words.slice(at)
    return Effect.succeed([...argv.slice(0, 3), ...options, ...(command.length === 0 ? [] : ["--", ...command])])
  })
