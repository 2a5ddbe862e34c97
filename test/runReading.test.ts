/**
 * A run whose manifest.json is there but cannot be read as a file (a folder, a pipe, a looping link,
 * no permission): one line naming the file, what is wrong and the fix, as a damaged manifest is (D-1:
 * bad run state, exit 2), never a raw system error (exit 1) nor a read that waits for ever on a pipe.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Path } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { execFileSync } from "node:child_process"
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { exitCodeOf } from "../src/cli/exitCode.js"
import { FileAccessError } from "../src/domain/FileErrors.js"
import { makeRunLayout, type Roots, type RunLayout } from "../src/domain/RunLayout.js"
import { FilesLive } from "../src/layers/Files.js"
import { readManifestAs } from "../src/layers/internal/runReading.js"
import { readingGraph } from "../src/layers/AppBase.js"
import { BaseConfigWith } from "../src/layers/BaseConfig.js"
import { Files } from "../src/services/Files.js"
import { RunReader } from "../src/services/RunReader.js"
import { queuedManifest } from "./support/manifests.js"

const live = FilesLive.pipe(Layer.provideMerge(NodeContext.layer))
const runId = "2026-01-01T00-00-00-000Z-0123abcd"
const Anything = Schema.Unknown

/** A temporary repository with run `runId` of task t's folder made, for `f` (the files under it are the test's). */
const inRepo = <A, E, R>(f: (layout: RunLayout, roots: Roots) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "run-reading-"))),
    (repo) =>
      Effect.gen(function*() {
        const roots = { repoRoot: repo, runsRoot: join(repo, ".runs"), outRoot: join(repo, "out") }
        const layout = makeRunLayout(yield* Path.Path, roots, "t", runId)
        mkdirSync(layout.runDir, { recursive: true })
        return yield* f(layout, roots)
      }).pipe(Effect.provide(Path.layer)),
    (repo) => Effect.sync(() => rmSync(repo, { recursive: true, force: true }))
  )

/** What reading the manifest fails with: its tag, its message, and the exit code the CLI gives it. */
const failure = (layout: RunLayout) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(readManifestAs(yield* Files, layout, Anything))
    return { tag: error._tag, message: error.message, code: exitCodeOf({ _tag: "Failure", cause: { _tag: "Fail", error } } as never) }
  })

const manifestOf = (layout: RunLayout) => layout.relative(layout.manifest)
const untilFixed = `until then run ${runId} cannot be shown or resumed (the task's other runs are not affected).`

describe("a run's manifest.json that cannot be read as a file", () => {
  it.effect("a folder: bad run state (exit 2) naming the file, what is wrong and the fix", () =>
    inRepo((layout) =>
      Effect.gen(function*() {
        mkdirSync(layout.manifest)
        const { code, message, tag } = yield* failure(layout)
        assert.strictEqual(tag, "InvalidFile")
        assert.strictEqual(code, 2)
        assert.strictEqual(
          message,
          `${manifestOf(layout)} is not valid: (root): a folder, not a file. ` +
            `Move that folder aside (if it holds the run's manifest.json, move that file in its place); ${untilFixed}`
        )
      }).pipe(Effect.provide(live))
    ))

  it.live("a named pipe is refused without being read (a read would wait for a writer for ever)", () =>
    inRepo((layout) =>
      Effect.gen(function*() {
        execFileSync("mkfifo", [layout.manifest])
        // Should the pipe be read after all, a writer opening and closing it ends the read (at its end).
        const wake = setTimeout(() => closeSync(openSync(layout.manifest, constants.O_WRONLY | constants.O_NONBLOCK)), 3000)
        const { code, message } = yield* Effect.ensuring(failure(layout), Effect.sync(() => clearTimeout(wake)))
        assert.strictEqual(code, 2)
        assert.strictEqual(
          message,
          `${manifestOf(layout)} is not valid: (root): not a regular file (a pipe, socket or device). Remove it; ${untilFixed}`
        )
      }).pipe(Effect.provide(live))
    ))

  it.effect("a symbolic link that loops", () =>
    inRepo((layout) =>
      Effect.gen(function*() {
        symlinkSync("manifest.json", layout.manifest)
        const { code, message } = yield* failure(layout)
        assert.strictEqual(code, 2)
        assert.strictEqual(
          message,
          `${manifestOf(layout)} is not valid: (root): a symbolic link that loops (ELOOP). Replace the link with the run's manifest, or remove it; ${untilFixed}`
        )
      }).pipe(Effect.provide(live))
    ))

  it.effect("no permission to read it (EACCES, EPERM): says so and how to give access", () =>
    Effect.gen(function*() {
      const files = yield* Files
      const path = yield* Path.Path
      const layout = makeRunLayout(path, { repoRoot: "/repo", runsRoot: "/repo/.runs", outRoot: "/repo/out" }, "t", runId)
      for (const code of ["EACCES", "EPERM"]) {
        const denied: Files["Type"] = {
          ...files,
          info: () => Effect.succeed({ type: "file", size: 10 }),
          readText: (target) =>
            Effect.fail(new FileAccessError({ path: target, operation: "read", cause: new Error(`PermissionDenied: FileSystem.readFile (${target}): ${code}: permission denied, open '${target}'`) }))
        }
        const error = yield* Effect.flip(readManifestAs(denied, layout, Anything))
        assert.strictEqual(error._tag, "InvalidFile")
        assert.strictEqual(
          error.message,
          `.runs/t/cli/${runId}/manifest.json is not valid: (root): cannot be read: permission denied (${code}). ` +
            `Give your user read access to it (chmod u+r .runs/t/cli/${runId}/manifest.json), or run as the user that started the run; ${untilFixed}`
        )
      }
      // Any other failure to read is an I/O error (exit 1), in the system's words.
      const broken: Files["Type"] = {
        ...files,
        readText: (target) => Effect.fail(new FileAccessError({ path: target, operation: "read", cause: new Error("EIO: i/o error, read") }))
      }
      const error = yield* Effect.flip(readManifestAs(broken, layout, Anything))
      assert.strictEqual(error._tag, "FileAccessError")
    }).pipe(Effect.provide(live)))
})

describe("status of a run whose owner record cannot be read", () => {
  it.live("shows the run (the owner is what status adds, not what it needs): no owner, a warning", () =>
    inRepo((layout, roots) =>
      Effect.gen(function*() {
        writeFileSync(layout.manifest, JSON.stringify(queuedManifest(layout, "t", runId, "2026-01-01T00:00:00.000Z")))
        mkdirSync(layout.owner)
        const view = yield* (yield* RunReader).status({ runId, taskId: "t" })
        assert.strictEqual(view.manifest.status, "queued")
        assert.isUndefined(view.owner)
        // A pipe there is not read either (the read would wait for a writer).
        rmSync(layout.owner, { recursive: true })
        execFileSync("mkfifo", [layout.owner])
        const wake = setTimeout(() => closeSync(openSync(layout.owner, constants.O_WRONLY | constants.O_NONBLOCK)), 3000)
        const startedMs = Date.now()
        const again = yield* Effect.ensuring((yield* RunReader).status({ runId, taskId: "t" }), Effect.sync(() => clearTimeout(wake)))
        assert.isBelow(Date.now() - startedMs, 2000, "status waited on the pipe")
        assert.isUndefined(again.owner)
      }).pipe(Effect.provide(readingGraph(FilesLive.pipe(Layer.provideMerge(BaseConfigWith(roots))))), Effect.provide(NodeContext.layer))
    ))
})
