/**
 * OpenTelemetry on the built CLI (issue 22): a loopback HTTP server stands in for an OTLP/HTTP
 * collector, decodes the JSON export and checks the span tree (command, run, stage, attempt, nested
 * run), its attributes, and the TRACEPARENT each attempt's process saw. Without an endpoint the
 * exporter's bundle is never loaded and stages get no TRACEPARENT.
 */
import { readFileSync } from "node:fs"
import { assert, beforeAll, describe, it } from "vitest"
import {
  commandStage,
  describeResult,
  pipeline,
  requireBuiltCli,
  runCli,
  subpipelineStage,
  withRepo
} from "../support/cli.js"
import { startHttpServer, type TestHttpServer } from "../support/httpServer.js"

beforeAll(requireBuiltCli)

const task = "otel-it"

interface Span {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly attributes: Readonly<Record<string, string | number | boolean>>
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
const list = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])
const text = (value: unknown): string => (typeof value === "string" ? value : "")

/** An OTLP attribute value (`{stringValue}`, `{intValue}` as a string or number, `{boolValue}`). */
const attributeValue = (value: unknown): string | number | boolean => {
  if (!isRecord(value)) return ""
  if (typeof value["stringValue"] === "string") return value["stringValue"]
  if (value["intValue"] !== undefined) return Number(value["intValue"])
  if (typeof value["boolValue"] === "boolean") return value["boolValue"]
  return JSON.stringify(value)
}

/** Every span of every export request the collector received (OTLP JSON: resourceSpans → scopeSpans → spans). */
const spansOf = (server: TestHttpServer): ReadonlyArray<Span> =>
  server.received.flatMap((request) => {
    assert.strictEqual(request.url, "/v1/traces")
    assert.strictEqual(request.headers["content-type"], "application/json")
    const body = isRecord(request.body) ? request.body : {}
    return list(body["resourceSpans"]).flatMap((resource) =>
      list(isRecord(resource) ? resource["scopeSpans"] : []).flatMap((scope) =>
        list(isRecord(scope) ? scope["spans"] : []).flatMap((span): ReadonlyArray<Span> => {
          if (!isRecord(span)) return []
          const parent = text(span["parentSpanId"])
          return [{
            name: text(span["name"]),
            traceId: text(span["traceId"]),
            spanId: text(span["spanId"]),
            parentSpanId: parent.length > 0 ? parent : undefined,
            attributes: Object.fromEntries(list(span["attributes"]).flatMap((a) => (isRecord(a) ? [[text(a["key"]), attributeValue(a["value"])]] : [])))
          }]
        })
      )
    )
  })

const only = (spans: ReadonlyArray<Span>, name: string): Span => {
  const found = spans.filter((span) => span.name === name)
  assert.strictEqual(found.length, 1, `one span named ${name}: ${spans.map((s) => s.name).join(", ")}`)
  return found[0] ?? assert.fail(name)
}

/** Whether `ancestor` is on `span`'s parent chain. */
const isUnder = (spans: ReadonlyArray<Span>, span: Span, ancestor: Span): boolean => {
  const byId = new Map(spans.map((s) => [s.spanId, s]))
  for (let at = span.parentSpanId; at !== undefined; at = byId.get(at)?.parentSpanId) {
    if (at === ancestor.spanId) return true
  }
  return false
}

const config = {
  pipelines: [
    pipeline("traced", [
      // Attempt 1 fails, attempt 2 succeeds; each appends the TRACEPARENT it saw.
      commandStage("flaky", `echo "$TRACEPARENT" >> traceparents; [ "$(wc -l < traceparents)" -ge 2 ]`, {
        retry: { attempts: 2, initialDelayMs: 10 }
      }),
      subpipelineStage("nested", "child")
    ]),
    pipeline("child", [commandStage("inner", "true")])
  ]
}

describe("--otel-endpoint: a trace per run over OTLP/HTTP", () => {
  it("exports the span tree with its attributes; each attempt's process gets its span as TRACEPARENT", async () => {
    const server = await startHttpServer(() => ({ status: 200, body: {} }))
    try {
      await withRepo(config, async (repo) => {
        const result = await runCli(["start", "traced", "--task", task, "--format", "json", "--otel-endpoint", `${server.baseUrl}/`], {
          cwd: repo.dir
        })
        assert.strictEqual(result.code, 0, describeResult(result))
        const runId = text(JSON.parse(result.stdout).run_id)
        const spans = spansOf(server)
        assert.strictEqual(new Set(spans.map((s) => s.traceId)).size, 1, "one trace")

        const root = only(spans, "codex-orchestrator start")
        assert.isUndefined(root.parentSpanId)
        const run = only(spans, "run traced")
        assert.isTrue(isUnder(spans, run, root))
        assert.deepInclude(run.attributes, { "codex.task": task, "codex.run": runId, "codex.pipeline": "traced", "codex.status": "succeeded" })

        const flaky = only(spans, "stage flaky")
        assert.isTrue(isUnder(spans, flaky, run))
        assert.deepInclude(flaky.attributes, { "codex.stage": "flaky", "codex.executor": "local", "codex.exit_code": 0, "codex.run": runId })
        const attempts = spans.filter((s) => s.name.startsWith("attempt ") && s.attributes["codex.stage"] === "flaky")
        assert.deepStrictEqual(attempts.map((s) => [s.name, s.attributes["codex.exit_code"]]).sort(), [["attempt 1", 1], ["attempt 2", 0]])
        for (const attempt of attempts) assert.isTrue(isUnder(spans, attempt, flaky))

        const nested = only(spans, "stage nested")
        assert.isTrue(isUnder(spans, nested, run))
        const child = only(spans, "run child")
        assert.isTrue(isUnder(spans, child, nested), "the nested run is inside its stage")
        assert.strictEqual(child.attributes["codex.parent_run"], runId)
        assert.isTrue(isUnder(spans, only(spans, "stage inner"), child))

        const seen = readFileSync(repo.path("traceparents"), "utf8").trim().split("\n")
        const expected = ["attempt 1", "attempt 2"].map((name) => {
          const attempt = attempts.find((s) => s.name === name) ?? assert.fail(name)
          return `00-${attempt.traceId}-${attempt.spanId}-01`
        })
        assert.deepStrictEqual(seen, expected)
      })
    } finally {
      await server.close()
    }
  }, 60_000)

  it("OTEL_EXPORTER_OTLP_ENDPOINT turns it on for exec; without it no exporter is loaded and stages get no TRACEPARENT", async () => {
    const server = await startHttpServer(() => ({ status: 200, body: {} }))
    try {
      await withRepo(undefined, async (repo) => {
        const argv = ["exec", "--task", task, "--json=compact", "--", "sh", "-c", `echo "[$TRACEPARENT]"`]
        const off = await runCli(argv, { cwd: repo.dir, env: { NODE_DEBUG: "module", TRACEPARENT: undefined } })
        assert.strictEqual(off.code, 0, describeResult(off))
        assert.include(off.stdout, `"stdout":"[]\\n"`)
        assert.notInclude(off.stderr, "otel.cjs", "the exporter's bundle is not loaded")
        assert.strictEqual(server.received.length, 0)

        const on = await runCli(argv, { cwd: repo.dir, env: { NODE_DEBUG: "module", OTEL_EXPORTER_OTLP_ENDPOINT: server.baseUrl } })
        assert.strictEqual(on.code, 0, describeResult(on))
        assert.include(on.stderr, "otel.cjs")
        const attempt = only(spansOf(server), "attempt 1")
        assert.include(on.stdout, `"stdout":"[00-${attempt.traceId}-${attempt.spanId}-01]\\n"`)
      })
    } finally {
      await server.close()
    }
  }, 60_000)

  it("an endpoint that is not an http(s) URL is bad input: exit 2, one line", () =>
    withRepo(undefined, async (repo) => {
      const flag = await runCli(["exec", "--task", task, "--otel-endpoint", "localhost:4318", "--", "true"], { cwd: repo.dir })
      assert.strictEqual(flag.code, 2, describeResult(flag))
      assert.include(flag.stderr, "--otel-endpoint localhost:4318 is not an http(s) URL")
      const variable = await runCli(["exec", "--task", task, "--", "true"], { cwd: repo.dir, env: { OTEL_EXPORTER_OTLP_ENDPOINT: "nope" } })
      assert.strictEqual(variable.code, 2, describeResult(variable))
      assert.include(variable.stderr, "OTEL_EXPORTER_OTLP_ENDPOINT")
    }))

  it("an endpoint with a line break or another control character is bad input: exit 2, one line naming the source", () =>
    withRepo(undefined, async (repo) => {
      const fix = "; remove it: a URL is one line of printable characters"
      const flag = await runCli(["exec", "--task", task, "--otel-endpoint", "http://local\nhost:4318", "--", "true"], { cwd: repo.dir })
      assert.strictEqual(flag.code, 2, describeResult(flag))
      assert.strictEqual(flag.stderr, `error: --otel-endpoint http://local\\nhost:4318 contains a control character (\\n)${fix}.\n`)
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318/a\tb" }
      const variable = await runCli(["exec", "--task", task, "--", "true"], { cwd: repo.dir, env })
      assert.strictEqual(variable.code, 2, describeResult(variable))
      assert.strictEqual(
        variable.stderr,
        `error: OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318/a\\tb" contains a control character (\\t)${fix}.\n`
      )
      assert.strictEqual(variable.stdout, "")
    }))
})
