/**
 * Notifications on the built CLI (SPEC EXEC-4, DECISIONS B-6): a real HTTP server on 127.0.0.1
 * receives the run:summary event; a server error is retried, an unreachable target is a warning and
 * an entry in the summary's `notifications`, and the run's exit code stays the command's.
 */
import { existsSync } from "node:fs"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeJsonlLine, type RunSummaryEvent } from "../../src/domain/RunSummaryEvent.js"
import {
  commandStage,
  describeResult,
  pipeline,
  requireBuiltCli,
  runCli,
  spawnCli,
  waitFor,
  withRepo
} from "../support/cli.js"
import { type Reply, startHttpServer, type TestHttpServer } from "../support/httpServer.js"

beforeAll(requireBuiltCli)

const task = "notify-it"

/** The last stdout line, decoded with the schema a consumer uses; anything else fails the test. */
const lastSummary = async (stdout: string): Promise<RunSummaryEvent> => {
  const last = stdout.trim().split("\n").at(-1) ?? ""
  const line = await Effect.runPromise(decodeJsonlLine(last))
  if (line.type !== "run:summary") return assert.fail(`the last line is not run:summary: ${last}`)
  return line
}

/** A POSTed body, decoded as a run:summary event. */
const postedSummary = async (server: TestHttpServer, index: number): Promise<RunSummaryEvent> => {
  const request = server.received[index]
  assert.strictEqual(request?.method, "POST")
  assert.strictEqual(request?.headers["content-type"], "application/json")
  return lastSummary(JSON.stringify(request?.body))
}

const withServer = async <A>(respond: (index: number) => Reply, f: (server: TestHttpServer) => Promise<A>): Promise<A> => {
  const server = await startHttpServer((_request, index) => respond(index))
  try {
    return await f(server)
  } finally {
    await server.close()
  }
}

/** A URL nothing listens on: a server's port, after that server is closed. */
const unreachableUrl = async (): Promise<string> => {
  const server = await startHttpServer(() => ({ status: 200 }))
  await server.close()
  return `${server.baseUrl}/gone`
}

describe("--notify: the run summary POSTed as JSON (EXEC-4)", () => {
  it("exec: delivered once to a target given twice (comma list and repeated flag); the summary records it", () =>
    withServer(() => ({ status: 204 }), (server) =>
      withRepo(undefined, async (repo) => {
        const hook = `${server.baseUrl}/hook`
        const result = await runCli(
          ["exec", "--task", task, "--jsonl", "--notify", `${hook}, ${hook}`, "--notify", hook, "--", "echo", "hi"],
          { cwd: repo.dir }
        )
        assert.strictEqual(result.code, 0, describeResult(result))
        assert.strictEqual(server.received.length, 1, "one POST for the one target")
        assert.strictEqual(server.received[0]?.url, "/hook")
        const posted = await postedSummary(server, 0)
        const printed = await lastSummary(result.stdout)
        assert.strictEqual(posted.payload.run.id, printed.payload.run.id)
        assert.strictEqual(posted.payload.status, "succeeded")
        assert.strictEqual(posted.payload.outputs?.stdout, "hi\n")
        assert.deepStrictEqual(posted.payload.notifications.targets, [hook])
        assert.deepStrictEqual(printed.payload.notifications, { targets: [hook], delivered: [hook], failures: [] })
        assert.notInclude(result.stderr, "Could not deliver")
      })))

  it("start: a 500 is retried and the second attempt delivers; targets from CODEX_ORCHESTRATOR_NOTIFY", () =>
    withServer((index) => ({ status: index === 0 ? 500 : 200 }), (server) =>
      withRepo({ pipelines: [pipeline("one", [commandStage("only", "exit 1")])] }, async (repo) => {
        const hook = `${server.baseUrl}/runs`
        const result = await runCli(["start", "one", "--task", task, "--jsonl"], {
          cwd: repo.dir,
          env: { CODEX_ORCHESTRATOR_NOTIFY: hook }
        })
        assert.strictEqual(result.code, 1, `a failed run is still exit 1\n${describeResult(result)}`)
        assert.strictEqual(server.received.length, 2, describeResult(result))
        const posted = await postedSummary(server, 1)
        assert.strictEqual(posted.payload.status, "failed")
        assert.deepStrictEqual(posted.payload.stages.map((s) => [s.id, s.status]), [["only", "failed"]])
        assert.deepStrictEqual((await lastSummary(result.stdout)).payload.notifications, { targets: [hook], delivered: [hook], failures: [] })
      })))

  it("an unreachable target: 4 attempts, a stderr warning and a failure in notifications; the run's exit code is kept", async () => {
    const gone = await unreachableUrl()
    await withServer(() => ({ status: 200 }), (server) =>
      withRepo({ pipelines: [pipeline("one", [commandStage("only", "true")])], notify: [gone, `${server.baseUrl}/ok`] }, async (repo) => {
        // The config file's `notify` list is used when neither the flag nor the environment names one.
        const result = await runCli(["start", "one", "--task", task, "--jsonl"], { cwd: repo.dir })
        assert.strictEqual(result.code, 0, describeResult(result))
        assert.strictEqual(server.received.length, 1, "the reachable target still got it")
        const { notifications } = (await lastSummary(result.stdout)).payload
        assert.deepStrictEqual(notifications.delivered, [`${server.baseUrl}/ok`])
        assert.strictEqual(notifications.failures.length, 1)
        assert.deepInclude(notifications.failures[0], { target: gone, attempts: 4 })
        assert.include(notifications.failures[0]?.error, "ECONNREFUSED")
        assert.include(result.stderr, `Could not deliver the run summary to ${gone}`)
      }))
  }, 30_000)

  it("a target that is not an http(s) URL is bad input: exit 2, one line, nothing run", () =>
    withRepo({ pipelines: [pipeline("one", [commandStage("only", "true")])] }, async (repo) => {
      const cases: ReadonlyArray<[ReadonlyArray<string>, Readonly<Record<string, string>>, string]> = [
        [["exec", "--notify", "ftp://example.com/x", "--", "true"], {}, "--notify ftp://example.com/x is not an http(s) URL"],
        [["start", "one", "--notify", "hooks.example.com"], {}, "--notify hooks.example.com is not an http(s) URL"],
        [["start", "one"], { CODEX_ORCHESTRATOR_NOTIFY: "http://ok.example.com,nope" }, "CODEX_ORCHESTRATOR_NOTIFY"],
        [["exec", "--notify", "https://bot:s3cret@hooks.example.com/x", "--", "true"], {}, "--notify https://bot:***@hooks.example.com/x carries a user name or password"],
        [["start", "one"], { CODEX_ORCHESTRATOR_NOTIFY: "https://bot:s3cret@hooks.example.com/x" }, "https://bot:***@hooks.example.com/x"]
      ]
      for (const [args, env, message] of cases) {
        const result = await runCli([...args.slice(0, 1), "--task", task, ...args.slice(1)], { cwd: repo.dir, env })
        assert.strictEqual(result.code, 2, describeResult(result))
        assert.include(result.stderr, message)
        assert.notInclude(result.stderr, "s3cret")
        assert.strictEqual(result.stdout, "")
      }
      assert.isFalse(existsSync(repo.path(".runs")), "no run was created")
    }))

  it("a target with a line break or another control character is bad input: exit 2, one line naming the source, nothing run", () =>
    withRepo({ pipelines: [pipeline("one", [commandStage("only", "true")])] }, async (repo) => {
      const fix = "; remove it: a URL is one line of printable characters"
      const cases: ReadonlyArray<[ReadonlyArray<string>, Readonly<Record<string, string>>, string]> = [
        [["exec", "--notify", "https://hooks.example.com/co\ndex", "--", "true"], {},
          `error: --notify https://hooks.example.com/co\\ndex contains a control character (\\n)${fix}; give one like https://example.com/hook.`],
        [["start", "one", "--notify", "https://a.example.com/x,https://hooks.example.com/x\u0001y"], {},
          `error: --notify https://hooks.example.com/x\\u0001y contains a control character (\\u0001)${fix}; give one like https://example.com/hook.`],
        [["start", "one"], { CODEX_ORCHESTRATOR_NOTIFY: "https://hooks.example.com/a\tb" },
          `error: CODEX_ORCHESTRATOR_NOTIFY: the target "https://hooks.example.com/a\\tb" contains a control character (\\t)${fix}.`]
      ]
      for (const [args, env, line] of cases) {
        const result = await runCli([...args.slice(0, 1), "--task", task, ...args.slice(1)], { cwd: repo.dir, env })
        assert.strictEqual(result.code, 2, describeResult(result))
        assert.strictEqual(result.stderr, `${line}\n`)
        assert.strictEqual(result.stdout, "")
      }
      assert.isFalse(existsSync(repo.path(".runs")), "no run was created")
    }))

  it("a config file whose notify list has a bad target is bad input naming the field", () =>
    withRepo({ pipelines: [pipeline("one", [commandStage("only", "true")])], notify: ["nope"] }, async (repo) => {
      const result = await runCli(["start", "one", "--task", task], { cwd: repo.dir })
      assert.strictEqual(result.code, 2, describeResult(result))
      assert.include(result.stderr, "codex.orchestrator.json is not valid: notify.0: must be an http:// or https:// URL")
      assert.isFalse(existsSync(repo.path(".runs")), "no run was created")
    }))

  describe("a cancelled run is delivered too, before the exit (Ctrl-C, or SIGTERM as `timeout` sends)", () => {
    const slow = "touch started; sleep 47.3"
    const cases: ReadonlyArray<[string, NodeJS.Signals, ReadonlyArray<string>]> = [
      ["start", "SIGINT", ["start", "slow", "--task", task]],
      ["start --jsonl", "SIGINT", ["start", "slow", "--task", task, "--jsonl"]],
      ["exec --jsonl", "SIGINT", ["exec", "--task", task, "--jsonl", "--", "sh", "-c", slow]],
      ["exec --json", "SIGTERM", ["exec", "--task", task, "--json=compact", "--", "sh", "-c", slow]]
    ]
    for (const [name, signal, args] of cases) {
      it(`${name}: ${signal} POSTs the summary with status cancelled, then exits 130`, () =>
        withServer(() => ({ status: 200 }), (server) =>
          withRepo({ pipelines: [pipeline("slow", [commandStage("wait", slow)])] }, async (repo) => {
            const hook = `${server.baseUrl}/cancelled`
            const cli = spawnCli([...args.slice(0, 1), "--notify", hook, ...args.slice(1)], { cwd: repo.dir })
            await waitFor("the stage started", () => (existsSync(repo.path("started")) ? true : undefined))
            assert.strictEqual(server.received.length, 0, "nothing is sent while the run goes")
            cli.kill(signal)
            const result = await cli.done
            assert.strictEqual(result.code, 130, describeResult(result))
            assert.strictEqual(server.received.length, 1, describeResult(result))
            const posted = await postedSummary(server, 0)
            assert.strictEqual(posted.payload.status, "cancelled")
            assert.strictEqual(posted.payload.stages[0]?.status, "cancelled")
            assert.isTrue(existsSync(repo.path(posted.payload.run.manifest)), "it names the run's manifest")
            if (name.startsWith("start --jsonl") || name.startsWith("exec")) {
              const printed = await lastSummary(result.stdout)
              assert.strictEqual(printed.payload.run.id, posted.payload.run.id)
              assert.deepStrictEqual(printed.payload.notifications, { targets: [hook], delivered: [hook], failures: [] })
            } else {
              assert.include(result.stdout, posted.payload.run.id, "the run's document is printed as before")
            }
          })), 60_000)
    }
  })
})

describe("--help of the commands that watch a run", () => {
  it("exec, start and resume list --notify, --otel-endpoint and --jsonl as optional in their usage line", () =>
    withRepo(undefined, async (repo) => {
      for (const command of ["exec", "start", "resume"]) {
        const result = await runCli([command, "--help"], { cwd: repo.dir })
        assert.strictEqual(result.code, 0, describeResult(result))
        const usage = result.stdout.split("\n").find((line) => line.startsWith("$ ")) ?? assert.fail(`${command}: no usage line`)
        for (const option of ["[--notify url...]", "[--otel-endpoint url]", "[--jsonl]"]) assert.include(usage, option, `${command}: ${usage}`)
        assert.include(result.stdout, "cancelled by Ctrl-C or SIGTERM too", "--notify says a cancelled run is delivered")
      }
    }))
})
