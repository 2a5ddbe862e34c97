/**
 * TRACEPARENT for stage processes (issue 22), on the in-memory app: with TracePropagation on, each
 * attempt's process gets the W3C trace context of its own span, in the caller's trace; off (the
 * default), nothing is added to the environment.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { AppMemory } from "../src/layers/App.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { TracePropagation } from "../src/services/TracePropagation.js"
import { tracesUrl } from "../src/Tracing.js"

const app = () =>
  AppMemory({
    pipelines: { user: [{ id: "ci", title: "CI", stages: [{ kind: "command", id: "build", title: "Build", command: "make" }] }] },
    scripts: { make: { exitCode: 0 } }
  })

/** Runs pipeline `ci` inside a span of the test's own; returns that span and the environment `make` saw. */
const runTraced = Effect.useSpan("test-root", (root) =>
  Effect.gen(function*() {
    const { manifest } = yield* (yield* RunEngine).start({ pipelineId: "ci", taskId: "t" })
    assert.strictEqual(manifest.status, "succeeded")
    const [spec] = (yield* Effect.flatMap(ProcessInvocations, (p) => p.all)).filter((p) => p.command === "make")
    return { root, env: spec?.env ?? {} }
  }).pipe(Effect.withParentSpan(root)))

describe("TRACEPARENT", () => {
  it.effect("with TracePropagation on: the attempt's span, in the caller's trace", () =>
    Effect.gen(function*() {
      const { env, root } = yield* runTraced.pipe(Effect.provideService(TracePropagation, true))
      const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(env["TRACEPARENT"] ?? "")
      assert.isNotNull(match, `TRACEPARENT=${env["TRACEPARENT"]}`)
      assert.strictEqual(match?.[1], root.traceId)
      assert.notStrictEqual(match?.[2], root.spanId, "the attempt's own span, not the caller's")
    }).pipe(Effect.provide(app())))

  it.effect("off by default: the environment gets no TRACEPARENT", () =>
    Effect.gen(function*() {
      const { env } = yield* runTraced
      assert.isFalse("TRACEPARENT" in env)
    }).pipe(Effect.provide(app())))

  it("the traces URL of a collector's base URL", () => {
    assert.strictEqual(tracesUrl("http://localhost:4318"), "http://localhost:4318/v1/traces")
    assert.strictEqual(tracesUrl("https://otel.example.com/base//"), "https://otel.example.com/base/v1/traces")
  })
})
