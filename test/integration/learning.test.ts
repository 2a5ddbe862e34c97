/**
 * The learning pipeline Live (SPEC LRN-2..6, DECISIONS D-17) on real temporary git repositories:
 * the tarball holds exactly git's view of the working tree minus the orchestrator's folders, its
 * digest is the recorded one, the copy is stored, the scenario replays, and a 100 MB file is packed
 * with flat memory.
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { createReadStream, existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { list } from "tar"
import { QueuePayload, ScenarioFile } from "../../src/domain/LearningRecords.js"
import { packageRoot } from "../support/cli.js"
import { commandEntry } from "../support/learning.js"
import { captureIn, git, makeDir, makeGitRepo, writeFile } from "../support/learningRepo.js"

const made: Array<string> = []
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const track = (dir: string) => {
  made.push(dir)
  return dir
}

const sha256File = (file: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash("sha256")
    createReadStream(file).on("data", (chunk) => hash.update(chunk)).on("error", reject).on("end", () => resolve(hash.digest("hex")))
  })

const tarballEntries = async (file: string): Promise<ReadonlyArray<string>> => {
  const entries: Array<string> = []
  await list({ file, onReadEntry: (entry) => entries.push(entry.path) })
  return entries.sort()
}

/** `git ls-files --cached --others --exclude-standard`, without the orchestrator's folders. */
const gitView = (repo: string): ReadonlyArray<string> =>
  git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    .split("\0")
    .filter((file) => file.length > 0 && !file.startsWith(".runs/") && !file.startsWith("out/"))
    .sort()

const decode = <A, I>(schema: Schema.Schema<A, I>, file: string) =>
  Schema.decodeUnknownSync(Schema.parseJson(schema), { onExcessProperty: "error" })(readFileSync(file, "utf8"))

const committed = {
  ".gitignore": "*.log\n",
  "README.md": "# fixture\n",
  "src/a.ts": "export const a = 1\n",
  "with space.txt": "spaced\n",
  "@scoped.txt": "not an archive\n"
}

/** The orchestrator's own folders, not git-ignored: they must neither be packed nor make the tree dirty. */
const addOrchestratorFolders = (repo: string) => {
  writeFile(repo, ".runs/other/cli/old/manifest.json", "{}\n")
  writeFile(repo, "out/task/state.json", "{}\n")
  writeFile(repo, "debug.log", "ignored by git\n")
}

describe("learning pipeline on a real repository", () => {
  it("captures a clean tree, stores the copy, tags HEAD and validates the latest command", async () => {
    const repo = track(makeGitRepo(committed))
    addOrchestratorFolders(repo)
    const { section, layout } = await captureIn(repo, {
      commands: [commandEntry(1, "echo build"), commandEntry(2, "test -f src/a.ts && echo scenario-ok")]
    })

    assert.strictEqual(section.validation.status, "validated", JSON.stringify(section.validation))
    const snapshot = section.snapshot!
    assert.strictEqual(snapshot.status, "captured")
    assert.strictEqual(snapshot.attempts, 1)
    assert.strictEqual(snapshot.commit_sha, git(repo, "rev-parse", "HEAD").trim())
    assert.match(snapshot.tag, /^learning-snapshot-[0-9a-f-]{36}$/)
    assert.strictEqual(git(repo, "rev-parse", `${snapshot.tag}^{commit}`).trim(), snapshot.commit_sha)

    // The tarball: exactly git's view minus .runs/ and out/, with the recorded digest.
    const tarball = join(repo, snapshot.tarball_path)
    assert.strictEqual(snapshot.tarball_path, ".runs/task/cli/run-1/learning/run-1.tar.gz")
    assert.deepStrictEqual(await tarballEntries(tarball), gitView(repo))
    assert.deepStrictEqual(gitView(repo), [".gitignore", "@scoped.txt", "README.md", "src/a.ts", "with space.txt"])
    assert.strictEqual(snapshot.tarball_digest, await sha256File(tarball))
    // tar(1) agrees.
    assert.deepStrictEqual(execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n").sort(), gitView(repo))

    // The storage copy (LAY-4).
    assert.strictEqual(snapshot.storage_path, ".runs/learning-snapshots/task/run-1.tar.gz")
    assert.strictEqual(await sha256File(join(repo, snapshot.storage_path)), snapshot.tarball_digest)

    const learning = join(layout.runDir, "learning")
    assert.strictEqual(readFileSync(join(learning, "snapshot-files.txt"), "utf8"), [...gitView(repo)].sort().map((f) => `${f}\n`).join(""))
    const payload = decode(QueuePayload, join(learning, "queue-payload.json"))
    assert.strictEqual(payload.snapshot_id, snapshot.tag)
    assert.strictEqual(payload.manifest_path, ".runs/task/cli/run-1/manifest.json")
    // A clean tree (only untracked and ignored files besides ours) still gets its diff file, empty.
    assert.strictEqual(payload.diff_path, ".runs/task/cli/run-1/learning/run-1.diff")
    assert.strictEqual(section.queue?.diff_path, payload.diff_path)
    assert.strictEqual(readFileSync(join(learning, "run-1.diff"), "utf8"), "")
    const scenario = decode(ScenarioFile, join(learning, "scenario.json"))
    assert.deepStrictEqual(scenario.commands, ["test -f src/a.ts && echo scenario-ok"])
    const log = readFileSync(join(learning, "scenario-validation.log"), "utf8")
    assert.match(log, /^\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\] Scenario: \.runs\/task\/cli\/run-1\/learning\/scenario\.json$/m)
    assert.match(log, /\] \$ test -f src\/a\.ts && echo scenario-ok$/m)
    assert.match(log, /\] scenario-ok$/m)
    // Exactly these files: no temp file (`.<name>.<n>.tmp`) or other leftover beside them.
    assert.deepStrictEqual(readdirSync(learning).sort(), [
      "queue-payload.json",
      "run-1.diff",
      "run-1.tar.gz",
      "scenario-validation.log",
      "scenario.json",
      "snapshot-files.txt"
    ])
    assert.deepStrictEqual(execFileSync("find", [join(repo, ".runs"), "-name", "*.tmp"], { encoding: "utf8" }), "")
  })

  it("packs untracked files too, and a dirty tree stalls validation (our folders are not dirt)", async () => {
    const repo = track(makeGitRepo(committed))
    addOrchestratorFolders(repo)
    writeFile(repo, "notes/untracked.md", "new\n")
    writeFile(repo, "README.md", "# changed\n")
    const { section, layout } = await captureIn(repo)

    assert.strictEqual(section.validation.status, "stalled_snapshot")
    assert.strictEqual(section.validation.reason, "Validation requires a clean fixture")
    const entries = await tarballEntries(join(repo, section.snapshot!.tarball_path))
    assert.include(entries, "notes/untracked.md")
    assert.deepStrictEqual(entries, gitView(repo))
    const learning = join(layout.runDir, "learning")
    assert.strictEqual(readFileSync(join(learning, "validation-git-status.txt"), "utf8"), " M README.md\n?? notes/untracked.md\n")
    assert.match(readFileSync(join(learning, "validation-git-log.txt"), "utf8"), /^[0-9a-f]+ initial\n$/)
    assert.strictEqual(section.validation.git_status_path, ".runs/task/cli/run-1/learning/validation-git-status.txt")
  })

  it("writes the tracked changes against the snapshot's commit as a binary diff, without our folders", async () => {
    const binary = Uint8Array.from([0, 1, 2, 255, 254, 0, 10, 13])
    const repo = track(makeGitRepo({ ...committed, "out/report.txt": "tracked in out\n", ".runs/keep.txt": "tracked in runs\n" }))
    writeFile(repo, "assets/logo.bin", binary)
    git(repo, "add", "assets/logo.bin")
    git(repo, "commit", "-q", "-m", "binary")
    addOrchestratorFolders(repo)
    writeFile(repo, "README.md", "# changed\n")
    writeFile(repo, "assets/logo.bin", Uint8Array.from([...binary, 0, 7]))
    writeFile(repo, "out/report.txt", "changed in out\n")
    writeFile(repo, ".runs/keep.txt", "changed in runs\n")
    writeFile(repo, "notes/untracked.md", "new\n")
    rmSync(join(repo, "with space.txt"))
    const { section } = await captureIn(repo)

    assert.strictEqual(section.snapshot?.status, "captured", JSON.stringify(section.snapshot))
    const diffPath = ".runs/task/cli/run-1/learning/run-1.diff"
    assert.strictEqual(section.queue?.diff_path, diffPath)
    assert.strictEqual(decode(QueuePayload, join(repo, section.queue!.payload_path)).diff_path, diffPath)
    const diff = readFileSync(join(repo, diffPath))
    // Byte for byte git's own diff of the tree minus our folders, against the commit we tagged.
    assert.strictEqual(git(repo, "rev-parse", "HEAD").trim(), section.snapshot?.commit_sha)
    const expected = execFileSync("git", ["diff", "--binary", "HEAD", "--", ".", ":(exclude).runs", ":(exclude)out"], { cwd: repo })
    assert.isTrue(diff.equals(expected), `diff differs from git's:\n${diff.toString("utf8")}`)
    const text = diff.toString("utf8")
    assert.include(text, "diff --git a/README.md b/README.md")
    assert.include(text, "+# changed")
    assert.include(text, "diff --git a/assets/logo.bin b/assets/logo.bin")
    assert.include(text, "GIT binary patch")
    assert.include(text, "deleted file mode 100644")
    // Our folders' tracked files changed too, and an unfiltered diff shows them; ours does not.
    assert.include(git(repo, "diff", "--binary", "HEAD"), "out/report.txt")
    assert.notInclude(text, "out/report.txt")
    assert.notInclude(text, ".runs/keep.txt")
    // Untracked files are the tarball's business.
    assert.notInclude(text, "notes/untracked.md")
    assert.include(await tarballEntries(join(repo, section.snapshot!.tarball_path)), "notes/untracked.md")
    // A complete patch: it takes the commit's tree to the working tree, binary file included.
    const clone = track(makeDir("learning-apply-"))
    git(clone, "clone", "-q", repo, ".")
    git(clone, "checkout", "-q", section.snapshot!.commit_sha)
    git(clone, "apply", "--binary", join(repo, diffPath))
    assert.deepStrictEqual(new Uint8Array(readFileSync(join(clone, "assets/logo.bin"))), new Uint8Array(readFileSync(join(repo, "assets/logo.bin"))))
    assert.strictEqual(readFileSync(join(clone, "README.md"), "utf8"), "# changed\n")
    assert.isFalse(existsSync(join(clone, "with space.txt")))
    assert.strictEqual(readFileSync(join(clone, "out/report.txt"), "utf8"), "tracked in out\n")
  })

  it("the diff keeps git apply's a/ b/ paths whatever the repository's diff settings", async () => {
    const repo = track(makeGitRepo(committed))
    git(repo, "config", "diff.noprefix", "true")
    git(repo, "config", "diff.mnemonicPrefix", "true")
    addOrchestratorFolders(repo)
    writeFile(repo, "README.md", "# changed\n")
    assert.include(git(repo, "diff", "HEAD"), "diff --git README.md README.md", "the settings took effect")
    const { section } = await captureIn(repo)
    const diffPath = join(repo, section.queue!.diff_path!)
    assert.include(readFileSync(diffPath, "utf8"), "diff --git a/README.md b/README.md")
    const clone = track(makeDir("learning-apply-"))
    git(clone, "clone", "-q", repo, ".")
    git(clone, "checkout", "-q", section.snapshot!.commit_sha)
    git(clone, "apply", "--binary", diffPath)
    assert.strictEqual(readFileSync(join(clone, "README.md"), "utf8"), "# changed\n")
  })

  it("a clean tree with only .runs/ and out/ content validates", async () => {
    const repo = track(makeGitRepo(committed))
    addOrchestratorFolders(repo)
    assert.notStrictEqual(git(repo, "status", "--short"), "", "the fixture's own folders show in git status")
    const { section } = await captureIn(repo)
    assert.strictEqual(section.validation.status, "validated")
  })

  it("a repository root below the top of the work tree: only its part is packed and checked", async () => {
    const repo = track(makeGitRepo({ ...committed, "sub/tool.ts": "export {}\n" }))
    const root = join(repo, "sub")
    writeFile(root, ".runs/other/manifest.json", "{}\n")
    writeFile(repo, "README.md", "# changed outside the root\n")
    const { section } = await captureIn(root)
    assert.strictEqual(section.validation.status, "validated", JSON.stringify(section.validation))
    assert.deepStrictEqual(await tarballEntries(join(root, section.snapshot!.tarball_path)), ["tool.ts"])

    writeFile(root, "tool.ts", "export const changed = 1\n")
    const { section: dirty, layout } = await captureIn(root)
    assert.strictEqual(dirty.validation.status, "stalled_snapshot")
    assert.strictEqual(readFileSync(join(layout.runDir, "learning", "validation-git-status.txt"), "utf8"), " M tool.ts\n")
    // The diff covers the root's part only; its paths stay top-relative, as `git apply` reads them.
    const diff = readFileSync(join(layout.runDir, "learning", "run-1.diff"), "utf8")
    assert.include(diff, "diff --git a/sub/tool.ts b/sub/tool.ts")
    assert.notInclude(diff, "README.md")
  })

  it("a failing scenario command fails validation with the command and its exit code", async () => {
    const repo = track(makeGitRepo(committed))
    const command = "echo broke >&2; exit 3"
    const { section } = await captureIn(repo, { commands: [commandEntry(1, command)] })
    assert.strictEqual(section.snapshot?.status, "captured")
    assert.strictEqual(section.validation.status, "snapshot_failed")
    assert.strictEqual(section.validation.reason, `Command "${command}" exited with code 3`)
    assert.strictEqual(section.validation.last_error, "broke")
  })

  it("a folder that is not a git repository fails the snapshot with a clear reason, at once", async () => {
    const dir = track(makeDir("learning-plain-"))
    writeFile(dir, "file.txt")
    const started = Date.now()
    const { section } = await captureIn(dir)
    assert.isBelow(Date.now() - started, 1500, "no retries for a folder git does not know")
    assert.strictEqual(section.validation.status, "snapshot_failed")
    assert.strictEqual(section.validation.reason, `not a git repository: ${dir}`)
    assert.strictEqual(section.snapshot?.attempts, 1)
    assert.strictEqual(section.alerts.length, 2)
    assert.isFalse(existsSync(join(dir, ".runs", "learning-snapshots")))
  })

  it("a repository without a commit yet fails the snapshot at once, saying to commit (git's own answer)", async () => {
    const dir = track(makeDir("learning-nocommit-"))
    git(dir, "init", "-q")
    writeFile(dir, "file.txt")
    const started = Date.now()
    const { section } = await captureIn(dir)
    assert.isBelow(Date.now() - started, 1500, "no retries: a commit will not appear")
    assert.strictEqual(section.snapshot?.attempts, 1)
    assert.strictEqual(
      section.validation.reason,
      `the repository at ${dir} has no commit yet: commit once, so that a snapshot has a commit to tag`
    )
  })

  it("a run folder it cannot write to ends in snapshot_failed with the reason, not in a failure", async () => {
    const repo = track(makeGitRepo(committed))
    // A file where the run folder should be: the learning folder cannot be created.
    writeFile(repo, ".runs/task/cli/run-1", "not a folder\n")
    const { section } = await captureIn(repo)
    assert.strictEqual(section.validation.status, "snapshot_failed")
    assert.match(section.validation.reason ?? "", /^Learning pipeline failed: Could not create folder .*run-1\/learning/)
  })

  it("a runs root reached through a symbolic link into the repository is still left out of the snapshot", async () => {
    const repo = track(makeGitRepo(committed))
    const link = `${track(makeDir("learning-link-"))}/repo`
    symlinkSync(repo, link)
    const { section } = await captureIn(repo, { runsRoot: join(link, ".runs") })
    assert.strictEqual(section.snapshot?.status, "captured")
    const tarball = join(repo, ".runs", "task", "cli", "run-1", "learning", "run-1.tar.gz")
    assert.deepStrictEqual((await tarballEntries(tarball)).filter((entry) => entry.startsWith(".runs")), [])
    // The orchestrator's own files are no dirt: the scenario is validated, not stalled.
    assert.strictEqual(section.validation.status, "validated", JSON.stringify(section.validation))
  })

  it("LEARNING_SNAPSHOT_DIR moves the stored copy; a value other than 1 turns learning off", async () => {
    const repo = track(makeGitRepo(committed))
    const storage = track(makeDir("learning-storage-"))
    const { section } = await captureIn(repo, { env: { LEARNING_SNAPSHOT_DIR: storage } })
    assert.strictEqual(section.snapshot?.status, "captured")
    const copy = join(storage, "task", "run-1.tar.gz")
    assert.isTrue(existsSync(copy))
    assert.strictEqual(section.snapshot?.storage_path, join("..", storage.split("/").pop()!, "task", "run-1.tar.gz"))
    assert.isFalse(existsSync(join(repo, ".runs", "learning-snapshots")))

    const off = track(makeGitRepo(committed))
    const { section: untouched } = await captureIn(off, { env: { LEARNING_PIPELINE_ENABLED: "true" } })
    assert.strictEqual(untouched.validation.status, "pending")
    assert.isFalse(existsSync(join(off, ".runs")))
  })

  // The peak is garbage, not the file: V8 collects the read and zlib buffers (external memory) once
  // ~64 MiB of them accumulate since its last collection, so a streamed pack of any size peaks some
  // 35-70 MiB above where it started, depending on what else allocates (measured: 33-39 MiB with
  // the CommandExecutor runner, 56-69 MiB with the child_process one, which starts lighter and so
  // collects later). Holding the file whole would grow by all of it: 200 MiB here.
  it("streams a 200 MB untracked file: the capturing process grows by less than half the file", async () => {
    const repo = track(makeGitRepo(committed))
    const size = 200 * 1024 * 1024
    // Random bytes: gzip cannot shrink them, so the tarball is as big as the file too.
    execFileSync("sh", ["-c", `head -c ${size} /dev/urandom > big.bin`], { cwd: repo })
    const output = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", join(packageRoot, "test", "support", "learningCaptureMain.ts"), repo],
      { cwd: packageRoot, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }
    )
    const result = JSON.parse(output) as { section: { snapshot?: { tarball_path: string; tarball_digest: string; status: string } }; rssBeforeKiB: number; peakKiB: number }
    const snapshot = result.section.snapshot!
    assert.strictEqual(snapshot.status, "captured")
    const tarball = join(repo, snapshot.tarball_path)
    assert.isAbove(statSync(tarball).size, size)
    assert.strictEqual(await sha256File(tarball), snapshot.tarball_digest)
    assert.include(await tarballEntries(tarball), "big.bin")
    const growthMiB = (result.peakKiB - result.rssBeforeKiB) / 1024
    assert.isBelow(growthMiB, 100, `peak RSS grew by ${growthMiB.toFixed(1)} MiB while packing 200 MiB`)
  }, 180_000)
})
