/**
 * The privacy guard end to end with the built CLI on real processes (SPEC PRIV-1..4, DECISIONS D-13):
 * the mode comes from CODEX_PRIVACY_GUARD_MODE, else CODEX_PRIVACY_GUARD_ENFORCE; in enforce mode no
 * file the run writes holds the secret, even when a stage prints it in two writes with a pause between.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import {
  asArray,
  commandAt as commandAtOf,
  asObject,
  asString,
  commandStage,
  describeResult,
  type JsonObject,
  pipeline,
  readNdjson,
  requireBuiltCli,
  runCli,
  stageOutput,
  startJson,
  type TempRepo,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const secret = "abcdef123456"

// Neither command holds the secret itself: `%s` puts its two halves together at run time.
const config = {
  pipelines: [
    pipeline("leak", [
      commandStage("plain", `printf 'api_key=abcdef%s\\n' 123456`),
      commandStage("split", `printf 'api_'; sleep 0.3; printf 'key=abcdef%s\\n' 123456`)
    ])
  ]
}

/** Neither privacy variable from the developer's shell: each test sets what it means. */
const privacyEnv = (env: Readonly<Record<string, string>>): Readonly<Record<string, string | undefined>> => ({
  CODEX_PRIVACY_GUARD_MODE: undefined,
  CODEX_PRIVACY_GUARD_ENFORCE: undefined,
  ...env
})

/** Every file under `dir` (symlinks followed when read), recursively. */
const walk = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]
  )

/** The files under `<repo>/.runs` whose content includes `text`. */
const runFilesContaining = (repo: TempRepo, text: string): ReadonlyArray<string> => {
  const files = walk(repo.path(".runs"))
  assert.isAbove(files.length, 5, "the run wrote its files")
  return files.filter((file) => readFileSync(file, "utf8").includes(text)).map((file) => file.slice(repo.dir.length + 1))
}

const privacyOf = (manifest: JsonObject) => asObject(manifest["privacy"], "manifest.privacy")

const decisionsOf = (manifest: JsonObject) =>
  asArray(privacyOf(manifest)["decisions"], "manifest.privacy.decisions").map((d, i) => asObject(d, `decision ${i}`))

const startLeak = (repo: TempRepo, env: Readonly<Record<string, string>>) =>
  startJson(repo, ["leak", "--task", "priv"], privacyEnv(env))

const assertEnforced = async (repo: TempRepo, env: Readonly<Record<string, string>>) => {
  const run = await startLeak(repo, env)
  assert.strictEqual(run.result.code, 0, describeResult(run.result))
  assert.strictEqual(run.manifest["status"], "succeeded")

  assert.deepStrictEqual(runFilesContaining(repo, secret), [], "files under .runs/ holding the secret")
  assert.strictEqual(stageOutput(join(run.runDir, "commands", "01-plain.ndjson"), "stdout"), "api_key=[REDACTED]\n")
  assert.strictEqual(stageOutput(join(run.runDir, "commands", "02-split.ndjson"), "stdout"), "api_key=[REDACTED]\n")

  const privacy = privacyOf(run.manifest)
  assert.strictEqual(privacy["mode"], "enforce")
  const decisions = decisionsOf(run.manifest)
  assert.deepStrictEqual(
    decisions.map((d) => [d["stage_id"], d["action"], d["rule"], d["reason"]]),
    [
      ["plain", "redact", "sensitive-token", "detected high-risk token"],
      ["split", "redact", "sensitive-token", "detected high-risk token"]
    ]
  )
  const logPath = asString(privacy["log_path"], "privacy.log_path")
  assert.strictEqual(logPath, `${asString(run.output["artifact_root"], "artifact_root")}/privacy-decisions.ndjson`)
  assert.deepStrictEqual(readNdjson(repo.path(logPath)), decisions)
}

describe("privacy guard with the built CLI (PRIV-1, D-13)", () => {
  it("CODEX_PRIVACY_GUARD_MODE=enforce: the secret is in no file under .runs/, even printed in two writes", () =>
    withRepo(config, (repo) => assertEnforced(repo, { CODEX_PRIVACY_GUARD_MODE: "enforce" })))

  it("CODEX_PRIVACY_GUARD_ENFORCE=1 (MODE unset) enforces too", () =>
    withRepo(config, (repo) => assertEnforced(repo, { CODEX_PRIVACY_GUARD_ENFORCE: "1" })))

  it("by default (shadow) the output is written as printed and the findings say shadow-mode", () =>
    withRepo(config, async (repo) => {
      const run = await startLeak(repo, {})
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      assert.strictEqual(stageOutput(join(run.runDir, "commands", "01-plain.ndjson"), "stdout"), `api_key=${secret}\n`)
      // The split stage's two writes are two chunks: the pause really splits the secret.
      const split = readNdjson(join(run.runDir, "commands", "02-split.ndjson")).filter((e) => e["type"] === "exec:chunk")
      assert.deepStrictEqual(split.map((e) => e["data"]), ["api_", `key=${secret}\n`])
      assert.include(runFilesContaining(repo, secret), join(asString(run.output["artifact_root"], "artifact_root"), "commands", "01-plain.ndjson"))

      assert.strictEqual(privacyOf(run.manifest)["mode"], "shadow")
      const decisions = decisionsOf(run.manifest)
      assert.deepStrictEqual(
        decisions.filter((d) => d["stage_id"] === "plain").map((d) => [d["action"], d["rule"], d["reason"]]),
        [["allow", "sensitive-token", "shadow-mode"]]
      )
      for (const decision of decisions) {
        assert.strictEqual(decision["action"], "allow")
        assert.strictEqual(decision["reason"], "shadow-mode")
      }
    }))

  it("CODEX_PRIVACY_GUARD_MODE= (empty) with CODEX_PRIVACY_GUARD_ENFORCE=1 is shadow: an explicit MODE decides", () =>
    withRepo(config, async (repo) => {
      const run = await startLeak(repo, { CODEX_PRIVACY_GUARD_MODE: "", CODEX_PRIVACY_GUARD_ENFORCE: "1" })
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      assert.strictEqual(privacyOf(run.manifest)["mode"], "shadow")
      assert.strictEqual(stageOutput(join(run.runDir, "commands", "01-plain.ndjson"), "stdout"), `api_key=${secret}\n`)
      assert.deepStrictEqual(
        decisionsOf(run.manifest).filter((d) => d["stage_id"] === "plain").map((d) => [d["action"], d["reason"]]),
        [["allow", "shadow-mode"]]
      )
    }))

  // It ran in shadow mode: every secret written as printed while the user believed them redacted.
  it("CODEX_PRIVACY_GUARD_MODE=enforced (a typo) is bad input: exit 2 naming the variable, nothing run; status still answers", () =>
    withRepo(config, async (repo) => {
      const env = privacyEnv({ CODEX_PRIVACY_GUARD_MODE: "enforced" })
      const result = await runCli(["start", "leak", "--task", "priv-typo", "--format", "json"], { cwd: repo.dir, env })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, "error: CODEX_PRIVACY_GUARD_MODE=\"enforced\" is not enforce or shadow", describeResult(result))
      assert.strictEqual(result.stdout, "")
      assert.isFalse(existsSync(repo.path(".runs")), "nothing was run")
      const status = await runCli(["status", "--task", "priv-typo"], { cwd: repo.dir, env })
      assert.notInclude(status.stderr, "CODEX_PRIVACY_GUARD_MODE", describeResult(status))
    }))

  // D-13: "redaction applies to everything we write (logs, ...)": the orchestrator's own log lines too.
  it("enforce: the CLI's own output (stdout and its log on stderr) does not show a secret from a command or its output", () =>
    withRepo(
      {
        pipelines: [
          pipeline("loud", [commandStage("deploy", `echo 'denied for password=hunter2hunter2' >&2; exit 3 # token=abcdef123456`)])
        ]
      },
      async (repo) => {
        const run = await startJson(repo, ["loud", "--task", "priv"], privacyEnv({ CODEX_PRIVACY_GUARD_MODE: "enforce" }))
        assert.strictEqual(run.manifest["status"], "failed", describeResult(run.result))
        assert.deepStrictEqual(runFilesContaining(repo, "hunter2hunter2"), [])
        assert.deepStrictEqual(runFilesContaining(repo, secret), [])
        for (const text of [run.result.stdout, run.result.stderr]) {
          assert.notInclude(text, "hunter2hunter2", describeResult(run.result))
          assert.notInclude(text, secret, describeResult(run.result))
        }
      }
    ))

  it("enforce: only the value is redacted, so a recorded command still reads as two commands (issue 16, item 10)", () =>
    withRepo({ pipelines: [pipeline("two", [commandStage("both", "echo api_key=abcdef123456zz; printf 'done\\n'")])] }, async (repo) => {
      const run = await startJson(repo, ["two", "--task", "priv"], privacyEnv({ CODEX_PRIVACY_GUARD_MODE: "enforce" }))
      assert.strictEqual(run.result.code, 0, describeResult(run.result))
      assert.strictEqual(commandAtOf(run.manifest, 0)["command"], "echo api_key=[REDACTED]; printf 'done\\n'")
      assert.strictEqual(stageOutput(join(run.runDir, "commands", "01-both.ndjson"), "stdout"), "api_key=[REDACTED]\ndone\n")
    }))

  // The two layouts the fault hunt found (issue 16, item 15): a line longer than the 8 KiB line
  // holder, and a secret near the start of the last 64 KiB of stderr (the error tail).
  it("enforce: a secret on a line longer than 8 KiB, or where the error tail begins, is in no file and not printed", () =>
    withRepo(
      {
        pipelines: [
          pipeline("long", [
            commandStage("line", "printf 'password=EightK%sJJJ' Secret; sleep 0.2; head -c 8180 /dev/zero | tr '\\0' z; sleep 0.2; echo")
          ]),
          pipeline("tail", [
            commandStage("err", "printf 'x password=lCut%sQQQ' Secret >&2; head -c 65530 /dev/zero | tr '\\0' q >&2; exit 4")
          ])
        ]
      },
      async (repo) => {
        const env = privacyEnv({ CODEX_PRIVACY_GUARD_MODE: "enforce" })
        const long = await startJson(repo, ["long", "--task", "priv"], env)
        assert.strictEqual(long.result.code, 0, describeResult(long.result))
        const failed = await startJson(repo, ["tail", "--task", "priv"], env)
        assert.strictEqual(failed.result.code, 1, describeResult(failed.result))
        for (const fragment of ["KSecretJJJ", "EightKSec", "CutSecretQQQ", "lCutSec", "SecretQQQ"]) {
          assert.deepStrictEqual(runFilesContaining(repo, fragment), [], fragment)
          for (const text of [long.result.stdout, long.result.stderr, failed.result.stdout, failed.result.stderr]) {
            assert.notInclude(text, fragment)
          }
        }
        assert.strictEqual(stageOutput(join(long.runDir, "commands", "01-line.ndjson"), "stdout"), "password=[REDACTED]\n")
      }
    ))

  // Found by a fault hunt: each was written in clear in enforce mode. A JSON object printed in two
  // writes split inside a UTF-8 character, CRLF lines, curl -v's Authorization header, a URL's password.
  it("enforce: a JSON password split inside a UTF-8 character, a Bearer header and a URL password are in no file", () =>
    withRepo(
      {
        pipelines: [
          pipeline("odd", [
            commandStage(
              "print",
              `printf '{"user": "\\303'; sleep 0.2; printf '\\251", "password": "p\\303\\251 s%s%s"}\\r\\n' ecret- Phrase; ` +
                `printf '> Authorization: Bearer eyJ%sXYZ\\r\\n' abc123; printf 'DATABASE_URL=postgres://app:Pg%s@db/x\\n' Pass99`
            )
          ])
        ]
      },
      async (repo) => {
        const run = await startJson(repo, ["odd", "--task", "priv"], privacyEnv({ CODEX_PRIVACY_GUARD_MODE: "enforce" }))
        assert.strictEqual(run.result.code, 0, describeResult(run.result))
        for (const fragment of ["ecret-Phrase", "eyJabc123XYZ", "PgPass99"]) {
          assert.deepStrictEqual(runFilesContaining(repo, fragment), [], fragment)
          assert.notInclude(run.result.stdout + run.result.stderr, fragment)
        }
        assert.strictEqual(
          stageOutput(join(run.runDir, "commands", "01-print.ndjson"), "stdout"),
          '{"user": "\u00e9", "password": "[REDACTED]"}\r\n> Authorization: Bearer [REDACTED]\r\nDATABASE_URL=postgres://app:[REDACTED]@db/x\n'
        )
      }
    ))
})
