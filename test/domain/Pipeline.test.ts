import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeJsonFile, InvalidFile, jsonDepthLimit } from "../../src/domain/FileErrors.js"
import {
  availablePipelineIds,
  checkNestedPipelines,
  fallbackPipelineId,
  findPipeline,
  type PipelineCatalogData,
  PipelineConfigFile,
  PipelineCycle,
  type PipelineDefinition,
  PipelineNotFound,
  resolvePipeline,
  type ResolvedPipeline,
  type Stage
} from "../../src/domain/Pipeline.js"

const configPath = "codex.orchestrator.json"

const decodeConfig = (value: unknown) => decodeJsonFile(PipelineConfigFile, configPath)(JSON.stringify(value))

const command = (id: string, cmd = `echo ${id}`): Stage => ({ kind: "command", id, title: id, command: cmd })
const nested = (id: string, pipeline: string): Stage => ({ kind: "subpipeline", id, title: id, pipeline })
const pipeline = (id: string, stages: ReadonlyArray<Stage>, title = `${id} title`): PipelineDefinition => ({ id, title, stages })

const diagnostics = pipeline("diagnostics", [command("build"), command("spec-guard", "node scripts/spec-guard.mjs --dry-run")])
const design = pipeline("design-reference", [command("design-config")])

const catalog = (data: Partial<PipelineCatalogData> = {}): PipelineCatalogData => ({
  configPath: data.configPath ?? configPath,
  configFound: data.configFound ?? true,
  user: data.user ?? [],
  defaultPipeline: data.defaultPipeline,
  builtins: data.builtins ?? [diagnostics, design]
})

const resolved = (result: ResolvedPipeline | PipelineNotFound): ResolvedPipeline => {
  if (result instanceof PipelineNotFound) return assert.fail(`unexpected PipelineNotFound: ${result.message}`)
  return result
}

const notFound = (result: ResolvedPipeline | PipelineNotFound | PipelineCycle | undefined): PipelineNotFound => {
  if (result instanceof PipelineNotFound) return result
  return assert.fail(`expected PipelineNotFound, got ${JSON.stringify(result)}`)
}

const cycle = (result: PipelineNotFound | PipelineCycle | undefined): PipelineCycle => {
  if (result instanceof PipelineCycle) return result
  return assert.fail(`expected PipelineCycle, got ${JSON.stringify(result)}`)
}

const issuesOf = (value: unknown) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(decodeConfig(value))
    assert.isTrue(error instanceof InvalidFile)
    assert.strictEqual(error.path, configPath)
    return error.issues
  })

describe("config decoding (CFG-1..4)", () => {
  it.effect("decodes a full config with every optional field", () =>
    Effect.gen(function*() {
      const config = yield* decodeConfig({
        defaultPipeline: "main",
        pipelines: [{
          id: "main",
          title: "Main",
          description: "All the things",
          tags: ["a", "b"],
          guardrailsRequired: false,
          stages: [
            {
              kind: "command",
              id: "build",
              title: "Build",
              command: "npm run build",
              cwd: "packages/x",
              env: { NODE_ENV: "test" },
              allowFailure: true,
              summaryHint: "built",
              timeoutMs: 1000,
              session: { id: "s1", reuse: true, persist: false },
              plan: { aliases: ["b"], defaultTarget: true, requiresCloud: false, executionMode: "mcp", runnable: true },
              requires_cloud: false,
              mode: "cloud"
            },
            { kind: "subpipeline", id: "nested", title: "Nested", pipeline: "diagnostics", optional: true }
          ]
        }]
      })
      assert.strictEqual(config.defaultPipeline, "main")
      assert.strictEqual(config.pipelines.length, 1)
      const main = config.pipelines[0]
      if (main === undefined) return assert.fail("no pipeline decoded")
      assert.strictEqual(main.guardrailsRequired, false)
      assert.deepStrictEqual(main.tags, ["a", "b"])
      const [build, sub] = main.stages
      if (build?.kind !== "command" || sub?.kind !== "subpipeline") return assert.fail("stage kinds were not kept")
      assert.strictEqual(build.timeoutMs, 1000)
      assert.deepStrictEqual(build.env, { NODE_ENV: "test" })
      assert.deepStrictEqual(build.session, { id: "s1", reuse: true, persist: false })
      assert.deepStrictEqual(build.plan?.aliases, ["b"])
      assert.strictEqual(sub.pipeline, "diagnostics")
      assert.strictEqual(sub.optional, true)
    }))

  it.effect("ignores unknown keys and drops them from the result", () =>
    Effect.gen(function*() {
      const config = yield* decodeConfig({
        pipelines: [{ id: "p", title: "P", owner: "me", stages: [{ kind: "command", id: "a", title: "A", command: "x", color: "red" }] }],
        comment: "free text"
      })
      assert.deepStrictEqual(config, {
        pipelines: [{ id: "p", title: "P", stages: [{ kind: "command", id: "a", title: "A", command: "x" }] }]
      })
    }))

  it.effect("reports a missing command with its full path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decodeConfig({
        pipelines: [{ id: "p", title: "P", stages: [command("a"), { kind: "command", id: "b", title: "B" }] }]
      }))
      assert.deepStrictEqual(error.issues, ["pipelines.0.stages.1.command (pipeline \"p\", stage \"b\"): is missing"])
      assert.strictEqual(error.message, "codex.orchestrator.json is not valid: pipelines.0.stages.1.command (pipeline \"p\", stage \"b\"): is missing.")
    }))

  it.effect("reports every bad field at once", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({
        defaultPipeline: 5,
        pipelines: [
          { id: "ok", title: "OK", stages: [command("a")] },
          {
            id: "",
            title: 3,
            stages: [
              { kind: "shell", id: "a", title: "A", command: "x" },
              { kind: "command", id: "b", title: "B", timeoutMs: -1 },
              { kind: "command", id: "c", title: "C", command: "", timeoutMs: 1.5 },
              { kind: "subpipeline", id: "d", title: "D" },
              { kind: "command", id: "e", title: "E", command: "y", timeoutMs: "100" }
            ]
          }
        ]
      })
      assert.deepStrictEqual(issues, [
        "pipelines.1.id: must be a non-empty string",
        "pipelines.1.title: Expected string, actual 3",
        "pipelines.1.stages.0.kind (stage \"a\"): Expected \"command\" | \"subpipeline\", actual \"shell\"",
        "pipelines.1.stages.1.command (stage \"b\"): is missing",
        "pipelines.1.stages.1.timeoutMs (stage \"b\"): must be a positive integer (milliseconds)",
        "pipelines.1.stages.2.command (stage \"c\"): must be a non-empty string",
        "pipelines.1.stages.2.timeoutMs (stage \"c\"): Expected an integer, actual 1.5",
        "pipelines.1.stages.3.pipeline (stage \"d\"): is missing",
        "pipelines.1.stages.4.timeoutMs (stage \"e\"): Expected number, actual \"100\"",
        "defaultPipeline: Expected string, actual 5"
      ])
    }))

  it.effect("rejects a pipeline without stages", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(
        yield* issuesOf({ pipelines: [pipeline("p", [command("a")]), pipeline("empty", [])] }),
        ["pipelines.1.stages (pipeline \"empty\"): must list at least one stage"]
      )
    }))

  it.effect("reports duplicate pipeline ids with the first one's position", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(
        yield* issuesOf({ pipelines: [pipeline("p", [command("a")]), pipeline("q", [command("b")]), pipeline("p", [command("c")])] }),
        ["pipelines.2.id (pipeline \"p\"): duplicate pipeline id \"p\" (also pipelines.0.id); pipeline ids must be unique"]
      )
    }))

  it.effect("refuses a stage's runsOn listing more labels than a runner can hold: no runner could take it", () =>
    Effect.gen(function*() {
      const labels = ["a", "b", "c", "d", "e"]
      assert.deepStrictEqual(
        yield* issuesOf({
          pipelines: [pipeline("p", [
            { kind: "command", id: "gpu", title: "gpu", command: "train", runsOn: labels },
            { kind: "command", id: "ok", title: "ok", command: "train", runsOn: labels.slice(0, 4) }
          ])]
        }),
        ["pipelines.0.stages.0.runsOn (pipeline \"p\", stage \"gpu\"): lists 5 labels, and a runner holds at most 4 (runner --labels): no runner could take this stage; list at most 4"]
      )
    }))

  it.effect("refuses a pipeline id starting with '-': no command line could name it", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(
        yield* issuesOf({ pipelines: [pipeline("p", [command("a")]), pipeline("-dash", [command("b")])] }),
        ["pipelines.1.id (pipeline \"-dash\"): must not start with '-' (\"-dash\"): the command line would read it as an option; rename the pipeline"]
      )
    }))

  it.effect("refuses JSON nested deeper than the limit before decoding it, in one line", () =>
    Effect.gen(function*() {
      const deep = `{"pipelines":${"[".repeat(100000)}${"]".repeat(100000)}}`
      const error = yield* Effect.flip(decodeJsonFile(PipelineConfigFile, configPath)(deep))
      assert.deepStrictEqual(error.issues, [`(root): nested deeper than ${jsonDepthLimit} levels`])
      const strings = `{"pipelines":[], "x": "${"[{".repeat(200)}"}`
      assert.deepStrictEqual(yield* decodeJsonFile(PipelineConfigFile, configPath)(strings), { pipelines: [] })
      const atLimit = `${"[".repeat(jsonDepthLimit)}${"]".repeat(jsonDepthLimit)}`
      const overLimit = `${"[".repeat(jsonDepthLimit + 1)}${"]".repeat(jsonDepthLimit + 1)}`
      const atLimitIssues = (yield* Effect.flip(decodeJsonFile(PipelineConfigFile, configPath)(atLimit))).issues
      assert.isFalse(atLimitIssues.some((issue) => issue.includes("nested deeper")), atLimitIssues.join("; "))
      assert.deepStrictEqual((yield* Effect.flip(decodeJsonFile(PipelineConfigFile, configPath)(overLimit))).issues, [
        `(root): nested deeper than ${jsonDepthLimit} levels`
      ])
    }))

  it.effect("joins every issue into one message with the hint", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        decodeJsonFile(PipelineConfigFile, "cfg.json", "See pipelines/diagnostics.json.")(
          JSON.stringify({ pipelines: [{ id: "p", stages: [{ kind: "command", id: "a", title: "A" }] }] })
        )
      )
      assert.strictEqual(
        error.message,
        "cfg.json is not valid: pipelines.0.title (pipeline \"p\"): is missing; pipelines.0.stages.0.command (pipeline \"p\", stage \"a\"): is missing. See pipelines/diagnostics.json."
      )
      assert.strictEqual(error.hint, "See pipelines/diagnostics.json.")
    }))

  it.effect("rejects an unknown or missing stage kind", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(
        yield* issuesOf({ pipelines: [pipeline("p", [command("a")]), { id: "q", title: "Q", stages: [{ kind: "docker", id: "a", title: "A", command: "x" }] }] }),
        ["pipelines.1.stages.0.kind (pipeline \"q\", stage \"a\"): Expected \"command\" | \"subpipeline\", actual \"docker\""]
      )
      assert.deepStrictEqual(
        yield* issuesOf({ pipelines: [{ id: "p", title: "P", stages: [{ id: "a", title: "A", command: "x" }] }] }),
        ["pipelines.0.stages.0.kind (pipeline \"p\", stage \"a\"): is missing"]
      )
    }))

  it.effect("rejects a timeoutMs that is not a positive integer", () =>
    Effect.gen(function*() {
      const withTimeout = (timeoutMs: unknown) => ({
        pipelines: [{ id: "p", title: "P", stages: [{ kind: "command", id: "a", title: "A", command: "x", timeoutMs }] }]
      })
      const path = "pipelines.0.stages.0.timeoutMs (pipeline \"p\", stage \"a\")"
      assert.deepStrictEqual(yield* issuesOf(withTimeout(0)), [`${path}: must be a positive integer (milliseconds)`])
      assert.deepStrictEqual(yield* issuesOf(withTimeout(-250)), [`${path}: must be a positive integer (milliseconds)`])
      assert.deepStrictEqual(yield* issuesOf(withTimeout(2.5)), [`${path}: Expected an integer, actual 2.5`])
      assert.deepStrictEqual(yield* issuesOf(withTimeout("5000")), [`${path}: Expected number, actual "5000"`])
      assert.deepStrictEqual(yield* issuesOf(withTimeout(null)), [`${path}: Expected number, actual null`])
      const ok = yield* decodeConfig(withTimeout(1))
      const stage = ok.pipelines[0]?.stages[0]
      assert.strictEqual(stage?.kind === "command" ? stage.timeoutMs : undefined, 1)
    }))

  it.effect("rejects duplicate stage ids, naming each repeat and the first occurrence", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({
        pipelines: [
          pipeline("fine", [command("a"), command("b")]),
          pipeline("dup", [command("a"), command("b"), command("a"), nested("b", "fine")])
        ]
      })
      assert.deepStrictEqual(issues, [
        "pipelines.1.stages.2.id (pipeline \"dup\", stage \"a\"): duplicate stage id \"a\" (also stages.0.id); stage ids must be unique",
        "pipelines.1.stages.3.id (pipeline \"dup\", stage \"b\"): duplicate stage id \"b\" (also stages.1.id); stage ids must be unique"
      ])
    }))

  it.effect("allows the same stage id in different pipelines", () =>
    Effect.gen(function*() {
      const config = yield* decodeConfig({ pipelines: [pipeline("a", [command("x")]), pipeline("b", [command("x")])] })
      assert.deepStrictEqual(config.pipelines.map((p) => p.id), ["a", "b"])
    }))

  it.effect("reports invalid JSON at the root", () =>
    Effect.gen(function*() {
      const broken = yield* Effect.flip(decodeJsonFile(PipelineConfigFile, configPath)("{ \"pipelines\": [ "))
      assert.strictEqual(broken.issues.length, 1)
      assert.isTrue(broken.issues[0]?.startsWith("(root): "), broken.issues[0])
      assert.isTrue(broken.message.startsWith("codex.orchestrator.json is not valid: (root): "), broken.message)
      const empty = yield* Effect.flip(decodeJsonFile(PipelineConfigFile, configPath)(""))
      assert.strictEqual(empty.issues.length, 1)
      assert.isTrue(empty.issues[0]?.startsWith("(root): "), empty.issues[0])
    }))

  it.effect("reports a wrong top-level shape", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* issuesOf({}), ["pipelines: is missing"])
      // What is expected in a few words, not the pipeline schema's whole type.
      assert.deepStrictEqual(yield* issuesOf({ pipelines: {} }), ["pipelines: Expected an array, actual {}"])
      assert.deepStrictEqual(yield* issuesOf([]), ["(root): Expected an object, actual []"])
    }))

  it.effect("reports a bad value nested in an optional object field with its full path", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({
        pipelines: [{
          id: "p",
          title: "P",
          stages: [{ kind: "command", id: "a", title: "A", command: "x", env: { A: 1 }, plan: { aliases: "x" } }]
        }]
      })
      assert.include(issues, "pipelines.0.stages.0.env.A (pipeline \"p\", stage \"a\"): Expected string, actual 1")
      assert.include(issues, "pipelines.0.stages.0.plan.aliases (pipeline \"p\", stage \"a\"): Expected an array of strings, actual \"x\"")
    }))
  it.effect("refuses an environment variable name that is empty or holds '=' (a process would see another name)", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({
        pipelines: [{ id: "p", title: "P", stages: [{ kind: "command", id: "a", title: "A", command: "x", env: { "A=B": "1", "": "2", OK: "3" } }] }]
      })
      const envIssues = issues.filter((issue) => issue.startsWith("pipelines.0.stages.0.env"))
      assert.strictEqual(envIssues.length, 2, issues.join("\n"))
      for (const issue of envIssues) assert.include(issue, "must be a variable name: not empty, without '=' or a NUL byte")
    }))

  it.effect("refuses a title that is not one line: line breaks and control characters would split or repaint the output", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({
        pipelines: [
          { id: "p", title: "P\nQ", stages: [{ kind: "command", id: "a", title: "A\u001b[31m", command: "x" }] },
          { id: "q", title: "Q — ok", stages: [{ kind: "command", id: "b", title: "B\tb", command: "x" }] }
        ]
      })
      assert.include(issues, "pipelines.0.title (pipeline \"p\"): must be one line: no line breaks or control characters")
      assert.include(issues, "pipelines.0.stages.0.title (pipeline \"p\", stage \"a\"): must be one line: no line breaks or control characters")
      assert.include(issues, "pipelines.1.stages.0.title (pipeline \"q\", stage \"b\"): must be one line: no line breaks or control characters")
      assert.strictEqual(issues.length, 3, issues.join("\n"))
    }))
})

describe("resolvePipeline (CFG-8, CFG-9)", () => {
  const userDiagnostics = pipeline("diagnostics", [command("custom")], "User diagnostics")
  const example = pipeline("example", [command("hello")])

  it("finds an explicit id in the user config before the built-ins", () => {
    const data = catalog({ user: [example, userDiagnostics] })
    const result = resolved(resolvePipeline(data, "diagnostics"))
    assert.strictEqual(result.source, "user")
    assert.strictEqual(result.pipeline, userDiagnostics)
  })

  it("takes the first user pipeline when an id repeats", () => {
    const first = pipeline("example", [command("one")], "First")
    const second = pipeline("example", [command("two")], "Second")
    const result = resolved(resolvePipeline(catalog({ user: [first, second] }), "example"))
    assert.strictEqual(result.pipeline.title, "First")
  })

  it("falls back to a built-in with source default", () => {
    const result = resolved(resolvePipeline(catalog({ user: [example] }), "design-reference"))
    assert.strictEqual(result.source, "default")
    assert.strictEqual(result.pipeline, design)
  })

  it("does not match ids case-insensitively", () => {
    const error = notFound(resolvePipeline(catalog(), "Diagnostics"))
    assert.strictEqual(error.pipelineId, "Diagnostics")
  })

  it("reports an unknown explicit id with the available ids and the config path", () => {
    const error = notFound(resolvePipeline(catalog({ user: [example, userDiagnostics] }), "nope"))
    assert.strictEqual(error._tag, "PipelineNotFound")
    assert.deepStrictEqual(error.available, ["example", "diagnostics", "design-reference"])
    assert.strictEqual(error.configPath, configPath)
    assert.strictEqual(
      error.message,
      "Pipeline 'nope' not found: it is neither in codex.orchestrator.json nor built in. Available pipelines: example, diagnostics, design-reference."
    )
  })

  it("says when there is no config file", () => {
    const error = notFound(resolvePipeline(catalog({ configFound: false, configPath: "repo/codex.orchestrator.json" }), "nope"))
    assert.strictEqual(
      error.message,
      "Pipeline 'nope' not found: there is no repo/codex.orchestrator.json, and no built-in pipeline has that id. Available pipelines: diagnostics, design-reference."
    )
  })

  it("uses defaultPipeline when no id is given, user first", () => {
    const result = resolved(resolvePipeline(catalog({ user: [example], defaultPipeline: "example" }), undefined))
    assert.strictEqual(result.source, "user")
    assert.strictEqual(result.pipeline, example)
  })

  it("resolves a defaultPipeline that names a built-in", () => {
    const result = resolved(resolvePipeline(catalog({ user: [example], defaultPipeline: "design-reference" }), undefined))
    assert.strictEqual(result.source, "default")
    assert.strictEqual(result.pipeline, design)
  })

  it("uses diagnostics without a defaultPipeline, user first", () => {
    assert.strictEqual(fallbackPipelineId, "diagnostics")
    const builtin = resolved(resolvePipeline(catalog({ user: [example] }), undefined))
    assert.strictEqual(builtin.source, "default")
    assert.strictEqual(builtin.pipeline, diagnostics)
    const user = resolved(resolvePipeline(catalog({ user: [userDiagnostics] }), undefined))
    assert.strictEqual(user.source, "user")
    assert.strictEqual(user.pipeline, userDiagnostics)
  })

  it("refuses a defaultPipeline that names nothing, naming it and the available ids (D-19)", () => {
    const error = notFound(resolvePipeline(catalog({ user: [example, userDiagnostics], defaultPipeline: "missing" }), undefined))
    assert.strictEqual(error.pipelineId, "missing")
    assert.strictEqual(error.referencedBy, `defaultPipeline in ${configPath}`)
    assert.strictEqual(
      error.message,
      `Pipeline 'missing' not found (named by defaultPipeline in ${configPath}): it is neither in ${configPath} nor built in. Available pipelines: example, diagnostics, design-reference.`
    )
    const noBuiltin = notFound(resolvePipeline(catalog({ builtins: [design], defaultPipeline: "missing" }), undefined))
    assert.strictEqual(noBuiltin.pipelineId, "missing")
  })

  it("fails without a defaultPipeline only when not even a built-in diagnostics exists", () => {
    const noDefault = notFound(resolvePipeline(catalog({ builtins: [] }), undefined))
    assert.strictEqual(noDefault.pipelineId, "diagnostics")
    assert.deepStrictEqual(noDefault.available, [])
    assert.isUndefined(noDefault.referencedBy)
  })

  it("lists available ids user first, without duplicates", () => {
    assert.deepStrictEqual(
      availablePipelineIds(catalog({ user: [userDiagnostics, example, example] })),
      ["diagnostics", "example", "design-reference"]
    )
  })

  it("findPipeline returns undefined for an unknown id", () => {
    assert.isUndefined(findPipeline(catalog(), "nope"))
    assert.deepStrictEqual(findPipeline(catalog(), "diagnostics"), { pipeline: diagnostics, source: "default" })
  })
})

describe("checkNestedPipelines", () => {
  it("accepts nested pipelines that exist, user or built-in", () => {
    const leaf = pipeline("leaf", [command("x")])
    const middle = pipeline("middle", [nested("to-leaf", "leaf"), nested("to-diag", "diagnostics")])
    const root = pipeline("root", [nested("to-middle", "middle"), nested("again", "leaf"), command("y")])
    assert.isUndefined(checkNestedPipelines(catalog({ user: [root, middle, leaf] }), root))
    assert.isUndefined(checkNestedPipelines(catalog(), diagnostics))
  })

  it("reports an unknown nested pipeline and who named it", () => {
    const root = pipeline("parent", [command("a"), nested("checks", "ghost")])
    const error = notFound(checkNestedPipelines(catalog({ user: [root] }), root))
    assert.strictEqual(error.pipelineId, "ghost")
    assert.strictEqual(error.referencedBy, "stage 'checks' of pipeline 'parent'")
    assert.deepStrictEqual(error.available, ["parent", "diagnostics", "design-reference"])
    assert.strictEqual(
      error.message,
      "Pipeline 'ghost' not found (named by stage 'checks' of pipeline 'parent'): it is neither in codex.orchestrator.json nor built in. Available pipelines: parent, diagnostics, design-reference."
    )
  })

  it("reports an unknown pipeline deeper down", () => {
    const child = pipeline("child", [nested("deep", "ghost")])
    const root = pipeline("root", [nested("to-child", "child")])
    const error = notFound(checkNestedPipelines(catalog({ user: [root, child] }), root))
    assert.strictEqual(error.pipelineId, "ghost")
    assert.strictEqual(error.referencedBy, "stage 'deep' of pipeline 'child'")
  })

  it("reports a cycle reached through a second subpipeline stage, after a first one that is fine", () => {
    const leaf = pipeline("leaf", [command("x")])
    const b = pipeline("b", [nested("ok", "leaf"), nested("back", "a")])
    const a = pipeline("a", [nested("first", "leaf"), command("y"), nested("second", "b")])
    const error = cycle(checkNestedPipelines(catalog({ user: [a, b, leaf] }), a))
    assert.deepStrictEqual(error.chain, ["a", "b", "a"])
  })

  it("reports a pipeline that nests itself", () => {
    const self = pipeline("loop", [command("a"), nested("again", "loop")])
    const error = cycle(checkNestedPipelines(catalog({ user: [self] }), self))
    assert.deepStrictEqual(error.chain, ["loop", "loop"])
    assert.strictEqual(
      error.message,
      "Pipeline cycle: loop -> loop. A subpipeline stage may not run a pipeline that contains it; remove or rename the nested stage."
    )
  })

  it("reports an indirect cycle A -> B -> A", () => {
    const a = pipeline("a", [nested("to-b", "b")])
    const b = pipeline("b", [command("x"), nested("to-a", "a")])
    assert.deepStrictEqual(cycle(checkNestedPipelines(catalog({ user: [a, b] }), a)).chain, ["a", "b", "a"])
    assert.deepStrictEqual(cycle(checkNestedPipelines(catalog({ user: [a, b] }), b)).chain, ["b", "a", "b"])
  })

  it("reports a cycle below the root", () => {
    const root = pipeline("root", [nested("to-b", "b")])
    const b = pipeline("b", [nested("to-c", "c")])
    const c = pipeline("c", [nested("to-b", "b")])
    const error = cycle(checkNestedPipelines(catalog({ user: [root, b, c] }), root))
    assert.deepStrictEqual(error.chain, ["root", "b", "c", "b"])
    assert.strictEqual(error._tag, "PipelineCycle")
  })

  it("looks nested pipelines up user first", () => {
    // The user's `diagnostics` shadows the built-in, and it nests the root.
    const root = pipeline("root", [nested("diag", "diagnostics")])
    const userDiagnostics = pipeline("diagnostics", [nested("back", "root")])
    assert.deepStrictEqual(
      cycle(checkNestedPipelines(catalog({ user: [root, userDiagnostics] }), root)).chain,
      ["root", "diagnostics", "root"]
    )
    assert.isUndefined(checkNestedPipelines(catalog({ user: [root] }), root))
  })
})

describe("CFG-12 task metadata", () => {
  it("an exact id gives slug and title; otherwise the id and `Task <id>`", async () => {
    const { taskMetadataOf } = await import("../../src/domain/Pipeline.js")
    const index = { items: [{ id: "t-1", slug: "login-page", title: "Login page" }] }
    assert.deepStrictEqual(taskMetadataOf(index, "t-1"), { slug: "login-page", title: "Login page" })
    assert.deepStrictEqual(taskMetadataOf(index, "T-1"), { slug: "T-1", title: "Task T-1" })
    assert.deepStrictEqual(taskMetadataOf(undefined, "x"), { slug: "x", title: "Task x" })
  })
})
