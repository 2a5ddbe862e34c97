/**
 * `init` in a fresh git repository, through the built CLI: the scaffold's own pipeline runs, the
 * review gate runs end to end on it (a fake codex on PATH), and a second init writes nothing.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import { asObject, commandAt, describeResult, makeTempRepo, parseJson, readJson, requireBuiltCli, runCli } from "../support/cli.js"
import { fakeCodexCalls, writeFakeCodex } from "../support/fakeCodex.js"
import { utcDate, withGitRepo } from "../support/gitRepo.js"

beforeAll(requireBuiltCli)

const scaffold = [
  "codex.orchestrator.json",
  "tasks/index.json",
  "tasks/specs/x-kickoff.md",
  "tasks/tasks-x-kickoff.md",
  ".agent/task/x-kickoff.md",
  ".agent/SOPs/review-gate.md",
  "docs/PRD.md",
  "docs/TECH_SPEC.md",
  "docs/ACTION_PLAN.md",
  "docs/TASKS.md",
  "AGENTS.md"
]

describe("init", () => {
  it("scaffolds a fresh repository whose default pipeline and implementation-gate then succeed", () =>
    withGitRepo(undefined, async (repo) => {
      const result = await repo.cli(["init", "--task", "x"])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.strictEqual(result.stdout, scaffold.map((file) => `wrote ${file}\n`).join(""))
      assert.include(result.stderr, "codex-orchestrator start")
      for (const file of scaffold) assert.isTrue(existsSync(repo.path(file)), file)
      assert.include(readFileSync(repo.path("tasks/specs/x-kickoff.md"), "utf8"), `\nlast_review: ${utcDate(0)}\n`)
      writeFileSync(repo.path(".gitignore"), ".runs/\nout/\n.bin/\n")
      repo.commit("scaffold")

      const started = await repo.cli(["start", "--task", "x", "--format", "json"])
      assert.strictEqual(started.code, 0, describeResult(started))
      const run = readJson(repo.path(String(asObject(parseJson(started.stdout), "stdout")["manifest"])))
      assert.strictEqual(run["pipeline_id"], "checks")
      assert.deepStrictEqual([0, 1].map((i) => [commandAt(run, i)["id"], commandAt(run, i)["status"]]), [
        ["diagnostics", "succeeded"],
        ["docs-check", "succeeded"]
      ])

      const bin = repo.path(".bin")
      writeFakeCodex(bin)
      const log = repo.path(".bin", "calls.log")
      const gate = await repo.cli(["start", "implementation-gate", "--task", "x", "--format", "json"], {
        PATH: `${bin}:${process.env["PATH"] ?? ""}`,
        FAKE_CODEX_LOG: log,
        NOTES: "Goal: scaffold | Summary: init | Risks: none"
      })
      assert.strictEqual(gate.code, 0, describeResult(gate))
      const manifest = readJson(repo.path(String(asObject(parseJson(gate.stdout), "stdout")["manifest"])))
      const stages = [0, 1, 2, 3, 4, 5, 6].map((i) => `${String(commandAt(manifest, i)["id"])}:${String(commandAt(manifest, i)["status"])}`)
      assert.deepStrictEqual(stages.filter((s) => !s.endsWith(":succeeded") && !s.endsWith(":skipped")), [], stages.join(" "))
      const reviews = fakeCodexCalls(log).filter((call) => call[1] === "review")
      assert.strictEqual(reviews.length, 1)
      assert.include(reviews[0]?.[2] ?? "", "Goal: scaffold | Summary: init | Risks: none")
    }))

  it("outside a git repository the next step is to make one, not to commit (there is nothing to commit to); without git, to install it", async () => {
    const plain = makeTempRepo()
    const noGit = makeTempRepo()
    try {
      const result = await runCli(["init", "--task", "x"], { cwd: plain.dir })
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.notInclude(result.stderr, "commit these files")
      assert.include(
        result.stderr,
        `Next: ${plain.dir} is not in a git repository, and the spec guard and the diff budget compare commits: ` +
          "`git init && git add -A && git commit -m \"Scaffold the orchestrator\"` there, then `codex-orchestrator start` runs"
      )
      const without = await runCli(["init", "--task", "x"], { cwd: noGit.dir, env: { PATH: "/nonexistent" } })
      assert.strictEqual(without.code, 0, describeResult(without))
      assert.include(
        without.stderr,
        "Next: git could not be run (git is not installed (not found on PATH)), and the spec guard and the diff budget compare " +
          `commits: install git, then \`git init && git add -A && git commit -m "Scaffold the orchestrator"\` in ${noGit.dir}, then`
      )
    } finally {
      plain.cleanup()
      noGit.cleanup()
    }
  })

  it("writes nothing when a file it would write exists, and names it (exit 2)", () =>
    withGitRepo({ "AGENTS.md": "# ours\n" }, async (repo) => {
      const result = await repo.cli(["init"])
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.strictEqual(result.stdout, "")
      assert.include(result.stderr, "AGENTS.md already exist")
      assert.isFalse(existsSync(repo.path("codex.orchestrator.json")))
      assert.strictEqual(readFileSync(repo.path("AGENTS.md"), "utf8"), "# ours\n")
      const badTask = await repo.cli(["init", "--task", "../x"])
      assert.strictEqual(badTask.code, 2, describeResult(badTask))
    }))

  it("a file where it needs a folder (docs) is named the same way (exit 2), not the system's ENOTDIR", () =>
    withGitRepo({ docs: "notes\n" }, async (repo) => {
      const result = await repo.cli(["init"])
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.strictEqual(
        result.stderr,
        `error: init writes nothing over existing files, and docs (a file where init needs a folder) already exists in ${repo.dir}; ` +
          "move them aside (or run init in a repository without them).\n"
      )
      assert.isFalse(existsSync(repo.path("codex.orchestrator.json")))
    }))

  it("a folder that is a symbolic link out of the repository (docs -> elsewhere) is named too (exit 2): init writes nothing through it", () =>
    withGitRepo(undefined, async (repo) => {
      const elsewhere = mkdtempSync(join(tmpdir(), "init-elsewhere-"))
      try {
        symlinkSync(elsewhere, repo.path("docs"))
        const result = await repo.cli(["init"])
        assert.strictEqual(result.code, 2, describeResult(result))
        assert.strictEqual(
          result.stderr,
          `error: init writes nothing over existing files, and docs (a symbolic link out of the repository, to ${elsewhere}) already exists in ` +
            `${repo.dir}; move them aside (or run init in a repository without them).\n`
        )
        assert.deepStrictEqual(readdirSync(elsewhere), [])
        assert.isFalse(existsSync(repo.path("codex.orchestrator.json")))
      } finally {
        rmSync(elsewhere, { recursive: true, force: true })
      }
    }))

  // Mounting a tmpfs needs root, which CI has (as fullDisk.test.ts); elsewhere the test is skipped.
  it.skipIf(process.getuid?.() !== 0)("a disk that fills up part way leaves nothing behind, so init can simply be run again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "init-full-"))
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir])
    try {
      // 10 of the 16 pages taken: a few scaffold files fit, then the disk is full
      writeFileSync(join(dir, "filler"), Buffer.alloc(40 * 1024))
      const full = await runCli(["init", "--task", "x"], { cwd: dir })
      assert.strictEqual(full.code, 1, describeResult(full))
      assert.match(full.stderr, /^error: No space left on device writing \S+ \(create\); free some space and try again\.\n$/)
      assert.deepStrictEqual(readdirSync(dir), ["filler"], "what init wrote before the disk filled up is removed")
      rmSync(join(dir, "filler"))
      const again = await runCli(["init", "--task", "x"], { cwd: dir })
      assert.strictEqual(again.code, 0, describeResult(again))
      for (const file of scaffold) assert.isTrue(existsSync(join(dir, file)), file)
    } finally {
      execFileSync("umount", [dir])
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
