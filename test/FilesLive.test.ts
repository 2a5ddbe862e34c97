/** FilesLive on a real temporary folder: appends never go through a planted symbolic link (issue 16 item 22). */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FilesLive } from "../src/layers/Files.js"
import { Files } from "../src/services/Files.js"

const live = FilesLive.pipe(Layer.provide(NodeContext.layer))
const bytes = (text: string) => new TextEncoder().encode(text)

const inTempDir = <A, E>(f: (dir: string) => Effect.Effect<A, E, Files>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "files-live-"))),
    (dir) => f(dir).pipe(Effect.provide(live)),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe("FilesLive.openAppend", () => {
  it.effect("creates a new file and appends to an existing regular one", () =>
    inTempDir((dir) =>
      Effect.gen(function*() {
        const files = yield* Files
        const log = join(dir, "stage.ndjson")
        yield* Effect.scoped(Effect.flatMap(files.openAppend(log), (w) => w.write(bytes("one\n"))))
        yield* Effect.scoped(Effect.flatMap(files.openAppend(log), (w) => w.write(bytes("two\n"))))
        assert.strictEqual(readFileSync(log, "utf8"), "one\ntwo\n")
      })
    ))

  it.effect("refuses a symbolic link at the path, names it, and leaves the link's target untouched", () =>
    inTempDir((dir) =>
      Effect.gen(function*() {
        const files = yield* Files
        const victim = join(dir, "victim.txt")
        writeFileSync(victim, "keep me\n")
        const log = join(dir, "stage.ndjson")
        symlinkSync(victim, log)
        const error = yield* Effect.flip(Effect.scoped(Effect.flatMap(files.openAppend(log), (w) => w.write(bytes("x\n")))))
        assert.strictEqual(error._tag, "FileAccessError")
        assert.include(error.message, log)
        assert.include(error.message, "symbolic link")
        assert.strictEqual(readFileSync(victim, "utf8"), "keep me\n")
      })
    ))

  it.effect("refuses a dangling symbolic link too (it would create the file it points to)", () =>
    inTempDir((dir) =>
      Effect.gen(function*() {
        const files = yield* Files
        const log = join(dir, "stage.ndjson")
        const elsewhere = join(dir, "created-elsewhere")
        symlinkSync(elsewhere, log)
        const error = yield* Effect.flip(Effect.scoped(files.openAppend(log)))
        assert.include(error.message, "symbolic link")
        assert.throws(() => readFileSync(elsewhere))
      })
    ))
})

describe("FilesLive.writeAtomicStream", () => {
  it.effect("replaces the file with every chunk once the fill succeeds, and leaves no temp file", () =>
    inTempDir((dir) =>
      Effect.gen(function*() {
        const files = yield* Files
        const target = join(dir, "snapshot.tar.gz")
        writeFileSync(target, "old")
        yield* files.writeAtomicStream(target, ({ write }) => Effect.zipRight(write(bytes("new ")), write(bytes("content"))))
        assert.strictEqual(readFileSync(target, "utf8"), "new content")
        assert.deepStrictEqual(readdirSync(dir), ["snapshot.tar.gz"])
      })
    ))

  it.effect("a fill that fails leaves the old file whole and no temp file, with the fill's error", () =>
    inTempDir((dir) =>
      Effect.gen(function*() {
        const files = yield* Files
        const target = join(dir, "snapshot.tar.gz")
        writeFileSync(target, "old")
        const error = yield* Effect.flip(
          files.writeAtomicStream(target, ({ write }) => Effect.zipRight(write(bytes("half")), Effect.fail("tar broke" as const)))
        )
        assert.strictEqual(error, "tar broke")
        assert.strictEqual(readFileSync(target, "utf8"), "old")
        assert.deepStrictEqual(readdirSync(dir), ["snapshot.tar.gz"])
      })
    ))
})

describe("FilesLive.writeAtomic", () => {
  for (const durable of [true, false]) {
    it.effect(`replaces the file whole and leaves no temp file (durable: ${durable})`, () =>
      inTempDir((dir) =>
        Effect.gen(function*() {
          const files = yield* Files
          const target = join(dir, "manifest.json")
          writeFileSync(target, "old, and longer than the new content\n")
          yield* files.writeAtomic(target, "new\n", { durable })
          assert.strictEqual(readFileSync(target, "utf8"), "new\n")
          assert.deepStrictEqual(readdirSync(dir), ["manifest.json"])
        })
      ))

    it.effect(`a write that cannot happen fails naming the file and leaves the old one (durable: ${durable})`, () =>
      inTempDir((dir) =>
        Effect.gen(function*() {
          const files = yield* Files
          // A folder where the file should go: the rename over it fails after the temp file was written.
          const target = join(dir, "manifest.json")
          mkdirSync(target)
          const error = yield* Effect.flip(files.writeAtomic(target, "new\n", { durable }))
          assert.strictEqual(error._tag, "FileAccessError")
          assert.strictEqual(error.path, target)
          assert.deepStrictEqual(readdirSync(dir), ["manifest.json"])
        })
      ))
  }
})
