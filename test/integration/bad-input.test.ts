/**
 * Bad input (DECISIONS D-1): exit 2, one `error:` line on stderr naming the problem, nothing on
 * stdout, and no `.runs` folder: a run that cannot start writes nothing.
 * (SPEC ENV-3, ENV-4, ID-1, CFG-1, CFG-8, CLI-4; DECISIONS D-3, D-4.)
 */
import { existsSync } from "node:fs"
import { assert, beforeAll, describe, it } from "vitest"
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

/** `levels` objects nested in each other, as JSON text (JSON.stringify itself overflows on such depths). */
const nestedObjects = (levels: number) => `${"{\"a\":".repeat(levels)}{}${"}".repeat(levels)}`

const onePipeline = (stages: string) => `{"pipelines":[{"id":"p","title":"P","stages":${stages}}]}`

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
  },
  ...[["start", "p", "--task", "t"], ["plan", "--format", "json"]].map((args): BadInputCase => ({
    name: `a defaultPipeline that names no pipeline (D-19), ${args[0]}`,
    config: { ...twoStages, defaultPipeline: "ghost" },
    args: args[0] === "start" ? ["start", "--task", "t"] : args,
    mentions: ["'ghost'", "defaultPipeline", "Available pipelines: p, design-reference, diagnostics"]
  })),
  ...["x".repeat(300), "é".repeat(200)].map((id): BadInputCase => ({
    name: `a task id of ${id.length} characters (${Buffer.byteLength(id)} bytes)`,
    config: twoStages,
    args: ["start", "p", "--task", id],
    mentions: ["Invalid task ID", "limited to 128 bytes"]
  })),
  ...[" ", "x.", "CON", "nul.txt"].map((id): BadInputCase => ({
    name: `a task id Windows cannot store: ${JSON.stringify(id)}`,
    config: twoStages,
    args: ["start", "p", "--task", id],
    mentions: ["Invalid task ID", "Windows"]
  })),
  {
    name: "a run id over 128 bytes in MCP_RUNNER_TASK_ID",
    config: twoStages,
    args: ["start", "p"],
    env: { MCP_RUNNER_TASK_ID: "y".repeat(129) },
    mentions: ["MCP_RUNNER_TASK_ID", "limited to 128 bytes"]
  },
  {
    name: "an object nested 5000 levels deep in a stage's env",
    config: onePipeline(`[{"kind":"command","id":"a","title":"A","command":"echo","env":${nestedObjects(5000)}}]`),
    args: ["start", "p", "--task", "t"],
    mentions: ["codex.orchestrator.json", "nested deeper than"]
  },
  {
    name: "100000 nested arrays",
    config: `{"pipelines":${"[".repeat(100000)}${"]".repeat(100000)}}`,
    args: ["plan", "p"],
    mentions: ["codex.orchestrator.json", "nested deeper than"]
  },
  {
    name: "a config starting with a // comment line",
    config: `// x\n${JSON.stringify(twoStages)}`,
    args: ["plan", "p"],
    mentions: ["codex.orchestrator.json", "\\n"]
  },
  {
    name: "a pipeline id containing a newline",
    config: twoStages,
    args: ["start", "a\nb", "--task", "t"],
    mentions: ["'a\\nb' not found"]
  },
  {
    name: "a --target containing a newline and an escape sequence",
    config: twoStages,
    args: ["start", "p", "--task", "t", "--target", "a\nb\u001b[31m"],
    mentions: ["a\\nb\\u001b[31m", "one, two"]
  },
  {
    name: "an empty stages list",
    config: onePipeline("[]"),
    args: ["start", "p", "--task", "t"],
    mentions: ["codex.orchestrator.json", "pipelines.0.stages", "at least one stage"]
  },
  {
    name: "a NUL byte in a stage's command (issue 16 item 16)",
    config: { pipelines: [pipeline("p", [commandStage("s1", "echo a\u0000b")])] },
    args: ["start", "p", "--task", "t"],
    mentions: ["codex.orchestrator.json", "pipelines.0.stages.0.command", "NUL byte"]
  },
  {
    name: "a NUL byte in a stage's cwd, env key and env value, all reported at once",
    config: {
      pipelines: [pipeline("p", [{ ...commandStage("s1", "echo ok"), cwd: "sub\u0000dir", env: { "K\u0000": "v", GOOD: "x\u0000y" } }])]
    },
    args: ["start", "p", "--task", "t"],
    mentions: ["pipelines.0.stages.0.cwd", "pipelines.0.stages.0.env", "NUL byte"]
  },
  {
    name: "an env name holding '=' and a stage title with a line break",
    config: { pipelines: [pipeline("p", [{ ...commandStage("s1", "echo ok"), title: "S\n1", env: { "A=B": "x" } }])] },
    args: ["start", "p", "--task", "t"],
    mentions: ["pipelines.0.stages.0.env.A=B", "must be a variable name", "pipelines.0.stages.0.title", "must be one line"]
  },
  {
    name: "a value the parser refuses (--approval-policy bogus)",
    config: twoStages,
    args: ["start", "p", "--task", "t", "--approval-policy", "bogus"],
    mentions: ["--approval-policy \"bogus\"", "never, on-request, auto", "See 'codex-orchestrator start --help'."]
  },
  {
    name: "an unknown flag",
    config: twoStages,
    args: ["start", "p", "--bogus"],
    mentions: ["unknown option --bogus.", "See 'codex-orchestrator start --help'."]
  },
  {
    name: "an unknown flag where the pipeline id goes",
    config: twoStages,
    args: ["start", "--bogus", "--task", "t"],
    mentions: ["unknown option --bogus.", "See 'codex-orchestrator start --help'."]
  },
  {
    name: "a flag without its value",
    config: twoStages,
    args: ["cache", "prune", "--max-size"],
    mentions: ["--max-size needs a value.", "See 'codex-orchestrator cache prune --help'."]
  },
  {
    name: "a pipeline id starting with '-'",
    config: { pipelines: [pipeline("-dash", [commandStage("one", "echo 1")])] },
    args: ["plan", "--format", "json"],
    mentions: ["codex.orchestrator.json", "pipelines.0.id", "must not start with '-'", "rename the pipeline"]
  },
  {
    name: "two pipelines with the same id",
    config: { pipelines: [pipeline("p", [commandStage("one", "echo 1")]), pipeline("p", [commandStage("two", "echo 2")])] },
    args: ["start", "p", "--task", "t"],
    mentions: ["pipelines.1.id", "duplicate pipeline id \"p\""]
  }
]

/** D-1: one `error:` line, no stack trace, and every other line is the orchestrator's own (a warning). */
const assertOneErrorLine = (stderr: string, described: string): string => {
  const lines = stderr.split("\n").filter((line) => line.length > 0)
  const errors = lines.filter((line) => line.startsWith("error: "))
  assert.strictEqual(errors.length, 1, `expected exactly one "error: " line\n${described}`)
  for (const line of lines) {
    assert.isTrue(line.startsWith("error: ") || line.startsWith("[Codex-Orchestrator] "), `a stray stderr line: ${JSON.stringify(line)}\n${described}`)
  }
  return errors[0] ?? ""
}

describe.concurrent("bad input exits 2 and writes nothing", () => {
  for (const c of cases) {
    it(c.name, () =>
      withRepo(c.config, async (repo) => {
        const before = listDir(repo.dir)
        const result = await runCli(c.args, { cwd: repo.dir, ...(c.env === undefined ? {} : { env: c.env }) })
        assert.strictEqual(result.code, 2, describeResult(result))
        const errorLine = assertOneErrorLine(result.stderr, describeResult(result))
        for (const text of c.mentions) {
          assert.include(errorLine.toLowerCase(), text.toLowerCase(), describeResult(result))
        }
        assert.strictEqual(result.stdout, "", "stdout must stay empty on bad input")
        assert.isFalse(existsSync(repo.path(".runs")), ".runs was created")
        assert.deepStrictEqual(listDir(repo.dir), before, "files were written into the repository")
      }))
  }
})
