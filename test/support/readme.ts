/**
 * Running the README's shell examples as written: the ```sh lines of a section, each through
 * `sh -c` with an `npx` on PATH that answers for the built CLI (and refuses anything else).
 */
import { spawnSync } from "node:child_process"
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cliEnv, cliPath, packageRoot } from "./cli.js"

/** The command lines of the ```sh blocks under `heading` (a `##` or `###` line), up to the next heading of that level or above. */
export const readmeCommands = (heading: string): ReadonlyArray<string> => {
  const readme = readFileSync(join(packageRoot, "README.md"), "utf8")
  const start = readme.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`README.md has no "${heading}" heading`)
  const level = (heading.split(" ")[0] ?? "##").length
  const rest = readme.slice(start + heading.length + 1)
  const end = new RegExp(`\n#{1,${level}} `).exec(rest)?.index
  const section = rest.slice(0, end)
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    (m[1] ?? "").split("\n").filter((line) => line.trim().length > 0 && !line.trim().startsWith("#"))
  )
}

/** Writes `<dir>/.shim/npx`, which runs the built CLI for `npx codex-orchestrator ...`; returns the folder. */
export const npxShim = (dir: string): string => {
  const bin = join(dir, ".shim")
  mkdirSync(bin, { recursive: true })
  writeFileSync(
    join(bin, "npx"),
    `#!/bin/sh\nif [ "$1" = "codex-orchestrator" ]; then shift; exec "${process.execPath}" "${cliPath}" "$@"; fi\n` +
      `echo "npx $*: only codex-orchestrator is available here" >&2\nexit 99\n`
  )
  chmodSync(join(bin, "npx"), 0o755)
  return bin
}

export interface ShellResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs one line with `sh -c` in `cwd`, the test environment (cliEnv) plus `env`, `pathFirst` ahead on PATH. */
export const runLine = (
  line: string,
  cwd: string,
  pathFirst: string,
  env: Readonly<Record<string, string | undefined>> = {}
): ShellResult => {
  const base = cliEnv(env)
  const result = spawnSync("sh", ["-c", line], {
    cwd,
    env: { ...base, PATH: `${pathFirst}:${base["PATH"] ?? ""}` },
    encoding: "utf8"
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}
