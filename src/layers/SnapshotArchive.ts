import { FileSystem, Path } from "@effect/platform"
import { Effect, Exit, Layer, Random, Ref, Stream } from "effect"
import { FileAccessError } from "../domain/FileErrors.js"
import { Files } from "../services/Files.js"
import { type PackedTarball, SnapshotArchive, TarballError } from "../services/SnapshotArchive.js"
import { makeSha256 } from "./internal/learningDigest.js"
import { sha256Hex } from "./internal/sha256.js"

/**
 * On disk. The tarball is produced by the `tar` package, imported on first use so that runs without
 * learning never load it, and piped chunk by chunk into the file while its SHA-256 is computed.
 */
export const SnapshotArchiveLive = Layer.effect(
  SnapshotArchive,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path

    const failure = (target: string, operation: string) => (cause: unknown) =>
      new FileAccessError({ path: target, operation, cause })

    /** Fills a sibling temp file, then renames it over `target` (D-6); the temp file never stays. */
    const replace = <E>(target: string, fill: (tmp: string) => Effect.Effect<void, E>) =>
      Effect.gen(function*() {
        const dir = path.dirname(target)
        yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(failure(dir, "create folder")))
        const suffix = yield* Random.nextIntBetween(0, 2 ** 31)
        const tmp = path.join(dir, `.${path.basename(target)}.${suffix}.tmp`)
        yield* fill(tmp).pipe(
          Effect.zipRight(fs.rename(tmp, target).pipe(Effect.mapError(failure(target, "write")))),
          Effect.onError(() => Effect.ignore(fs.remove(tmp, { force: true })))
        )
      })

    const pack = (input: { readonly cwd: string; readonly files: ReadonlyArray<string>; readonly destination: string }) =>
      Effect.gen(function*() {
        const tar = yield* Effect.tryPromise({
          try: () => import("tar"),
          catch: (cause) => new TarballError({ path: input.destination, cause })
        })
        const digest = makeSha256()
        let bytes = 0
        const writeFailure = failure(input.destination, "write")
        yield* replace(input.destination, (tmp) =>
          Effect.gen(function*() {
            const file = yield* fs.open(tmp, { flag: "w" }).pipe(Effect.mapError(writeFailure))
            const archive = yield* Effect.acquireRelease(
              Effect.sync(() => {
                // `strict`: a file that vanishes or changes while it is read fails the attempt.
                // `noDirRecurse`: git lists files; a listed folder (a submodule) is not walked into.
                // `maxReadSize`: tar reads a big file 16 MiB at a time by default; measured on a 100 MiB
                // file, that costs ~100 MiB of peak RSS before the GC catches up, 1 MiB reads ~30 MiB.
                const archive = new tar.Pack({
                  cwd: input.cwd,
                  gzip: true,
                  portable: true,
                  noDirRecurse: true,
                  strict: true,
                  maxReadSize: 1024 * 1024
                })
                // `add`, not the `create` command: create reads names starting with `@` as archives to merge.
                for (const name of input.files) archive.add(name)
                archive.end()
                return archive
              }),
              (archive, exit) => Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => archive.destroy())
            )
            // The async iterator pauses the archive after each chunk: tar reads no faster than we write.
            yield* Stream.runForEach(
              Stream.fromAsyncIterable(archive, (cause) => new TarballError({ path: input.destination, cause })),
              (chunk) => {
                digest.update(chunk)
                bytes += chunk.length
                return file.writeAll(chunk).pipe(Effect.mapError(writeFailure))
              }
            )
            yield* file.sync.pipe(Effect.mapError(writeFailure))
          }).pipe(Effect.scoped)) // closes the descriptor before the rename
        return { digest: digest.hex(), bytes } satisfies PackedTarball
      })

    const copy = (from: string, to: string) =>
      replace(to, (tmp) => fs.copyFile(from, tmp).pipe(Effect.mapError(failure(from, `copy to ${to}`))))

    return SnapshotArchive.of({ pack, copy })
  })
)

const encoder = new TextEncoder()

/**
 * In memory, over the Files service (FilesMemory in tests, inspected through InMemoryFiles). A
 * "tarball" is the text `tarball of <cwd>` then the packed names, one a line; its digest is the
 * SHA-256 of that text. The first packs fail with `packFailures`, one reason per call.
 */
export const SnapshotArchiveMemory = (packFailures: ReadonlyArray<string> = []) =>
  Layer.effect(
    SnapshotArchive,
    Effect.gen(function*() {
      const files = yield* Files
      const packs = yield* Ref.make(0)
      return SnapshotArchive.of({
        pack: (input) =>
          Effect.gen(function*() {
            const reason = packFailures[yield* Ref.getAndUpdate(packs, (n) => n + 1)]
            if (reason !== undefined) return yield* new TarballError({ path: input.destination, cause: new Error(reason) })
            const text = [`tarball of ${input.cwd}`, ...input.files].join("\n")
            yield* files.writeAtomic(input.destination, text)
            return { digest: yield* sha256Hex(text), bytes: encoder.encode(text).length }
          }),
        copy: (from, to) =>
          Effect.flatMap(files.readText(from), (text) =>
            text === undefined
              ? new FileAccessError({ path: from, operation: `copy to ${to}`, cause: new Error("no such file") })
              : files.writeAtomic(to, text))
      })
    })
  )
