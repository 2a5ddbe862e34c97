/**
 * MODE-1's default policy to the exact value (mutation testing, issue 16). The plan builder always
 * sets `requires_cloud`; a JavaScript embedder's item may lack it, and then MODE-1 reads
 * `metadata.requiresCloud`, then `metadata.mode` and `metadata.executionMode`.
 */
import { assert, describe, it } from "@effect/vitest"
import { defaultExecutionMode, requiresCloud } from "../../src/domain/ExecutionMode.js"
import type { PlanItem } from "../../src/domain/Plan.js"

const item = (requires: boolean, metadata: Partial<PlanItem["metadata"]> = {}): PlanItem => ({
  id: "p:s",
  description: "s",
  requires_cloud: requires,
  runnable: true,
  metadata: { pipelineId: "p", stageId: "s", stageKind: "command", index: 0, requiresCloud: requires, ...metadata }
})

/** An untyped caller's item: without `requires_cloud`, and without `metadata.requiresCloud` unless given. */
const untyped = (metadata: Readonly<Record<string, unknown>>, requiresCloudFlag?: boolean): PlanItem => {
  const plain = item(false)
  Reflect.deleteProperty(plain, "requires_cloud")
  Reflect.deleteProperty(plain.metadata, "requiresCloud")
  for (const [key, value] of Object.entries(metadata)) Reflect.set(plain.metadata, key, value)
  if (requiresCloudFlag !== undefined) Reflect.set(plain.metadata, "requiresCloud", requiresCloudFlag)
  return plain
}

describe("MODE-1, exactly", () => {
  it("the item's boolean flag decides first", () => {
    assert.isTrue(requiresCloud(item(true, { executionMode: "mcp" })))
    assert.isFalse(requiresCloud(item(false, { executionMode: "cloud" })))
    assert.isTrue(requiresCloud(untyped({ mode: "mcp" }, true)))
    assert.isFalse(requiresCloud(untyped({ mode: "cloud" }, false)))
  })

  it("without a flag, mode then executionMode, trimmed and in any case, else false", () => {
    assert.isTrue(requiresCloud(untyped({ mode: " CLOUD " })))
    assert.isTrue(requiresCloud(untyped({ mode: "Yes" })))
    assert.isFalse(requiresCloud(untyped({ mode: "No", executionMode: "cloud" })))
    assert.isTrue(requiresCloud(untyped({ mode: "later", executionMode: "1" })))
    assert.isTrue(requiresCloud(untyped({ mode: 1, executionMode: "true" })))
    assert.isFalse(requiresCloud(untyped({ executionMode: "0" })))
    assert.isFalse(requiresCloud(untyped({ executionMode: "remote" })))
    assert.isFalse(requiresCloud(untyped({})))
  })

  it("execution.parallel: true upgrades to cloud only when execution is a plain object", () => {
    assert.strictEqual(defaultExecutionMode({}, item(true)), "cloud")
    assert.strictEqual(defaultExecutionMode({ metadata: { execution: { parallel: true } } }, item(false)), "cloud")
    assert.strictEqual(defaultExecutionMode({ metadata: { execution: { parallel: "true" } } }, item(false)), "mcp")
    assert.strictEqual(defaultExecutionMode({ metadata: { execution: null } }, item(false)), "mcp")
    assert.strictEqual(defaultExecutionMode({ metadata: { execution: Object.assign([], { parallel: true }) } }, item(false)), "mcp")
    assert.strictEqual(defaultExecutionMode({ metadata: { execution: Object.assign(() => 0, { parallel: true }) } }, item(false)), "mcp")
    assert.strictEqual(defaultExecutionMode({}, item(false)), "mcp")
  })
})
