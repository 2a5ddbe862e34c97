/**
 * doctor's pure rules to the exact value (mutation testing, issue 16): what counts as a Node version,
 * and which lines carry a fix.
 */
import { assert, describe, it } from "@effect/vitest"
import { nodeVersionOk, renderDoctor } from "../../src/domain/Doctor.js"

describe("Doctor, exactly", () => {
  it("a version is read from the start of the trimmed output, with or without its v", () => {
    assert.strictEqual(nodeVersionOk("20.1.0"), true)
    assert.strictEqual(nodeVersionOk("  v21.0.0  "), true)
    assert.strictEqual(nodeVersionOk("\n19.9.9\n"), false)
    // A version further into the text is not `node --version`'s answer.
    assert.strictEqual(nodeVersionOk("nodejs v22.0.0"), undefined)
    assert.strictEqual(nodeVersionOk("v22.0"), undefined)
  })

  it("an ok check shows no fix even when it has one; all passing reads doctor: OK", () => {
    assert.deepStrictEqual(
      renderDoctor([
        { id: "node", status: "ok", required: true, detail: "v22.0.0", fix: "install Node 20 or newer" },
        { id: "cluster", status: "skip", required: false, detail: "not set" }
      ]),
      ["ok   node: v22.0.0", "skip cluster: not set", "doctor: OK (1 ok, 0 warning(s), 0 failed, 1 skipped)"]
    )
  })

  it("a detail or fix with a newline (a path set so) stays on its check's line, the control characters escaped", () => {
    assert.deepStrictEqual(
      renderDoctor([
        { id: "runs", status: "fail", required: true, detail: "/tmp/a\nb is not writable", fix: "make /tmp/a\nb\u0007 writable" }
      ]),
      [
        "FAIL runs: /tmp/a\\nb is not writable (fix: make /tmp/a\\nb\\u0007 writable)",
        "doctor: a required check failed (0 ok, 0 warning(s), 1 failed, 0 skipped)"
      ]
    )
  })
})
