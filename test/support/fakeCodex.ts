/**
 * A fake `codex` for the review tests: `--help` lists a review command (or not), anything else
 * appends its arguments (NUL-separated, one call a line) to $FAKE_CODEX_LOG, prints a line and exits
 * with $FAKE_CODEX_EXIT.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export const writeFakeCodex = (dir: string, options: { readonly withReview?: boolean; readonly name?: string } = {}): string => {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, options.name ?? "codex")
  const commands = options.withReview === false ? "  exec    Run non-interactively" : "  exec    Run non-interactively\\n  review  Run a code review"
  writeFileSync(
    file,
    [
      "#!/bin/sh",
      `if [ "$1" = "--help" ]; then printf 'Codex CLI\\n\\nCommands:\\n${commands}\\n'; exit 0; fi`,
      "log=\"${FAKE_CODEX_LOG:-/dev/null}\"",
      `printf '%s\\0' "$(basename "$0")" "$@" >> "$log"`,
      "printf '\\n' >> \"$log\"",
      "echo \"fake review of $# arguments\"",
      "exit \"${FAKE_CODEX_EXIT:-0}\"",
      ""
    ].join("\n")
  )
  chmodSync(file, 0o755)
  return file
}

/** Every call the fake recorded: its own name, then its arguments. */
export const fakeCodexCalls = (log: string): ReadonlyArray<ReadonlyArray<string>> =>
  existsSync(log)
    ? readFileSync(log, "utf8").split("\0\n").filter((call) => call.length > 0).map((call) => call.split("\0"))
    : []
