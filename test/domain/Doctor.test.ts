import { assert, describe, it } from "@effect/vitest"
import { type DoctorCheck, doctorPassed, nodeVersionOk, renderDoctor } from "../../src/domain/Doctor.js"

const checks: ReadonlyArray<DoctorCheck> = [
  { id: "git", status: "ok", required: true, detail: "/r (HEAD abc)" },
  { id: "codex", status: "warn", required: false, detail: "\"codex\" could not be run", fix: "install it" },
  { id: "cluster", status: "skip", required: false, detail: "not set" }
]

describe("Doctor", () => {
  it("Node 20 or newer passes; an older or unreadable version does not", () => {
    assert.strictEqual(nodeVersionOk("v20.0.0\n"), true)
    assert.strictEqual(nodeVersionOk("v22.11.3"), true)
    assert.strictEqual(nodeVersionOk("v18.19.1"), false)
    assert.strictEqual(nodeVersionOk("node: not found"), undefined)
  })

  it("only a failed required check fails; each line carries its fix unless ok", () => {
    assert.isTrue(doctorPassed(checks))
    assert.isTrue(doctorPassed([...checks, { id: "cluster", status: "fail", required: false, detail: "x" }]))
    assert.isFalse(doctorPassed([...checks, { id: "runs", status: "fail", required: true, detail: "x", fix: "y" }]))
    assert.deepStrictEqual(renderDoctor([...checks, { id: "runs", status: "fail", required: true, detail: "/r/.runs is not a folder", fix: "make it one" }]), [
      "ok   git: /r (HEAD abc)",
      "warn codex: \"codex\" could not be run (fix: install it)",
      "skip cluster: not set",
      "FAIL runs: /r/.runs is not a folder (fix: make it one)",
      "doctor: a required check failed (1 ok, 1 warning(s), 1 failed, 1 skipped)"
    ])
  })
})
