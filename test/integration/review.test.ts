/** `review` (GRD-5) through the built CLI, against a fake codex that records its arguments. */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { assert, beforeAll, describe, it } from "vitest"
import { describeResult, requireBuiltCli, spawnCli } from "../support/cli.js"
import { fakeCodexCalls, writeFakeCodex } from "../support/fakeCodex.js"
import { type GitRepo, withGitRepo } from "../support/gitRepo.js"

beforeAll(requireBuiltCli)

const notes = "Goal: gate | Summary: adds review | Risks: none"
const manifest = (task: string) => `${JSON.stringify({ run_id: "r", task_id: task, status: "succeeded" })}\n`
const files = {
  ".gitignore": ".runs/\n.bin/\n",
  "src/a.ts": "export const a = 1\n",
  "tasks/index.json": JSON.stringify({ items: [{ id: "t1", slug: "gate", title: "Gate" }] }),
  "tasks/tasks-t1-gate.md": "# Task t1 — Gate\n\n## Checklist\n- [x] guards\n- [ ] review\n",
  "docs/PRD.md": "# PRD\n- Agents hand work to review\n- Evidence is a manifest\n"
}

const setup = (repo: GitRepo) => {
  repo.write({ ".runs/t1/cli/r1/manifest.json": manifest("t1") })
  repo.write({ ".runs/t1/cli/r2/manifest.json": manifest("t1") })
  repo.git("update-ref", "refs/remotes/origin/main", "HEAD")
  const codex = writeFakeCodex(repo.path(".bin"))
  const log = repo.path(".bin", "calls.log")
  return { codex, log, env: { CODEX_BIN: codex, FAKE_CODEX_LOG: log, NOTES: notes } }
}

/** A codex whose every call (--help included) waits two minutes. */
const hanging = (file: string) => {
  writeFileSync(file, "#!/bin/sh\nsleep 120\n", { mode: 0o755 })
  return file
}

describe("review", () => {
  it("builds the prompt from the newest manifest, saves it next to it and runs codex review with it", () =>
    withGitRepo(files, async (repo) => {
      const { env, log } = setup(repo)
      // the newest by modification time, whatever the name
      repo.write({ ".runs/t1/cli/r0/manifest.json": manifest("t1") })
      repo.write({ "src/a.ts": "export const a = 2\n" })
      const result = await repo.cli(["review", "--title", "Gate review"], env)
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(result.stdout, "fake review of 4 arguments\n")
      assert.include(result.stderr, "✅ Diff budget: OK (base=origin/main, files=1/25, lines=2/800, +1/-1)")
      assert.include(result.stderr, "[run-review] prompt saved to .runs/t1/cli/r0/review-prompt.md")
      const calls = fakeCodexCalls(log).filter((call) => call[1] !== "--help")
      assert.strictEqual(calls.length, 1)
      const [name, sub, titleFlag, title, prompt] = calls[0] ?? []
      assert.deepStrictEqual([name, sub, titleFlag, title], ["codex", "review", "--title", "Gate review"])
      assert.strictEqual(prompt, readFileSync(repo.path(".runs/t1/cli/r0/review-prompt.md"), "utf8"))
      assert.match(prompt ?? "", /^Review task: t1\nEvidence manifest: \.runs\/t1\/cli\/r0\/manifest\.json\n\n/)
      assert.include(prompt, "Task context:\n- Task checklist: tasks/tasks-t1-gate.md\n  - [x] guards\n  - [ ] review\n")
      assert.include(prompt, "- PRD summary (docs/PRD.md):\n  - Agents hand work to review\n  - Evidence is a manifest\n")
      assert.include(prompt, `Agent notes:\n${notes}\n\nReview checklist:\n- Does the change do what`)
      assert.include(prompt, "Scope: the uncommitted changes in the working tree (git diff HEAD, plus untracked files).\n M src/a.ts")
    }))

  it("with --commit and an override: the scope names the commit, the override is in the prompt; --manifest wins", () =>
    withGitRepo(files, async (repo) => {
      const { env, log } = setup(repo)
      const sha = repo.commit("change", { "src/a.ts": "export const a = 3\n" })
      const result = await repo.cli(["review", "--commit", sha, "--manifest", ".runs/t1/cli/r1/manifest.json"], {
        ...env,
        DIFF_BUDGET_OVERRIDE_REASON: "migration"
      })
      assert.strictEqual(result.code, 0, describeResult(result))
      const prompt = readFileSync(repo.path(".runs/t1/cli/r1/review-prompt.md"), "utf8")
      assert.include(prompt, "Evidence manifest: .runs/t1/cli/r1/manifest.json\n")
      assert.include(prompt, `Scope: commit ${sha} only (git show ${sha}).\n${sha.slice(0, 7)} change\n`)
      assert.match(prompt, /\n\nDiff budget override: migration\n$/)
      assert.strictEqual(fakeCodexCalls(log).filter((c) => c[1] === "review").length, 1)
    }))

  it("stops before codex when the diff budget fails (report on stdout, exit 1); SKIP_DIFF_BUDGET=1 skips it", () =>
    withGitRepo(files, async (repo) => {
      const { env, log } = setup(repo)
      repo.write({ "src/b.ts": "b\n", "src/c.ts": "c\n" })
      const over = await repo.cli(["review"], { ...env, DIFF_BUDGET_MAX_FILES: "1" })
      assert.strictEqual(over.code, 1, describeResult(over))
      assert.match(over.stdout, /^❌ Diff budget exceeded \(base=origin\/main\)\n - changed files 2 > 1\n/)
      assert.deepStrictEqual(fakeCodexCalls(log), [])
      const skipped = await repo.cli(["review"], { ...env, DIFF_BUDGET_MAX_FILES: "1", SKIP_DIFF_BUDGET: "1" })
      assert.strictEqual(skipped.code, 0, describeResult(skipped))
      assert.notInclude(skipped.stderr, "Diff budget")
    }))

  it("a failing codex review exits 1 with one line", () =>
    withGitRepo(files, async (repo) => {
      const { env } = setup(repo)
      const result = await repo.cli(["review"], { ...env, FAKE_CODEX_EXIT: "3" })
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.include(result.stderr, "[run-review] failed: codex review exited with code 3\n")
    }))

  it("exits 2 with one line when something is missing: manifest, NOTES, codex, codex review", () =>
    withGitRepo(files, async (repo) => {
      const { env } = setup(repo)
      const cases: ReadonlyArray<readonly [Record<string, string | undefined>, ReadonlyArray<string>, string]> = [
        [env, ["--runs-dir", "elsewhere"], "No run manifests found. Provide --manifest or execute the orchestrator first."],
        [env, ["--task", "t9"], "No run manifests found."],
        [env, ["--manifest", "nope.json"], "Manifest nope.json does not exist"],
        [env, ["--manifest", "src"], "Manifest src is a folder; pass the manifest.json of a run."],
        [env, ["--manifest", "src/a.ts"], "Manifest src/a.ts is not a run manifest (JSON with a task_id); pass the manifest.json of a run."],
        [env, ["--task", "../../outside"], "Invalid task ID \"../../outside\": leading dots are not allowed."],
        [{ ...env, NOTES: " " }, [], "NOTES is required for a review hand-off: NOTES=\"Goal: ... | Summary: ..."],
        [{ ...env, CODEX_BIN: repo.path("no-codex") }, [], "codex is not available"],
        [{ ...env, CODEX_BIN: writeFakeCodex(repo.path(".bin", "old"), { withReview: false }) }, [], "lists no review command"],
        // a codex whose --help never answers: 10 s, then the same kind of line (it waited for ever)
        [{ ...env, CODEX_BIN: hanging(repo.path("hanging-codex")) }, [], "--help\" did not answer within 10 s"]
      ]
      for (const [caseEnv, args, message] of cases) {
        const result = await repo.cli(["review", ...args], caseEnv)
        assert.strictEqual(result.code, 2, `${message}\n${describeResult(result)}`)
        assert.include(result.stderr, message)
        assert.strictEqual(result.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1)
      }
      // nothing was written beside a file that is not a manifest, nor outside the runs folder
      assert.isFalse(existsSync(repo.path("src", "review-prompt.md")))
    }))

  it("a slug in tasks/index.json that is a path is not followed for the task checklist", () =>
    withGitRepo({ ...files, "tasks/index.json": JSON.stringify({ items: [{ id: "t1", slug: "x/../../escaped", title: "Gate" }] }) }, async (repo) => {
      const { env } = setup(repo)
      // tasks/tasks-t1-x/../../escaped.md is escaped.md at the root
      repo.write({ "escaped.md": "## Checklist\n- [ ] not the task's\n" })
      const result = await repo.cli(["review", "--manifest", ".runs/t1/cli/r1/manifest.json"], env)
      assert.strictEqual(result.code, 0, describeResult(result))
      const prompt = readFileSync(repo.path(".runs/t1/cli/r1/review-prompt.md"), "utf8")
      assert.notInclude(prompt, "not the task's")
    }))

  it("skips what is not a folder in the runs folder (a note, a task's stray file) when it looks for the newest manifest", () =>
    withGitRepo(files, async (repo) => {
      const { env } = setup(repo)
      repo.write({ ".runs/notes.txt": "kept by hand\n", ".runs/t2/cli": "not a folder\n" })
      const result = await repo.cli(["review"], env)
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.match(result.stderr, /\[run-review\] prompt saved to \.runs\/t1\/cli\/r[12]\/review-prompt\.md\n/)
    }))

  it("CODEX_REVIEW_DEVTOOLS: an executable scripts/codex-devtools.sh runs the review, else codex gets the DevTools server", () =>
    withGitRepo(files, async (repo) => {
      const { env, log } = setup(repo)
      const devEnv = { ...env, CODEX_REVIEW_DEVTOOLS: "1", SKIP_DIFF_BUDGET: "1" }
      assert.strictEqual((await repo.cli(["review"], devEnv)).code, 0)
      writeFakeCodex(repo.path("scripts"), { name: "codex-devtools.sh" })
      assert.strictEqual((await repo.cli(["review"], devEnv)).code, 0)
      const calls = fakeCodexCalls(log).filter((call) => call[1] !== "--help")
      assert.deepStrictEqual(calls.map((call) => call.length), [5, 3])
      assert.deepStrictEqual(calls[0]?.slice(0, 4), ["codex", "-c", "mcp_servers.chrome-devtools.enabled=true", "review"])
      assert.deepStrictEqual(calls[1]?.slice(0, 2), ["codex-devtools.sh", "review"])
      assert.match(calls[1]?.[2] ?? "", /^Review task: t1\n/)
    }))

  it("a reader that goes away (`review | head -1`): codex's output past it is dropped and review ends with codex's code", () =>
    withGitRepo(files, async (repo) => {
      const { env } = setup(repo)
      const loud = repo.path(".bin", "loud-codex")
      const finished = repo.path("codex-finished")
      // 4 MB on stdout: far past a pipe's buffer, so a write waits for a reader that has gone.
      const script = `#!/bin/sh\nif [ "$1" = "--help" ]; then echo '  review  Run a code review'; exit 0; fi\n` +
        `head -c 4000000 /dev/zero | tr '\\0' x\ntouch '${finished}'\n`
      writeFileSync(loud, script, { mode: 0o755 })
      const cli = spawnCli(["review"], { cwd: repo.dir, env: { ...env, CODEX_BIN: loud, SKIP_DIFF_BUDGET: "1" } })
      await new Promise<void>((resolvePromise) => cli.child.stdout?.once("data", () => resolvePromise()))
      cli.child.stdout?.destroy()
      cli.child.stderr?.destroy()
      const hung = new Promise<"hung">((resolvePromise) => setTimeout(() => resolvePromise("hung"), 20_000))
      const exited = await Promise.race([cli.exited, hung])
      if (exited === "hung") {
        cli.child.kill("SIGKILL")
        // Its codex, left writing to a pipe with no reader, ends too (SIGPIPE) and touches its file.
        await new Promise((resolvePromise) => setTimeout(resolvePromise, 1_000))
      }
      assert.notStrictEqual(exited, "hung", "review waited for a reader that had gone")
      assert.strictEqual(exited === "hung" ? undefined : exited.code, 0)
      assert.isTrue(existsSync(finished), "codex ran to its end")
    }), 60_000)
})
