/**
 * Bad input (DECISIONS D-1): exit 2, one `error:` line on stderr naming the problem, nothing on
 * stdout, and no `.runs` folder: a run that cannot start writes nothing.
 * (SPEC ENV-3, ENV-4, ID-1, CFG-1, CFG-8, CLI-4; DECISIONS D-3, D-4.)
 */
import { existsSync } from "node:fs"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import {
  commandStage,
  describeResult,
  listDir,
  pipeline,
  requireBuiltCli,
  runCli,
  subpipelineStage,
  withRepo
} from "../support/cli.js"

beforeAll(requireBuiltCli)

const twoStages = { pipelines: [pipeline("p", [commandStage("one", "echo one"), commandStage("two", "echo two")])] }

interface BadInputCase {
  readonly name: string
  /** undefined: no codex.orchestrator.json; a string is written verbatim. */
  readonly config: unknown
  readonly args: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
  /** Each must appear in the `error:` line. */
  readonly mentions: ReadonlyArray<string>
}

const cases: ReadonlyArray<BadInputCase> = [
  {
    name: "MCP_RUNNER_TASK_ID=../x",
    config: twoStages,
    args: ["start", "p", "--format", "json"],
    env: { MCP_RUNNER_TASK_ID: "../x" },
    mentions: ["Invalid MCP_RUNNER_TASK_ID \"../x\"", "Invalid task ID \"../x\": leading dots are not allowed."]
  },
  {
    name: "an invalid MCP_RUNNER_TASK_ID even when --task is valid (ENV-3)",
    config: twoStages,
    args: ["start", "p", "--task", "fine"],
    env: { MCP_RUNNER_TASK_ID: "../x" },
    mentions: ["MCP_RUNNER_TASK_ID", "leading dots are not allowed."]
  },
  {
    name: "--task 'a:b'",
    config: twoStages,
    args: ["start", "p", "--task", "a:b"],
    mentions: ["Invalid task ID \"a:b\": character \":\" is not allowed."]
  },
  {
    name: "--task with a control character",
    config: twoStages,
    args: ["start", "p", "--task", "a\u0001b"],
    mentions: ["Invalid task ID", "control characters are not allowed."]
  },
  {
    name: "a user pipeline named without codex.orchestrator.json",
    config: undefined,
    args: ["start", "mine", "--task", "t"],
    mentions: ["Pipeline 'mine' not found", "codex.orchestrator.json"]
  },
  {
    name: "a malformed codex.orchestrator.json",
    config: "{ \"pipelines\": [ { \"id\": \"p\", ",
    args: ["start", "p", "--task", "t"],
    mentions: ["codex.orchestrator.json"]
  },
  {
    name: "a stage without command",
    config: {
      pipelines: [pipeline("p", [commandStage("one", "echo one"), { kind: "command", id: "two", title: "No command" }])]
    },
    args: ["start", "p", "--task", "t"],
    mentions: ["codex.orchestrator.json", "stages.1.command", "missing"]
  },
  {
    name: "two stages with the same id",
    config: { pipelines: [pipeline("p", [commandStage("same", "echo 1"), commandStage("same", "echo 2")])] },
    args: ["start", "p", "--task", "t"],
    mentions: ["duplicate stage id \"same\""]
  },
  {
    name: "a subpipeline naming an unknown pipeline",
    config: { pipelines: [pipeline("p", [commandStage("one", "echo one"), subpipelineStage("nested", "ghost")])] },
    args: ["start", "p", "--task", "t"],
    mentions: ["Pipeline 'ghost' not found", "nested"]
  },
  {
    name: "a subpipeline naming its own pipeline (cycle)",
    config: { pipelines: [pipeline("p", [commandStage("one", "echo one"), subpipelineStage("self", "p")])] },
    args: ["start", "p", "--task", "t"],
    mentions: ["cycle", "p -> p"]
  },
  {
    name: "a longer cycle through another pipeline",
    config: {
      pipelines: [
        pipeline("a", [subpipelineStage("to-b", "b")]),
        pipeline("b", [commandStage("one", "echo one"), subpipelineStage("to-a", "a")])
      ]
    },
    args: ["start", "a", "--task", "t"],
    mentions: ["cycle", "a -> b -> a"]
  },
  {
    name: "an unknown pipeline id",
    config: twoStages,
    args: ["start", "nope", "--task", "t"],
    mentions: ["Pipeline 'nope' not found"]
  },
  {
    name: "an unknown --target (lists the valid stage ids)",
    config: twoStages,
    args: ["start", "p", "--task", "t", "--target", "nope"],
    mentions: ["nope", "one, two"]
  },
  {
    name: "an unknown --target for plan",
    config: twoStages,
    args: ["plan", "p", "--target", "nope", "--format", "json"],
    mentions: ["nope", "one, two"]
  }
]

describe.concurrent("bad input exits 2 and writes nothing", () => {
  for (const c of cases) {
    it(c.name, () =>
      withRepo(c.config, async (repo) => {
        const before = listDir(repo.dir)
        const result = await runCli(c.args, { cwd: repo.dir, ...(c.env === undefined ? {} : { env: c.env }) })
        assert.strictEqual(result.code, 2, describeResult(result))
        const errorLine = result.stderr.split("\n").find((line) => line.startsWith("error: "))
        assert.isDefined(errorLine, `no "error: " line\n${describeResult(result)}`)
        for (const text of c.mentions) {
          assert.include(errorLine?.toLowerCase() ?? "", text.toLowerCase(), describeResult(result))
        }
        assert.strictEqual(result.stdout, "", "stdout must stay empty on bad input")
        assert.isFalse(existsSync(repo.path(".runs")), ".runs was created")
        assert.deepStrictEqual(listDir(repo.dir), before, "files were written into the repository")
      }))
  }
})
