/**
 * Real git repositories for the review-gate integration tests: a temporary repository with a local
 * identity and fixed dates, files written and committed in one call, and the built CLI run in it.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { type CliResult, runCli } from "./cli.js"

export interface GitRepo {
  readonly dir: string
  readonly path: (...segments: ReadonlyArray<string>) => string
  readonly git: (...args: ReadonlyArray<string>) => string
  /** Writes the files (relative paths) without staging them. */
  readonly write: (files: Readonly<Record<string, string | Uint8Array>>) => void
  /** Writes, stages everything and commits; returns the new commit's sha. */
  readonly commit: (message: string, files?: Readonly<Record<string, string | Uint8Array>>) => string
  readonly cli: (args: ReadonlyArray<string>, env?: Readonly<Record<string, string | undefined>>) => Promise<CliResult>
  readonly cleanup: () => void
}

/** The guards read BASE_SHA and DIFF_BUDGET_*; a developer's shell must not leak into a test. */
const quietEnv: Readonly<Record<string, undefined>> = {
  BASE_SHA: undefined,
  DIFF_BUDGET_BASE: undefined,
  DIFF_BUDGET_MAX_FILES: undefined,
  DIFF_BUDGET_MAX_LINES: undefined,
  DIFF_BUDGET_OVERRIDE_REASON: undefined,
  NOTES: undefined,
  MANIFEST: undefined,
  CODEX_BIN: undefined,
  CODEX_REVIEW_DEVTOOLS: undefined,
  SKIP_DIFF_BUDGET: undefined,
  DIFF_BUDGET_STAGE: undefined
}

/** A git repository in a temp folder with `files` as its first commit (none: no commit yet). */
export const makeGitRepo = (files?: Readonly<Record<string, string | Uint8Array>>): GitRepo => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "codex-orchestrator-gate-")))
  const git = (...args: ReadonlyArray<string>) =>
    execFileSync("git", args, {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z" }
    })
  const write = (entries: Readonly<Record<string, string | Uint8Array>>) => {
    for (const [file, content] of Object.entries(entries)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true })
      writeFileSync(join(dir, file), content)
    }
  }
  const commit = (message: string, entries: Readonly<Record<string, string | Uint8Array>> = {}) => {
    write(entries)
    git("add", "-A")
    git("commit", "-q", "--allow-empty", "-m", message)
    return git("rev-parse", "HEAD").trim()
  }
  git("init", "-q", "-b", "main")
  git("config", "user.email", "gate@example.com")
  git("config", "user.name", "Gate Test")
  git("config", "commit.gpgsign", "false")
  if (files !== undefined) commit("initial", files)
  return {
    dir,
    path: (...segments) => join(dir, ...segments),
    git,
    write,
    commit,
    cli: (args, env = {}) => runCli(args, { cwd: dir, env: { ...quietEnv, ...env } }),
    cleanup: () => rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs `f` with a fresh repository and removes it afterwards, whatever happens. */
export const withGitRepo = async <A>(
  files: Readonly<Record<string, string | Uint8Array>> | undefined,
  f: (repo: GitRepo) => Promise<A>
): Promise<A> => {
  const repo = makeGitRepo(files)
  try {
    return await f(repo)
  } finally {
    repo.cleanup()
  }
}

/** `YYYY-MM-DD` of today minus `days`, in UTC (the spec guard's calendar). */
export const utcDate = (daysAgo: number): string => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)
