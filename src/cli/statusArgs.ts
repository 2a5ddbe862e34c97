/**
 * A quick parser for the plain `status` command lines (issue 3: `status` starts within a few tens of
 * milliseconds of Node itself, and @effect/cli costs ~20 ms to load and parse). It reads only the
 * unambiguous forms: `--run <id>`, `--task <id>`, `--format text|json`, `--interval <digits>` (each
 * also as `--name=value`), `--watch`, `--verbose` and one positional run id, each at most once.
 * Anything else (help, another option, a repeated or odd value, no run id) is left to @effect/cli,
 * so usage errors and `--help` are exactly the full CLI's. Pure, and checked against @effect/cli's
 * own parse of the `status` options (test/statusArgs.test.ts).
 */
import type { StatusFlags } from "./statusReport.js"

const valued = ["--run", "--task", "--format", "--interval"] as const
type Valued = typeof valued[number]
const bare = ["--watch", "--verbose"] as const
/** Words @effect/cli takes as the value of a boolean flag they follow (`--watch yes`). */
const booleanWords = new Set(["true", "1", "y", "yes", "on", "false", "0", "n", "no", "off"])

/**
 * A value @effect/cli reads the same way we do: not empty, not an option, no `=`, and no whitespace
 * or control character (it trims values, and its `--name=value` pattern stops at a line break).
 */
const plain = (value: string | undefined): value is string =>
  value !== undefined && value.length > 0 && !value.startsWith("-") && !/[=\s\p{Cc}]/u.test(value)

/**
 * The flags of `status <args>` (the words after `status`), or undefined when @effect/cli should parse
 * them.
 */
export const parseStatusArgs = (args: ReadonlyArray<string>): StatusFlags | undefined => {
  const values = new Map<Valued | "positional", string>()
  const flags = new Set<string>()
  for (let i = 0; i < args.length; i++) {
    const word = args[i] ?? ""
    if ((bare as ReadonlyArray<string>).includes(word)) {
      if (flags.has(word) || booleanWords.has(args[i + 1] ?? "")) return undefined
      flags.add(word)
      continue
    }
    const equals = word.indexOf("=")
    const name = equals === -1 ? word : word.slice(0, equals)
    if ((valued as ReadonlyArray<string>).includes(name)) {
      const value = equals === -1 ? args[++i] : word.slice(equals + 1)
      if (!plain(value) || values.has(name as Valued)) return undefined
      values.set(name as Valued, value)
      continue
    }
    if (!plain(word) || values.has("positional")) return undefined
    values.set("positional", word)
  }
  const runId = values.get("--run") ?? values.get("positional")
  const format = values.get("--format") ?? "text"
  const interval = values.get("--interval") ?? "10"
  const understood = runId !== undefined && !(values.has("--run") && values.has("positional")) &&
    (format === "text" || format === "json") && /^[0-9]{1,9}$/.test(interval)
  return understood
    ? { runId, taskId: values.get("--task"), format, watch: flags.has("--watch"), interval: Number(interval) }
    : undefined
}
