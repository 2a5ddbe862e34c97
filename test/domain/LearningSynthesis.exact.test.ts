/** LRN-5's scenario command to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { executionHistory, pickEntrypoint, promptScenarioCommand } from "../../src/domain/LearningSynthesis.js"
import type { CommandEntry } from "../../src/domain/Manifest.js"

const entry = (index: number, command: string | null, overrides: Partial<CommandEntry> = {}): CommandEntry => ({
  index,
  id: `s${index}`,
  title: `s${index}`,
  command,
  kind: "command",
  status: "succeeded",
  started_at: "2026-01-01T00:00:00.000Z",
  completed_at: "2026-01-01T00:00:01.000Z",
  exit_code: 0,
  summary: null,
  log_path: null,
  error_file: null,
  sub_run_id: null,
  ...overrides
})

describe("pickEntrypoint, exactly", () => {
  it("only a command stage that succeeded with exit 0 and has a command counts", () => {
    const later = { completed_at: "2026-01-01T00:00:09.000Z" }
    assert.strictEqual(pickEntrypoint([entry(1, "npm test"), entry(2, "npm run nested", { ...later, kind: "subpipeline" })]), "npm test")
    assert.strictEqual(pickEntrypoint([entry(1, "npm test"), entry(2, "npm run lint", { ...later, status: "failed" })]), "npm test")
    assert.strictEqual(pickEntrypoint([entry(1, "npm test"), entry(2, "npm run lint", { ...later, exit_code: 3 })]), "npm test")
    assert.strictEqual(pickEntrypoint([entry(1, "npm test"), entry(2, "   ", later)]), "npm test")
    assert.strictEqual(pickEntrypoint([entry(1, "npm test"), entry(2, null, later)]), "npm test")
  })

  it("the latest completion wins, then the higher index; an equal index does not replace", () => {
    assert.strictEqual(pickEntrypoint([entry(2, "second"), entry(1, "first")]), "second")
    assert.strictEqual(pickEntrypoint([entry(1, "one"), entry(1, "again")]), "one")
  })
})

describe("promptScenarioCommand, exactly", () => {
  it("a shell fence's first non-empty line, its $ dropped; an indented fence counts", () => {
    assert.strictEqual(promptScenarioCommand("Run:\n  ```bash\n\n  $   npm test -- a.ts\n  ```\n"), "npm test -- a.ts")
    assert.strictEqual(promptScenarioCommand("```\n$npm\n```"), "$npm")
    assert.strictEqual(promptScenarioCommand("x ```bash\nnot a fence\n```\n`npm run x`"), "npm run x")
    // Only a leading $ goes; a fence of blank lines gives way to the next one.
    assert.strictEqual(promptScenarioCommand("```sh\n\n```\n```bash\necho $ x\n```"), "echo $ x")
  })

  it("a non-shell fence is skipped and its spans do not count; then a $ line", () => {
    assert.strictEqual(promptScenarioCommand("```ts\nconst a = `npm run x`\n```\n`npm test`"), "npm test")
    assert.strictEqual(promptScenarioCommand("```ts\n`npm run y`\n  ```\nthen\n  $  npm run z  \nmore"), "npm run z")
    assert.strictEqual(promptScenarioCommand("a $ npm run q\n$ \nno"), undefined)
  })
})

describe("executionHistory, exactly", () => {
  it("keeps command stages that have a command and started", () => {
    const history = executionHistory([
      entry(1, "npm test"),
      entry(2, "nested", { kind: "subpipeline" }),
      entry(3, null),
      entry(4, "npm run lint", { started_at: null, completed_at: null, status: "pending", exit_code: null })
    ])
    assert.deepStrictEqual(history, [
      { index: 1, id: "s1", command: "npm test", status: "succeeded", exit_code: 0, completed_at: "2026-01-01T00:00:01.000Z" }
    ])
  })
})
