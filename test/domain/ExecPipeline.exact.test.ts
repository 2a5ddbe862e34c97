/** EXEC-2's one-stage pipeline to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { execPipeline } from "../../src/domain/ExecPipeline.js"

describe("execPipeline, exactly", () => {
  it("quotes the argument vector and records cwd only when it is given", () => {
    assert.deepStrictEqual(execPipeline(["echo", "it's here"], undefined), {
      id: "exec",
      title: "CLI Exec Command",
      guardrailsRequired: false,
      stages: [{ kind: "command", id: "exec", title: "Execute echo 'it'\\''s here'", command: "echo 'it'\\''s here'" }]
    })
    assert.deepStrictEqual(execPipeline(["ls"], "sub/dir").stages, [
      { kind: "command", id: "exec", title: "Execute ls", command: "ls", cwd: "sub/dir" }
    ])
  })

  it("a multi-line command keeps its lines; its title shows them escaped, one line as every title is (CFG-3)", () => {
    const [stage] = execPipeline(["sh", "-c", "echo a\necho b"], undefined).stages
    assert.deepStrictEqual(stage, { kind: "command", id: "exec", title: "Execute sh -c 'echo a\\necho b'", command: "sh -c 'echo a\necho b'" })
  })
})
