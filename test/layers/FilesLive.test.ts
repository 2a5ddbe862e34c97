import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { FilesLive } from "../../src/layers/Files.js"
import { Files } from "../../src/services/Files.js"

const layer = Layer.provideMerge(FilesLive, Layer.merge(NodeFileSystem.layer, NodePath.layer))

/** Printable ASCII that differs at every position, so a stale or shifted byte shows. */
const ascii = (length: number, seed: number) => {
  let out = ""
  for (let i = 0; i < length; i++) out += String.fromCharCode(33 + ((i * 7 + seed) % 90))
  return out
}

describe("FilesLive whole-file writes", () => {
  it.scoped("a shorter text after a longer one leaves nothing of the longer; an empty text makes an empty file", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const files = yield* Files
      const dir = yield* fs.makeTempDirectoryScoped()
      const target = `${dir}/manifest.json`
      for (const length of [10, 70_000, 140_000, 5, 0, 200_000, 3]) {
        const text = ascii(length, length)
        yield* files.writeAtomic(target, text)
        assert.strictEqual(yield* fs.readFileString(target), text)
      }
      yield* files.writeAtomic(target, "short", { durable: false })
      assert.strictEqual(yield* fs.readFileString(target), "short")
    }).pipe(Effect.provide(layer)))

  it.scoped("text far from ASCII is written whole", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const files = yield* Files
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* files.writeAtomic(`${dir}/a`, ascii(100_000, 1))
      const wide = "€😀é".repeat(30_000) // 3 + 4 + 2 bytes for 4 UTF-16 units
      yield* files.writeAtomic(`${dir}/b`, wide)
      assert.strictEqual(yield* fs.readFileString(`${dir}/b`), wide)
      assert.strictEqual((yield* fs.readFile(`${dir}/b`)).length, 9 * 30_000)
    }).pipe(Effect.provide(layer)))

  it.scoped("writes side by side each keep their own bytes", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const files = yield* Files
      const dir = yield* fs.makeTempDirectoryScoped()
      const texts = Array.from({ length: 24 }, (_, i) => ascii(1_000 + i * 9_000, i))
      yield* Effect.forEach(texts, (text, i) => files.writeAtomic(`${dir}/f${i}`, text, { durable: i % 2 === 0 }), {
        concurrency: "unbounded"
      })
      for (const [i, text] of texts.entries()) assert.strictEqual(yield* fs.readFileString(`${dir}/f${i}`), text)
    }).pipe(Effect.provide(layer)))

  it.scoped("a streamed write may hand over empty chunks", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const files = yield* Files
      const dir = yield* fs.makeTempDirectoryScoped()
      const bytes = new TextEncoder().encode("abc")
      yield* files.writeAtomicStream(`${dir}/s`, (out) =>
        Effect.zipRight(out.write(new Uint8Array(0)), Effect.zipRight(out.write(bytes), out.write(new Uint8Array(0)))))
      assert.strictEqual(yield* fs.readFileString(`${dir}/s`), "abc")
      yield* files.writeAtomicStream(`${dir}/empty`, (out) => out.write(new Uint8Array(0)))
      assert.strictEqual(yield* fs.readFileString(`${dir}/empty`), "")
    }).pipe(Effect.provide(layer)))

  it.scoped("makes a folder and those missing above it; a file on the way, or a folder that refuses children, is an error", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const files = yield* Files
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* files.makeDirectory(`${dir}/a/b/c`)
      yield* files.makeDirectory(`${dir}/a/b/c`)
      assert.strictEqual((yield* fs.stat(`${dir}/a/b/c`)).type, "Directory")
      yield* fs.writeFileString(`${dir}/file`, "")
      const blocked = yield* Effect.flip(files.makeDirectory(`${dir}/file/sub`))
      assert.include(blocked.message, `Could not create folder ${dir}/file/sub: a folder on its way is a file (ENOTDIR)`)
      assert.include((yield* Effect.flip(files.makeDirectory(`${dir}/file`))).message, "(ENOTDIR)")
      // /proc refuses new entries with ENOENT: Node's recursive mkdir spins on that forever.
      const refused = yield* Effect.flip(files.makeDirectory("/proc/codex-orchestrator-test/x").pipe(Effect.timeout("5 seconds")))
      assert.strictEqual(refused._tag, "FileAccessError")
      assert.include(refused.message, "Could not create folder /proc/codex-orchestrator-test")
    }).pipe(Effect.provide(layer)), { timeout: 10_000 })
})
