/**
 * What a worktree's refs record (internal/worktreeRefs.ts) undoes (issue 18): each branch or tag
 * back to its value before the stage's first change, checked against the value the stage left.
 */
import { assert, describe, it } from "@effect/vitest"
import { refChanges, undoCommands } from "../../src/layers/internal/worktreeRefs.js"

const zero = "0".repeat(40)
const [a, b, c] = ["a", "b", "c"].map((x) => x.repeat(40)) as [string, string, string]
const line = (before: string, after: string, ref: string) => `${before} ${after} ${ref}`

describe("worktree refs record", () => {
  it("keeps per ref the value before the first change and after the last; other refs and bad lines are left out", () => {
    const record = [line(zero, a, "refs/heads/f"), line(a, b, "refs/heads/f"), line(a, c, "HEAD"), "garbage", line(b, c, "refs/remotes/o/x"), ""].join("\n")
    assert.deepStrictEqual([...refChanges(record)], [["refs/heads/f", { before: zero, after: b }]])
  })

  it("deletes what the stage created, moves back what it moved, recreates what it moved then deleted, leaves what it made and deleted", () => {
    const record = [
      line(zero, a, "refs/heads/made"),
      line(zero, a, "refs/tags/v1"),
      line(a, b, "refs/heads/main"),
      line(a, b, "refs/heads/gone"),
      line(zero, zero, "refs/heads/gone"),
      line(zero, a, "refs/heads/brief"),
      line(zero, zero, "refs/heads/brief"),
      line(a, b, "refs/heads/back"),
      line(b, a, "refs/heads/back")
    ].join("\n")
    assert.deepStrictEqual(undoCommands(record), [
      ["git", "update-ref", "-d", "refs/heads/made", a],
      ["git", "update-ref", "-d", "refs/tags/v1", a],
      ["git", "update-ref", "refs/heads/main", a, b],
      ["git", "update-ref", "refs/heads/gone", a, zero]
    ])
    assert.deepStrictEqual(undoCommands(""), [])
  })
})
