/** A run whose own files cannot be written (issue 16 item 21): the message names the file first, the run is marked failed. */
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FileAccessError } from "../src/domain/FileErrors.js"
import { type CliManifest, failedOnFileError } from "../src/domain/Manifest.js"
import { makeRunLayout } from "../src/domain/RunLayout.js"
import { queuedManifest } from "./support/manifests.js"
import { at } from "./support/pipelines.js"

/** A queued manifest whose stages are `ids`, each a command entry like the fixture's first. */
const manifestOf = (ids: ReadonlyArray<string>) =>
  Effect.map(Path.Path, (path): CliManifest => {
    const base = queuedManifest(makeRunLayout(path, { repoRoot: "/repo", runsRoot: "/repo/.runs", outRoot: "/repo/out" }, "t", "r"), "t", "r", at(0))
    const [first] = base.commands
    return { ...base, commands: first === undefined ? [] : ids.map((id, i) => ({ ...first, index: i + 1, id, title: id })) }
  }).pipe(Effect.provide(Path.layer))

describe("FileAccessError messages", () => {
  it("a full disk says so first and names the file", () => {
    const error = new FileAccessError({
      path: "/repo/.runs/t/cli/r/commands/01-big.ndjson",
      operation: "append to",
      cause: new Error("Unknown: FileSystem.writeAll (18): ENOSPC: no space left on device, write")
    })
    assert.strictEqual(
      error.message,
      "No space left on device writing /repo/.runs/t/cli/r/commands/01-big.ndjson (append to); free some space and try again."
    )
  })

  it("a read-only folder says so and names the file; anything else keeps the system's words", () => {
    const readOnly = new FileAccessError({ path: "/ro/x.json", operation: "write", cause: new Error("EROFS: read-only file system, open") })
    assert.isTrue(readOnly.message.startsWith("Read-only file system: could not write /ro/x.json"))
    const other = new FileAccessError({ path: "/x", operation: "read", cause: new Error("EIO: i/o error, read") })
    assert.strictEqual(other.message, "Could not read /x: EIO: i/o error, read")
  })
})

describe("failedOnFileError", () => {
  it.effect("marks the running stage and the run failed with the reason; pending stages stay pending", () => Effect.gen(function*() {
    const base = yield* manifestOf(["build", "test"])
    const running = {
      ...base,
      status: "in_progress" as const,
      commands: base.commands.map((c, i) => ({ ...c, status: i === 0 ? "running" as const : "pending" as const }))
    }
    const failed = failedOnFileError(running, "No space left on device writing x", at(5))
    assert.strictEqual(failed.status, "failed")
    assert.strictEqual(failed.status_detail, "stage:build:error")
    assert.strictEqual(failed.completed_at, at(5))
    assert.deepStrictEqual(failed.commands.map((c) => [c.id, c.status, c.summary]), [
      ["build", "failed", "No space left on device writing x"],
      ["test", "pending", null]
    ])
    assert.include(failed.summary ?? "", "No space left on device writing x")
  }))

  it.effect("leaves a run that already ended as it is", () => Effect.gen(function*() {
    const base = yield* manifestOf(["build"])
    const done = { ...base, status: "succeeded" as const }
    assert.strictEqual(failedOnFileError(done, "x", at(1)), done)
  }))
})
