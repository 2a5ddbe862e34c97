/**
 * Running the README's shell examples as written: the ```sh lines of a section, each through
 * `sh -c` with an `npx` on PATH that answers for the built CLI (and refuses anything else).
 */
import { execFileSync, spawnSync } from "node:child_process"
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
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

/**
 * A copy of the repository as a reader has it after `npm install && npm run build`, under git, in a
 * new temporary folder whose name starts with `prefix`: the package's config, pipelines and README, `dist/`
 * linked. `.gitignore` is the repository's own (`keepGitignore`) or one of the runs folders, with
 * `dist/` added either way. The folder is readable by other users: under root, PostgreSQL runs as
 * its own user and must reach a data folder made in there.
 */
export const copyOfRepository = (prefix: string, keepGitignore: boolean): string => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  chmodSync(dir, 0o755)
  for (const name of ["package.json", "codex.orchestrator.json", "pipelines", "README.md"]) {
    cpSync(join(packageRoot, name), join(dir, name), { recursive: true })
  }
  symlinkSync(join(packageRoot, "dist"), join(dir, "dist"))
  const ignored = keepGitignore ? readFileSync(join(packageRoot, ".gitignore"), "utf8") : ".runs/\nout/\n"
  writeFileSync(join(dir, ".gitignore"), `${ignored}dist\n`)
  const git = (...args: ReadonlyArray<string>) =>
    execFileSync("git", ["-c", "user.name=readme", "-c", "user.email=readme@example.invalid", ...args], { cwd: dir, stdio: "ignore" })
  git("init", "-q")
  git("add", "-A")
  git("commit", "-q", "-m", "copy")
  return dir
}
