/**
 * The learning pipeline through the CLI (SPEC LRN-1..7 with DECISIONS D-17: it runs after a
 * successful `start` when LEARNING_PIPELINE_ENABLED=1): the built CLI in a temporary git
 * repository, and what it leaves read back — the manifest's `learning` section, the tarball (its
 * listing against git's view of the tree, its digest), the stored copy, the tag, the scenario and
 * its validation log, the metrics line and the task state (MET-1, MET-5).
 *
 * `.runs` and `out` are deliberately NOT git-ignored in these repositories: the orchestrator must
 * leave its own folders out of the tarball and not count them as dirt.
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve, sep } from "node:path"
import { afterEach, assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  commandStage,
  describeResult,
  type JsonObject,
  makeTempRepo,
  pipeline,
  readJson,
  readNdjson,
  requireBuiltCli,
  runCli,
  startJson,
  type StartedRun,
  subpipelineStage,
  type TempRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const task = "lrn"

const config = (command = "test -f README.md") => ({
  pipelines: [
    pipeline("learn", [commandStage("build", "echo ok"), commandStage("check", command)], { guardrailsRequired: false })
  ]
})

const git = (cwd: string, ...args: ReadonlyArray<string>): string =>
  execFileSync("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })

const made: Array<TempRepo | string> = []
afterEach(() => {
  for (const item of made.splice(0)) {
    if (typeof item === "string") rmSync(item, { recursive: true, force: true })
    else item.cleanup()
  }
})

/** A temp folder with the config written; not a repository. */
const plainRepo = (stageCommand?: string): TempRepo => {
  const repo = makeTempRepo(config(stageCommand))
  made.push(repo)
  writeFileSync(repo.path("README.md"), "# fixture\n")
  return repo
}

/**
 * A git repository (identity local to it) with the config, a README, a source file, a file name
 * with a space, a `.gitignore` for `*.log` and an ignored `debug.log`, all committed except the
 * ignored file. `.runs` and `out` are not ignored.
 */
const gitRepo = (stageCommand?: string): TempRepo => {
  const repo = plainRepo(stageCommand)
  git(repo.dir, "init", "-q", "-b", "main")
  git(repo.dir, "config", "user.email", "learning-cli@example.com")
  git(repo.dir, "config", "user.name", "Learning CLI Test")
  git(repo.dir, "config", "commit.gpgsign", "false")
  git(repo.dir, "config", "tag.gpgsign", "false")
  writeFileSync(repo.path(".gitignore"), "*.log\n")
  mkdirSync(repo.path("src"), { recursive: true })
  writeFileSync(repo.path("src", "a.ts"), "export const a = 1\n")
  writeFileSync(repo.path("with space.txt"), "spaced\n")
  git(repo.dir, "add", "-A")
  git(repo.dir, "commit", "-q", "-m", "initial")
  writeFileSync(repo.path("debug.log"), "ignored by git\n")
  return repo
}

/** The environment of a run: learning on or off, no snapshot dir from the developer's shell. */
const learningEnv = (
  enabled: boolean,
  extra: Readonly<Record<string, string | undefined>> = {}
): Readonly<Record<string, string | undefined>> => ({
  LEARNING_PIPELINE_ENABLED: enabled ? "1" : undefined,
  LEARNING_SNAPSHOT_DIR: undefined,
  ...extra
})

const startLearn = async (
  repo: TempRepo,
  env: Readonly<Record<string, string | undefined>>,
  code = 0
): Promise<StartedRun & { readonly runId: string }> => {
  const run = await startJson(repo, ["learn", "--task", task], env)
  assert.strictEqual(run.result.code, code, describeResult(run.result))
  return { ...run, runId: asString(run.output["run_id"], "run_id") }
}

const learningOf = (manifest: JsonObject) => asObject(manifest["learning"], "manifest.learning")
const validationOf = (manifest: JsonObject) => asObject(learningOf(manifest)["validation"], "learning.validation")
const snapshotOf = (manifest: JsonObject) => asObject(learningOf(manifest)["snapshot"], "learning.snapshot")

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex")

/** `tar -tzf`, sorted. */
const tarListing = (file: string): ReadonlyArray<string> =>
  execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).split("\n").filter((line) => line.length > 0).sort()

/** `git ls-files --cached --others --exclude-standard` without the orchestrator's folders. */
const gitView = (repo: TempRepo): ReadonlyArray<string> =>
  git(repo.dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    .split("\0")
    .filter((file) => file.length > 0 && !file.startsWith(".runs/") && !file.startsWith("out/"))
    .sort()

const metricsLines = (repo: TempRepo) => readNdjson(repo.path(".runs", task, "metrics.json"))
const taskState = (repo: TempRepo) => readJson(repo.path("out", task, "state.json"))
const stateValidation = (repo: TempRepo) =>
  asObject(asObject(taskState(repo)["safety"], "state.safety")["validation"], "state.safety.validation")

describe("learning after a successful start (D-17)", () => {
  it("snapshots the clean tree, stores the copy, tags HEAD, writes and validates the scenario, and counts it", async () => {
    const repo = gitRepo()
    const head = git(repo.dir, "rev-parse", "HEAD").trim()
    const run = await startLearn(repo, learningEnv(true))
    assert.strictEqual(run.manifest["status"], "succeeded")

    const validation = validationOf(run.manifest)
    assert.strictEqual(validation["status"], "validated", JSON.stringify(learningOf(run.manifest)))
    const snapshot = snapshotOf(run.manifest)
    assert.strictEqual(snapshot["status"], "captured")
    assert.strictEqual(snapshot["attempts"], 1)
    assert.strictEqual(snapshot["commit_sha"], head)
    const tarballPath = repo.path(asString(snapshot["tarball_path"], "tarball_path"))
    const digest = asString(snapshot["tarball_digest"], "tarball_digest")
    const storagePath = asString(snapshot["storage_path"], "storage_path")
    assert.strictEqual(tarballPath, join(run.runDir, "learning", `${run.runId}.tar.gz`))

    // The tarball is git's view of the working tree minus .runs/ and out/ (computed after the run,
    // which wrote only under those two).
    const view = gitView(repo)
    assert.includeMembers([...view], ["README.md", "codex.orchestrator.json", ".gitignore", "src/a.ts", "with space.txt"])
    assert.notInclude([...view], "debug.log")
    assert.deepStrictEqual(tarListing(tarballPath), view)
    assert.strictEqual(sha256(tarballPath), digest)

    // LRN-2: the copy, byte for byte.
    assert.strictEqual(storagePath, `.runs/learning-snapshots/${task}/${run.runId}.tar.gz`)
    const copy = repo.path(storagePath)
    assert.isTrue(existsSync(copy), `${copy} exists`)
    assert.strictEqual(sha256(copy), digest)

    // The tag, on the captured commit.
    const tag = asString(snapshot["tag"], "tag")
    assert.match(tag, /^learning-snapshot-/)
    assert.deepStrictEqual(git(repo.dir, "tag", "--list", "learning-snapshot-*").split("\n").filter(Boolean), [tag])
    assert.strictEqual(git(repo.dir, "rev-parse", `${tag}^{commit}`).trim(), head)

    // LRN-5, LRN-6: the scenario replays the latest successful command; the log says so.
    const scenarioPath = join(run.runDir, "learning", "scenario.json")
    const logPath = join(run.runDir, "learning", "scenario-validation.log")
    assert.isTrue(existsSync(scenarioPath), "learning/scenario.json exists")
    assert.isTrue(existsSync(logPath), "learning/scenario-validation.log exists")
    const scenario = readJson(scenarioPath)
    assert.deepStrictEqual(asArray(scenario["commands"], "scenario.commands"), ["test -f README.md"])
    assert.strictEqual(asObject(learningOf(run.manifest)["scenario"], "learning.scenario")["source"], "execution_history")
    const log = readFileSync(logPath, "utf8")
    assert.include(log, "$ test -f README.md")
    assert.include(log, "Scenario validated")
    assert.strictEqual(validation["log_path"], `${asString(run.manifest["artifact_root"], "artifact_root")}/learning/scenario-validation.log`)

    // MET-1, MET-5: the metrics line and the task state count the outcome.
    const lines = metricsLines(repo)
    assert.strictEqual(lines.length, 1)
    assert.strictEqual(lines[0]?.["run_id"], run.runId)
    assert.strictEqual(lines[0]?.["learning_validation_status"], "validated")
    assert.strictEqual(lines[0]?.["learning_snapshot_status"], "captured")
    assert.strictEqual(stateValidation(repo)["passed"], 1)
    assert.strictEqual(run.manifest["metrics_recorded"], true)

    // The run left the working tree as it found it, apart from its own folders.
    const status = git(repo.dir, "status", "--porcelain", "--untracked-files=normal")
      .split("\n")
      .filter((line) => line.length > 0)
      .sort()
    assert.deepStrictEqual(status, ["?? .runs/", "?? out/"])
  })

  it("LEARNING_SNAPSHOT_DIR (absolute) receives the copy", async () => {
    const repo = gitRepo()
    const snapshotDir = realpathSync(mkdtempSync(join(tmpdir(), "learning-cli-store-")))
    made.push(snapshotDir)
    const run = await startLearn(repo, learningEnv(true, { LEARNING_SNAPSHOT_DIR: snapshotDir }))
    const snapshot = snapshotOf(run.manifest)
    assert.strictEqual(snapshot["status"], "captured", JSON.stringify(learningOf(run.manifest)))
    const expected = join(snapshotDir, task, `${run.runId}.tar.gz`)
    assert.isTrue(existsSync(expected), `${expected} exists`)
    assert.strictEqual(resolve(repo.dir, asString(snapshot["storage_path"], "storage_path")), expected)
    assert.strictEqual(sha256(expected), snapshot["tarball_digest"])
    assert.isFalse(existsSync(repo.path(".runs", "learning-snapshots")), "nothing under the default store")
    assert.strictEqual(validationOf(run.manifest)["status"], "validated")
  })

  it("LEARNING_SNAPSHOT_DIR naming a file, or lying under one, is bad input: exit 2, one line naming it, the path and the fix, nothing run", async () => {
    const repo = gitRepo()
    const store = realpathSync(mkdtempSync(join(tmpdir(), "learning-cli-file-")))
    made.push(store)
    const file = join(store, "not-a-folder")
    writeFileSync(file, "a file\n")
    const cases = [
      { dir: file, says: [`LEARNING_SNAPSHOT_DIR=${JSON.stringify(file)} is a file, not a folder`, "Point LEARNING_SNAPSHOT_DIR at a folder"] },
      { dir: join(file, "snapshots"), says: [`lies under ${file}, which is a file, not a folder`, "Point LEARNING_SNAPSHOT_DIR at a folder"] }
    ]
    for (const { dir, says } of cases) {
      const result = await runCli(["start", "learn", "--task", task, "--format", "json"], {
        cwd: repo.dir,
        env: learningEnv(true, { LEARNING_SNAPSHOT_DIR: dir })
      })
      assert.strictEqual(result.code, 2, describeResult(result))
      const errors = result.stderr.split("\n").filter((line) => line.startsWith("error: "))
      assert.strictEqual(errors.length, 1, describeResult(result))
      for (const text of says) assert.include(errors[0], text)
      assert.isFalse(existsSync(repo.path(".runs", task)), "a run was started")
    }
  })

  // It was tried three times, 1.5 s, each failure an alert, and said nowhere but in the manifest.
  it("LEARNING_SNAPSHOT_DIR that cannot be written (a file where the task's folder goes): one attempt, the folder, the code and the fix in the manifest and on stderr; the run succeeds", async () => {
    const repo = gitRepo()
    const store = realpathSync(mkdtempSync(join(tmpdir(), "learning-cli-blocked-")))
    made.push(store)
    writeFileSync(join(store, task), "a file where the task's folder goes\n")
    const run = await startLearn(repo, learningEnv(true, { LEARNING_SNAPSHOT_DIR: store }))
    assert.strictEqual(run.manifest["status"], "succeeded")
    const snapshot = snapshotOf(run.manifest)
    assert.strictEqual(snapshot["status"], "snapshot_failed", JSON.stringify(learningOf(run.manifest)))
    assert.strictEqual(snapshot["attempts"], 1)
    const validation = validationOf(run.manifest)
    assert.strictEqual(validation["status"], "snapshot_failed")
    const reason = asString(validation["reason"], "reason")
    for (const text of [`LEARNING_SNAPSHOT_DIR=${JSON.stringify(store)}`, "ENOTDIR", "Move that file away"]) assert.include(reason, text)
    const warnings = run.result.stderr.split("\n").filter((line) => line.includes("Learning snapshot of"))
    assert.strictEqual(warnings.length, 1, describeResult(run.result))
    assert.include(warnings[0], "ENOTDIR")
    assert.include(warnings[0], "the run's result is unaffected")
    assert.deepStrictEqual(git(repo.dir, "tag", "--list", "learning-snapshot-*"), "", "no tag for a snapshot not stored")
  })

  // It stored <task>/<run>.tar.gz in the repository: every validation stalled, each snapshot packed the last.
  it("LEARNING_SNAPSHOT_DIR=. (the repository itself) is bad input: exit 2, one line naming it and the fix, nothing run", async () => {
    const repo = gitRepo()
    const result = await runCli(["start", "learn", "--task", task, "--format", "json"], {
      cwd: repo.dir,
      env: learningEnv(true, { LEARNING_SNAPSHOT_DIR: "." })
    })
    assert.strictEqual(result.code, 2, describeResult(result))
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("error: "))
    assert.strictEqual(errors.length, 1, describeResult(result))
    assert.include(errors[0], `LEARNING_SNAPSHOT_DIR=${JSON.stringify(realpathSync(repo.dir))} is the repository itself`)
    assert.include(errors[0], "Point LEARNING_SNAPSHOT_DIR at a folder inside the repository")
    assert.isFalse(existsSync(repo.path(".runs", task)), "a run was started")
  })

  it("a dirty tree (a modified tracked file) is captured as it is but stalls validation", async () => {
    const repo = gitRepo()
    writeFileSync(repo.path("README.md"), "# changed, not committed\n")
    writeFileSync(repo.path("untracked.txt"), "new\n")
    const run = await startLearn(repo, learningEnv(true))

    const snapshot = snapshotOf(run.manifest)
    assert.strictEqual(snapshot["status"], "captured")
    const validation = validationOf(run.manifest)
    assert.strictEqual(validation["status"], "stalled_snapshot", JSON.stringify(learningOf(run.manifest)))
    assert.strictEqual(validation["reason"], "Validation requires a clean fixture")
    const gitStatus = readFileSync(repo.path(asString(validation["git_status_path"], "git_status_path")), "utf8")
    assert.include(gitStatus, "README.md")
    assert.notInclude(gitStatus, ".runs")
    assert.isTrue(existsSync(repo.path(asString(validation["git_log_path"], "git_log_path"))), "validation-git-log.txt exists")

    // The tarball holds the working tree (the untracked file, the uncommitted content), not HEAD.
    const tarballPath = repo.path(asString(snapshot["tarball_path"], "tarball_path"))
    assert.deepStrictEqual(tarListing(tarballPath), gitView(repo))
    assert.include(tarListing(tarballPath), "untracked.txt")
    assert.strictEqual(
      execFileSync("tar", ["-xzOf", tarballPath, "README.md"], { encoding: "utf8" }),
      "# changed, not committed\n"
    )

    assert.strictEqual(metricsLines(repo)[0]?.["learning_validation_status"], "stalled_snapshot")
    assert.strictEqual(stateValidation(repo)["stalled"], 1)
    assert.strictEqual(stateValidation(repo)["passed"], 0)
  })
})

describe("learning after resume and under overridden roots (D-17, D-5)", () => {
  it("a failed run learns nothing; its successful resume is captured and validated, and counted on the second metrics line", async () => {
    const repo = gitRepo("test ! -f fail.marker")
    writeFileSync(repo.path(".gitignore"), "*.log\n*.marker\n")
    git(repo.dir, "commit", "-q", "-am", "ignore markers")
    writeFileSync(repo.path("fail.marker"), "fail\n")
    const failed = await startLearn(repo, learningEnv(true), 1)
    assert.isFalse(existsSync(join(failed.runDir, "learning")), "no learning/ folder after the failure")

    rmSync(repo.path("fail.marker"))
    const resumed = await runCli(["resume", "--run", failed.runId, "--task", task, "--format", "json"], {
      cwd: repo.dir,
      env: learningEnv(true)
    })
    assert.strictEqual(resumed.code, 0, describeResult(resumed))
    const manifest = readJson(join(failed.runDir, "manifest.json"))
    assert.strictEqual(manifest["status"], "succeeded")
    assert.strictEqual(validationOf(manifest)["status"], "validated", JSON.stringify(learningOf(manifest)))
    const snapshot = snapshotOf(manifest)
    assert.strictEqual(snapshot["status"], "captured")
    const tarballPath = repo.path(asString(snapshot["tarball_path"], "tarball_path"))
    assert.deepStrictEqual(tarListing(tarballPath), gitView(repo))
    assert.strictEqual(sha256(tarballPath), snapshot["tarball_digest"])
    assert.deepStrictEqual(
      metricsLines(repo).map((line) => [line["run_id"], line["learning_validation_status"]]),
      [[failed.runId, "pending"], [failed.runId, "validated"]]
    )
    assert.strictEqual(stateValidation(repo)["passed"], 1)
  })

  it("runs and out folders moved inside the repository (CODEX_ORCHESTRATOR_RUNS_DIR/_OUT_DIR) are neither packed nor dirt", async () => {
    const repo = gitRepo()
    const runsDir = repo.path("artifacts", "runs")
    const outDir = repo.path("artifacts", "out")
    const run = await startLearn(
      repo,
      learningEnv(true, { CODEX_ORCHESTRATOR_RUNS_DIR: runsDir, CODEX_ORCHESTRATOR_OUT_DIR: outDir })
    )
    assert.isTrue(run.runDir.startsWith(`${runsDir}/`), run.runDir)
    assert.strictEqual(validationOf(run.manifest)["status"], "validated", JSON.stringify(learningOf(run.manifest)))
    const snapshot = snapshotOf(run.manifest)
    assert.strictEqual(snapshot["storage_path"], `artifacts/runs/learning-snapshots/${task}/${run.runId}.tar.gz`)
    assert.isTrue(existsSync(repo.path(asString(snapshot["storage_path"], "storage_path"))), "the copy exists")
    const tarballPath = repo.path(asString(snapshot["tarball_path"], "tarball_path"))
    const expected = gitView(repo).filter((file) => !file.startsWith("artifacts/runs/") && !file.startsWith("artifacts/out/"))
    assert.deepStrictEqual(tarListing(tarballPath), expected)
    assert.isFalse(tarListing(tarballPath).some((file) => file.startsWith("artifacts/")), "nothing of artifacts/ packed")
    assert.isFalse(existsSync(repo.path(".runs")), "nothing under the default runs root")
    assert.isFalse(existsSync(repo.path("out")), "nothing under the default out root")
    const lines = readNdjson(join(runsDir, task, "metrics.json"))
    assert.strictEqual(lines[0]?.["learning_validation_status"], "validated")
  })

  it("a runs root named through a link to the repository ($PWD/.runs where $PWD is a link): every recorded path is repository-relative", async () => {
    const repo = gitRepo()
    const linkDir = realpathSync(mkdtempSync(join(tmpdir(), "lrn-link-")))
    made.push(linkDir)
    const link = join(linkDir, "lnk")
    symlinkSync(repo.dir, link)
    const run = await startLearn(repo, learningEnv(true, { CODEX_ORCHESTRATOR_RUNS_DIR: join(link, ".runs") }))
    const runPath = `.runs/${task}/cli/${run.runId}`
    assert.strictEqual(run.output["artifact_root"], runPath)
    assert.strictEqual(validationOf(run.manifest)["status"], "validated", JSON.stringify(learningOf(run.manifest)))
    const snapshot = snapshotOf(run.manifest)
    assert.strictEqual(snapshot["tarball_path"], `${runPath}/learning/${run.runId}.tar.gz`)
    assert.strictEqual(snapshot["storage_path"], `.runs/learning-snapshots/${task}/${run.runId}.tar.gz`)
    assert.strictEqual(asObject(learningOf(run.manifest)["queue"], "learning.queue")["manifest_path"], `${runPath}/manifest.json`)
    // Nothing written or said climbs out of the repository to come back in through the link.
    const written = [JSON.stringify(run.manifest), readFileSync(join(run.runDir, "learning", "queue-payload.json"), "utf8"), run.result.stdout, run.result.stderr]
    for (const text of written) assert.notInclude(text, "../", text.slice(0, 400))
  })
})

describe("the prompt fallback (LRN-5)", () => {
  it("a run with no successful command replays the command its --prompt-file shows, and validates it", async () => {
    const repo = gitRepo()
    writeFileSync(repo.path("codex.orchestrator.json"), `${JSON.stringify({
      pipelines: [pipeline("soft", [commandStage("probe", "exit 3", { allowFailure: true })], { guardrailsRequired: false })]
    }, null, 2)}\n`)
    git(repo.dir, "commit", "-q", "-am", "soft pipeline")
    // Outside the repository, so the prompt file itself does not make the tree dirty.
    const promptDir = realpathSync(mkdtempSync(join(tmpdir(), "learning-cli-prompt-")))
    made.push(promptDir)
    const promptText = "Check the readme exists:\n\n```sh\ntest -f README.md\n```\n"
    writeFileSync(join(promptDir, "task.md"), promptText)

    const run = await startJson(repo, ["soft", "--task", task, "--prompt-file", join(promptDir, "task.md")], learningEnv(true))
    assert.strictEqual(run.result.code, 0, describeResult(run.result))
    assert.strictEqual(readFileSync(join(run.runDir, "prompt.md"), "utf8"), promptText, "the prompt is kept in the run folder")
    const scenarioSection = asObject(learningOf(run.manifest)["scenario"], "learning.scenario")
    assert.strictEqual(scenarioSection["source"], "prompt")
    const scenario = readJson(join(run.runDir, "learning", "scenario.json"))
    assert.deepStrictEqual(asArray(scenario["commands"], "scenario.commands"), ["test -f README.md"])
    assert.strictEqual(asObject(scenario["context"], "scenario.context")["prompt"], promptText)
    const payload = readJson(join(run.runDir, "learning", "queue-payload.json"))
    assert.strictEqual(payload["prompt_path"], `${asString(run.manifest["artifact_root"], "artifact_root")}/prompt.md`)
    assert.strictEqual(validationOf(run.manifest)["status"], "validated", JSON.stringify(learningOf(run.manifest)))
  })

  it("a --prompt-file that does not exist is bad input: exit 2, the file named, nothing written", async () => {
    const repo = gitRepo()
    const result = await runCli(["start", "learn", "--task", task, "--prompt-file", "missing-prompt.md"], {
      cwd: repo.dir,
      env: learningEnv(true)
    })
    assert.strictEqual(result.code, 2, describeResult(result))
    assert.include(result.stderr, "missing-prompt.md")
    assert.isFalse(existsSync(repo.path(".runs")), "nothing written")
  })
})

describe("learning and nested runs (D-17)", () => {
  it("only the run that was started is captured: its nested child run gets no snapshot, scenario or tag of its own", async () => {
    const repo = gitRepo()
    // A parent pipeline that nests `learn` (as a child run) and then runs a stage of its own.
    writeFileSync(repo.path("codex.orchestrator.json"), `${JSON.stringify({
      pipelines: [
        ...config().pipelines,
        pipeline("parent", [subpipelineStage("inner", "learn"), commandStage("after", "test -f README.md")], {
          guardrailsRequired: false
        })
      ]
    }, null, 2)}\n`)
    git(repo.dir, "commit", "-q", "-am", "parent pipeline")
    const run = await startJson(repo, ["parent", "--task", task], learningEnv(true))
    assert.strictEqual(run.result.code, 0, describeResult(run.result))
    assert.strictEqual(validationOf(run.manifest)["status"], "validated")
    assert.isTrue(existsSync(join(run.runDir, "learning", "scenario.json")), "the parent run is learned from")

    const childRuns = asArray(run.manifest["child_runs"], "child_runs")
    assert.strictEqual(childRuns.length, 1)
    const childId = asString(asObject(childRuns[0], "child_runs[0]")["run_id"], "child_runs[0].run_id")
    const childDir = repo.path(".runs", task, "cli", childId)
    const child = readJson(join(childDir, "manifest.json"))
    assert.strictEqual(child["status"], "succeeded")
    assert.strictEqual(validationOf(child)["status"], "pending")
    assert.notProperty(learningOf(child), "snapshot")
    assert.isFalse(existsSync(join(childDir, "learning")), "no learning/ folder in the child run")
    // One tag and one stored copy: the parent's.
    assert.strictEqual(git(repo.dir, "tag", "--list", "learning-snapshot-*").split("\n").filter(Boolean).length, 1)
  })
})

// D-13: the manifest and the stage log were redacted, but learning/scenario.json held the command's
// secret and learning/scenario-validation.log the secret its replay printed.
describe("learning in enforce mode (D-13)", () => {
  const files = (dir: string): ReadonlyArray<string> =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)]
    )

  it("no record under .runs/ holds a secret of the replayed command or of its output; the replay runs the real command", async () => {
    const repo = gitRepo("printf 'ok api_key=abcdef%s\\n' 123456 # Authorization: Bearer eyJcmdSecret99")
    const run = await startLearn(repo, learningEnv(true, { CODEX_PRIVACY_GUARD_MODE: "enforce" }))
    assert.strictEqual(validationOf(run.manifest)["status"], "validated", JSON.stringify(learningOf(run.manifest)))
    // The snapshot is a copy of the tree (which holds the config): byte for byte, by design.
    const records = files(repo.path(".runs")).filter((file) => !file.endsWith(".tar.gz") && !file.endsWith(".diff"))
    assert.isAbove(records.filter((file) => file.includes(`${sep}learning${sep}`)).length, 3)
    for (const secret of ["abcdef123456", "eyJcmdSecret99"]) {
      assert.deepStrictEqual(records.filter((file) => readFileSync(file, "utf8").includes(secret)), [], secret)
    }
    const log = readFileSync(join(run.runDir, "learning", "scenario-validation.log"), "utf8")
    assert.include(log, "ok api_key=[REDACTED]")
  })
})

describe("when learning does not run or cannot", () => {
  it("a failed run (stage exits 1) with learning on: exit 1, no learning/ folder, validation stays pending", async () => {
    const repo = gitRepo("exit 1")
    const run = await startLearn(repo, learningEnv(true), 1)
    assert.strictEqual(run.manifest["status"], "failed")
    assert.isFalse(existsSync(join(run.runDir, "learning")), "no learning/ folder")
    const learning = learningOf(run.manifest)
    assert.strictEqual(validationOf(run.manifest)["status"], "pending")
    assert.notProperty(learning, "snapshot")
    assert.strictEqual(metricsLines(repo)[0]?.["learning_validation_status"], "pending")
    assert.deepStrictEqual(git(repo.dir, "tag", "--list", "learning-snapshot-*"), "")
    assert.isFalse(existsSync(repo.path(".runs", "learning-snapshots")), "no stored copy")
  })

  it("without LEARNING_PIPELINE_ENABLED: no learning/ folder, no tag", async () => {
    const repo = gitRepo()
    const run = await startLearn(repo, learningEnv(false))
    assert.isFalse(existsSync(join(run.runDir, "learning")), "no learning/ folder")
    assert.strictEqual(validationOf(run.manifest)["status"], "pending")
    assert.deepStrictEqual(git(repo.dir, "tag", "--list", "learning-snapshot-*"), "")
  })

  it("LEARNING_PIPELINE_ENABLED=true is not `1` (LRN-1): no learning/ folder", async () => {
    const repo = gitRepo()
    const run = await startLearn(repo, learningEnv(false, { LEARNING_PIPELINE_ENABLED: "true" }))
    assert.isFalse(existsSync(join(run.runDir, "learning")), "no learning/ folder")
    assert.strictEqual(validationOf(run.manifest)["status"], "pending")
  })

  it("outside a git repository: the run still succeeds, the snapshot fails once (no retries) naming the cause", async () => {
    const repo = plainRepo()
    // Keep git from finding a repository above the temp folder.
    const run = await startLearn(repo, learningEnv(true, { GIT_CEILING_DIRECTORIES: dirname(repo.dir) }))
    assert.strictEqual(run.manifest["status"], "succeeded")
    const validation = validationOf(run.manifest)
    assert.strictEqual(validation["status"], "snapshot_failed", JSON.stringify(learningOf(run.manifest)))
    assert.include(asString(validation["reason"], "validation.reason"), "not a git repository")
    const snapshot = snapshotOf(run.manifest)
    assert.strictEqual(snapshot["status"], "snapshot_failed")
    assert.strictEqual(snapshot["attempts"], 1)
    assert.include(asString(snapshot["last_error"], "snapshot.last_error"), "not a git repository")
    const alerts = asArray(learningOf(run.manifest)["alerts"], "learning.alerts").map((a, i) => asObject(a, `alerts[${i}]`))
    assert.isAbove(alerts.length, 0)
    assert.isTrue(alerts.every((a) => a["type"] === "snapshot_failed"))
    assert.isFalse(existsSync(join(run.runDir, "learning", "scenario.json")), "no scenario")
    assert.strictEqual(metricsLines(repo)[0]?.["learning_validation_status"], "snapshot_failed")
    assert.strictEqual(stateValidation(repo)["failed"], 1)
  })
})
