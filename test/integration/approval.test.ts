/**
 * Approvals end to end (SPEC APR-1..3, MAN-4 as changed by DECISIONS D-14): the built CLI in a
 * temporary repository, with `--approval-policy never|on-request|auto`, without a terminal, and on a
 * real pseudo-terminal driven through util-linux `script` (the prompt on stderr, the answer on stdin).
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  asObject,
  asString,
  cliEnv,
  cliPath,
  commandAt,
  commandStage,
  describeResult,
  type JsonObject,
  listDir,
  liveProcessesUnder,
  pipeline,
  readJson,
  requireBuiltCli,
  runCli,
  runDirsOf,
  type TempRepo,
  waitFor,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const task = "t"

/** `deploy` needs approval and leaves `deployed.txt` behind when it runs; `after` leaves `after.txt`. */
const config = {
  pipelines: [
    pipeline("gated", [
      commandStage("prep", "echo prep"),
      commandStage("deploy", "touch deployed.txt", { title: "Deploy it", approvalRequired: true }),
      commandStage("after", "touch after.txt")
    ], { guardrailsRequired: false })
  ]
}

const neverReason = "--approval-policy never forbids new approvals"
const nobodyReason = "nobody can be asked"

/** The manifest of the only run of `task` in `repo`. */
const onlyManifest = (repo: TempRepo): { readonly runDir: string; readonly manifest: JsonObject } => {
  const dirs = runDirsOf(repo, task)
  assert.strictEqual(dirs.length, 1, `expected one run folder, found ${JSON.stringify(dirs)}`)
  const runDir = dirs[0] ?? assert.fail("no run folder")
  return { runDir, manifest: readJson(join(runDir, "manifest.json")) }
}

const approvalsOf = (manifest: JsonObject) =>
  asArray(manifest["approvals"], "approvals").map((a, i) => asObject(a, `approvals[${i}]`))

const errorFileOf = (repo: TempRepo, manifest: JsonObject, position: number) =>
  readJson(repo.path(asString(commandAt(manifest, position)["error_file"], "error_file")))

const start = (repo: TempRepo, extra: ReadonlyArray<string> = []) =>
  runCli(["start", "gated", "--task", task, ...extra], { cwd: repo.dir })

/** The deploy stage never ran: its file is absent, and so is the later stage's. */
const assertDeployNeverRan = (repo: TempRepo) => {
  assert.isFalse(existsSync(repo.path("deployed.txt")), "the command of a stage not approved ran")
  assert.isFalse(existsSync(repo.path("after.txt")), "a stage after the refused one ran")
}

// ---------------------------------------------------------------------------------------------

describe.concurrent("--approval-policy without a terminal", () => {
  it("never: exit 1, the reason on stdout and stderr, the stage's command never runs, a denial recorded", () =>
    withRepo(config, async (repo) => {
      const result = await start(repo, ["--approval-policy", "never"])
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.include(result.stdout, "stage:deploy:approval-required", describeResult(result))
      assert.include(result.stdout, neverReason, describeResult(result))
      assert.include(result.stderr, "not approved", describeResult(result))
      assert.include(result.stderr, neverReason, describeResult(result))
      assertDeployNeverRan(repo)

      const { manifest } = onlyManifest(repo)
      assert.strictEqual(manifest["status"], "failed")
      assert.strictEqual(manifest["status_detail"], "stage:deploy:approval-required")
      assert.strictEqual(manifest["approval_policy"], "never")
      assert.deepStrictEqual(
        asArray(manifest["commands"], "commands").map((c, i) => asObject(c, `commands[${i}]`)["status"]),
        ["succeeded", "failed", "pending"]
      )
      const approvals = approvalsOf(manifest)
      assert.strictEqual(approvals.length, 1)
      const first = approvals[0] ?? assert.fail("no approvals[0]")
      assert.strictEqual(first["decision"], "denied")
      assert.strictEqual(first["policy"], "never")
      assert.strictEqual(first["source"], "policy")
      assert.strictEqual(first["stage_id"], "deploy")
      assert.strictEqual(first["key"], "gated:deploy")
      assert.include(asString(first["reason"], "reason"), neverReason)
      assert.strictEqual(errorFileOf(repo, manifest, 1)["reason"], "approval-required")
    }))

  it("auto: exit 0, the stage runs, the grant recorded with source auto", () =>
    withRepo(config, async (repo) => {
      const result = await start(repo, ["--approval-policy", "auto"])
      assert.strictEqual(result.code, 0, describeResult(result))
      assert.isTrue(existsSync(repo.path("deployed.txt")), "the approved stage did not run")
      assert.isTrue(existsSync(repo.path("after.txt")), "the stage after it did not run")
      const { manifest } = onlyManifest(repo)
      assert.strictEqual(manifest["status"], "succeeded")
      const approvals = approvalsOf(manifest)
      assert.deepStrictEqual(approvals.map((a) => [a["stage_id"], a["source"], a["decision"]]), [["deploy", "auto", "granted"]])
    }))

  it("the default policy (on-request) with nobody to ask: exit 1, approval-required, says why", () =>
    withRepo(config, async (repo) => {
      const result = await start(repo)
      assert.strictEqual(result.code, 1, describeResult(result))
      assert.include(result.stdout, "stage:deploy:approval-required", describeResult(result))
      assert.include(result.stdout, nobodyReason, describeResult(result))
      assert.include(result.stderr, nobodyReason, describeResult(result))
      assert.notInclude(result.stderr, "Approve", "a prompt was printed without a terminal")
      assertDeployNeverRan(repo)
      const { manifest } = onlyManifest(repo)
      assert.strictEqual(manifest["approval_policy"], null)
      assert.strictEqual(manifest["status_detail"], "stage:deploy:approval-required")
      const approvals = approvalsOf(manifest)
      assert.deepStrictEqual(
        approvals.map((a) => [a["policy"], a["source"], a["decision"]]),
        [["on-request", "unavailable", "denied"]]
      )
      assert.strictEqual(errorFileOf(repo, manifest, 1)["reason"], "approval-required")
    }))

  it("an invalid --approval-policy is bad input: exit 2 and nothing written", () =>
    withRepo(config, async (repo) => {
      const before = listDir(repo.dir)
      const result = await start(repo, ["--approval-policy", "bogus"])
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.strictEqual(result.stdout, "", "stdout must stay empty on bad input")
      for (const choice of ["never", "on-request", "auto"]) assert.include(result.stderr, choice, describeResult(result))
      assert.isFalse(existsSync(repo.path(".runs")), ".runs was created")
      assert.deepStrictEqual(listDir(repo.dir), before, "files were written into the repository")
    }))

  it("resume --approval-policy auto after a never failure runs the stage; exit 0", () =>
    withRepo(config, async (repo) => {
      const failed = await start(repo, ["--approval-policy", "never"])
      assert.strictEqual(failed.code, 1, describeResult(failed))
      const runId = asString(onlyManifest(repo).manifest["run_id"], "run_id")

      const resumed = await runCli(["resume", "--run", runId, "--task", task, "--approval-policy", "auto"], { cwd: repo.dir })
      assert.strictEqual(resumed.code, 0, describeResult(resumed))
      assert.isTrue(existsSync(repo.path("deployed.txt")))
      assert.isTrue(existsSync(repo.path("after.txt")))
      const { manifest } = onlyManifest(repo)
      assert.strictEqual(manifest["status"], "succeeded")
      assert.strictEqual(manifest["approval_policy"], "auto")
      assert.deepStrictEqual(approvalsOf(manifest).map((a) => [a["policy"], a["source"], a["decision"]]), [
        ["never", "policy", "denied"],
        ["auto", "auto", "granted"]
      ])
    }))

  it("resume --approval-policy bogus is bad input: exit 2, the run untouched", () =>
    withRepo(config, async (repo) => {
      await start(repo, ["--approval-policy", "never"])
      const { runDir, manifest } = onlyManifest(repo)
      const text = readFileSync(join(runDir, "manifest.json"), "utf8")
      const runId = asString(manifest["run_id"], "run_id")
      const resumed = await runCli(["resume", "--run", runId, "--task", task, "--approval-policy", "bogus"], { cwd: repo.dir })
      assert.strictEqual(resumed.code, 2, describeResult(resumed))
      assert.strictEqual(readFileSync(join(runDir, "manifest.json"), "utf8"), text, "the manifest changed")
      assertDeployNeverRan(repo)
    }))
})

// ---------------------------------------------------------------------------------------------
// A real terminal: `script -qec <command> /dev/null` runs the CLI on a pseudo-terminal (stdin and
// stderr are TTYs); the test types the answer once the prompt is on screen.

/** Fails (never skips) when util-linux `script` is missing: these tests are the only TTY coverage. */
const requireScript = (): void => {
  const probe = spawnSync("script", ["--version"], { encoding: "utf8" })
  if (probe.error !== undefined) {
    throw new Error(
      `util-linux \`script\` is required for the approval prompt tests and is not available on this machine ` +
        `(${probe.error.message}). Install util-linux (Debian/Ubuntu: the bsdutils package).`
    )
  }
  if (!`${probe.stdout}${probe.stderr}`.includes("util-linux")) {
    throw new Error(`\`script\` is not util-linux's (\`script --version\`: ${probe.stdout}${probe.stderr}); -qec is needed.`)
  }
}

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`

interface TerminalResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** Everything the terminal showed (stdout and stderr together, with \r\n line ends). */
  readonly screen: string
  /** Whether the approval prompt appeared. */
  readonly prompted: boolean
}

/**
 * Runs the CLI with `args` on a pseudo-terminal in `repo`. Once `Approve` is on screen it types
 * `keys` (verbatim: include the newline), after `delayMs` (as a person reading the question would,
 * and so that the prompt is already reading). Nothing is typed when `keys` is undefined. Stopped
 * (SIGTERM to `script`, which ends the session) and failed after `timeoutMs`.
 */
const runInTerminal = (
  repo: TempRepo,
  args: ReadonlyArray<string>,
  keys: string | undefined,
  options: { readonly delayMs?: number; readonly timeoutMs?: number } = {}
): Promise<TerminalResult> =>
  new Promise((resolvePromise, reject) => {
    const timeoutMs = options.timeoutMs ?? 30_000
    const command = [process.execPath, cliPath, ...args].map(shellQuote).join(" ")
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: repo.dir,
      env: cliEnv(),
      stdio: ["pipe", "pipe", "pipe"]
    })
    let screen = ""
    let prompted = false
    const onData = (chunk: Buffer) => {
      screen += chunk.toString("utf8")
      if (!prompted && screen.includes("Approve")) {
        prompted = true
        if (keys !== undefined) setTimeout(() => child.stdin.write(keys), options.delayMs ?? 300)
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill("SIGTERM") // script ends the session: the CLI gets SIGHUP/SIGTERM, then SIGKILL
    }, timeoutMs)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      child.stdin.end()
      // The CLI may still be writing its manifest after `script` is gone; let it finish before the
      // temp repo is removed, so a cleanup error cannot hide the real failure.
      waitFor("the CLI processes in the temp repo to exit", () => liveProcessesUnder(repo.dir).length === 0 ? true : undefined, {
        timeoutMs: 10_000
      }).then(
        () =>
          timedOut
            ? reject(
              new Error(
                `the CLI on a terminal did not finish within ${timeoutMs} ms (prompted: ${prompted}, typed: ${
                  JSON.stringify(keys)
                })\n--- screen ---\n${screen}`
              )
            )
            : resolvePromise({ code, signal, screen, prompted }),
        reject
      )
    })
  })

const describeScreen = (result: TerminalResult) =>
  `exit ${result.code}${result.signal === null ? "" : ` (signal ${result.signal})`}, prompted: ${result.prompted}\n--- screen ---\n${result.screen}`

describe.concurrent("the approval prompt on a terminal (util-linux script)", () => {
  it("asks with the stage's title, id, command and key; \"y\" approves and the run succeeds", () =>
    withRepo(config, async (repo) => {
      requireScript()
      const result = await runInTerminal(repo, ["start", "gated", "--task", task], "y\n")
      assert.isTrue(result.prompted, `no prompt\n${describeScreen(result)}`)
      assert.strictEqual(result.code, 0, describeScreen(result))
      assert.include(result.screen, "Stage 'Deploy it' (deploy) needs approval to run", describeScreen(result))
      assert.include(result.screen, "touch deployed.txt", describeScreen(result))
      assert.include(result.screen, "key gated:deploy", describeScreen(result))
      assert.isTrue(existsSync(repo.path("deployed.txt")), "the approved stage did not run")
      assert.isTrue(existsSync(repo.path("after.txt")))
      const { manifest } = onlyManifest(repo)
      assert.strictEqual(manifest["status"], "succeeded")
      assert.deepStrictEqual(approvalsOf(manifest).map((a) => [a["actor"], a["policy"], a["source"], a["decision"]]), [
        ["tty", "on-request", "prompt", "granted"]
      ])
    }))

  it("\"n\" denies: exit 1, approval-denied, the command never runs", () =>
    withRepo(config, async (repo) => {
      requireScript()
      const result = await runInTerminal(repo, ["start", "gated", "--task", task], "n\n")
      assert.isTrue(result.prompted, `no prompt\n${describeScreen(result)}`)
      assert.strictEqual(result.code, 1, describeScreen(result))
      assert.include(result.screen, "stage:deploy:approval-denied", describeScreen(result))
      assert.include(result.screen, "approval denied at the prompt", describeScreen(result))
      assertDeployNeverRan(repo)
      const { manifest } = onlyManifest(repo)
      assert.strictEqual(manifest["status_detail"], "stage:deploy:approval-denied")
      assert.deepStrictEqual(approvalsOf(manifest).map((a) => [a["actor"], a["source"], a["decision"]]), [
        ["tty", "prompt", "denied"]
      ])
      assert.strictEqual(errorFileOf(repo, manifest, 1)["reason"], "approval-denied")
    }))

  it("--approval-policy never on a terminal refuses without asking", () =>
    withRepo(config, async (repo) => {
      requireScript()
      const result = await runInTerminal(repo, ["start", "gated", "--task", task, "--approval-policy", "never"], undefined)
      assert.isFalse(result.prompted, `asked although the policy is never\n${describeScreen(result)}`)
      assert.strictEqual(result.code, 1, describeScreen(result))
      assert.include(result.screen, "stage:deploy:approval-required", describeScreen(result))
      assertDeployNeverRan(repo)
    }))

  it("Enter alone takes the default [y/N]: denied", () =>
    withRepo(config, async (repo) => {
      requireScript()
      const result = await runInTerminal(repo, ["start", "gated", "--task", task], "\r")
      assert.isTrue(result.prompted, `no prompt\n${describeScreen(result)}`)
      assert.strictEqual(result.code, 1, describeScreen(result))
      assertDeployNeverRan(repo)
      assert.strictEqual(onlyManifest(repo).manifest["status_detail"], "stage:deploy:approval-denied")
    }))

  it("Ctrl-D at the prompt: nobody answered, so approval-required (exit 1), not a hang", () =>
    withRepo(config, async (repo) => {
      requireScript()
      const result = await runInTerminal(repo, ["start", "gated", "--task", task], "\u0004", {
        delayMs: 1_000,
        timeoutMs: 10_000
      })
      assert.isTrue(result.prompted, `no prompt\n${describeScreen(result)}`)
      assert.strictEqual(result.code, 1, describeScreen(result))
      assertDeployNeverRan(repo)
      const { manifest } = onlyManifest(repo)
      assert.strictEqual(manifest["status_detail"], "stage:deploy:approval-required")
      assert.deepStrictEqual(approvalsOf(manifest).map((a) => [a["source"], a["decision"]]), [["unavailable", "denied"]])
    }))

  it("Ctrl-C at the prompt cancels the run (D-8: exit 130, cancelled), not a hang", () =>
    withRepo(config, async (repo) => {
      requireScript()
      const result = await runInTerminal(repo, ["start", "gated", "--task", task], "\u0003", {
        delayMs: 1_000,
        timeoutMs: 10_000
      })
      assert.isTrue(result.prompted, `no prompt\n${describeScreen(result)}`)
      assert.strictEqual(result.code, 130, describeScreen(result))
      assertDeployNeverRan(repo)
      assert.strictEqual(onlyManifest(repo).manifest["status"], "cancelled")
    }))
})
