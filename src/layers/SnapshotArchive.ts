import { FileSystem, Path } from "@effect/platform"
import { Chunk, Effect, Exit, Layer, Random, Ref, type Scope, Stream } from "effect"
import { FileAccessError } from "../domain/FileErrors.js"
import { snapshotDiffCommand } from "../domain/LearningSnapshotPaths.js"
import { Files } from "../services/Files.js"
import { ProcessRunner } from "../services/ProcessRunner.js"
import { DiffError, type PackedTarball, SnapshotArchive, TarballError } from "../services/SnapshotArchive.js"
import { makeSha256 } from "./internal/learningDigest.js"
import { describeFailure, succeeded } from "./internal/learningGit.js"
import { makeOutputTail } from "./internal/outputTail.js"
import { sha256Hex } from "./internal/sha256.js"

/** git's stderr kept for a failed diff's reason. */
const diffStderrBytes = 8 * 1024

const failure = (target: string, operation: string) => (cause: unknown) =>
  new FileAccessError({ path: target, operation, cause })

type StreamInto = <E>(
  target: string,
  fill: (write: (bytes: Uint8Array) => Effect.Effect<void, FileAccessError>) => Effect.Effect<void, E, Scope.Scope>
) => Effect.Effect<void, E | FileAccessError>

/** Writing a file whole or not at all, on the platform FileSystem (D-6). */
const atomicFiles = (fs: FileSystem.FileSystem, path: Path.Path) => {
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

  /**
   * Streams bytes into `target`: `fill` writes to a sibling temp file, opened before it starts
   * (STYLE 4.2), fsynced once it is done, then renamed over `target`.
   */
  const streamInto = <E>(
    target: string,
    fill: (write: (bytes: Uint8Array) => Effect.Effect<void, FileAccessError>) => Effect.Effect<void, E, Scope.Scope>
  ) => {
    const writeFailure = failure(target, "write")
    return replace(target, (tmp) =>
      Effect.gen(function*() {
        const file = yield* fs.open(tmp, { flag: "w" }).pipe(Effect.mapError(writeFailure))
        yield* fill((bytes) => file.writeAll(bytes).pipe(Effect.mapError(writeFailure)))
        yield* file.sync.pipe(Effect.mapError(writeFailure))
      }).pipe(Effect.scoped)) // closes the descriptor before the rename
  }
  return { replace, streamInto: streamInto satisfies StreamInto }
}

/** The `tar` package's gzipped archive of `files`, streamed into `destination` while it is hashed. */
const packTarball = (
  streamInto: StreamInto,
  input: { readonly cwd: string; readonly files: ReadonlyArray<string>; readonly destination: string }
) =>
  Effect.gen(function*() {
    const tar = yield* Effect.tryPromise({
      try: () => import("tar"),
      catch: (cause) => new TarballError({ path: input.destination, cause })
    })
    const digest = makeSha256()
    let bytes = 0
    yield* streamInto(input.destination, (write) =>
      Effect.gen(function*() {
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
            return write(chunk)
          }
        )
      }))
    return { digest: digest.hex(), bytes } satisfies PackedTarball
  })

/**
 * On disk. The tarball is produced by the `tar` package, imported on first use so that runs without
 * learning never load it, and piped chunk by chunk into the file while its SHA-256 is computed. The
 * diff is git's stdout, run through the ProcessRunner and written chunk by chunk as it arrives.
 */
export const SnapshotArchiveLive = Layer.effect(
  SnapshotArchive,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const runner = yield* ProcessRunner

    const { replace, streamInto } = atomicFiles(fs, path)
    const pack = (input: { readonly cwd: string; readonly files: ReadonlyArray<string>; readonly destination: string }) =>
      packTarball(streamInto, input)

    const diff = (input: {
      readonly cwd: string
      readonly commit: string
      readonly exclude: ReadonlyArray<string>
      readonly destination: string
    }) => {
      const command = snapshotDiffCommand(input.commit, input.exclude)
      return streamInto(input.destination, (write) =>
        Effect.gen(function*() {
          const stderr = makeOutputTail(diffStderrBytes)
          const exit = yield* runner.run({ command, cwd: input.cwd, env: {} }, {
            onStart: () => Effect.void,
            // The patch goes to the file as it comes (binary-safe: bytes, never decoded), stderr to a tail.
            onOutput: (stream, chunks) =>
              stream === "stdout"
                ? Effect.forEach(chunks, write, { discard: true })
                : Effect.sync(() => Chunk.forEach(chunks, stderr.push))
          }).pipe(
            Effect.mapError((error) =>
              error._tag === "ProcessSpawnError"
                ? new DiffError({ path: input.destination, reason: error.message, cause: error })
                : error
            )
          )
          if (!succeeded(exit)) {
            const reason = describeFailure({ ...exit, command, stdout: "", stderr: stderr.text() })
            return yield* new DiffError({ path: input.destination, reason })
          }
        }))
    }

    const copy = (from: string, to: string) =>
      replace(to, (tmp) => fs.copyFile(from, tmp).pipe(Effect.mapError(failure(from, `copy to ${to}`))))

    return SnapshotArchive.of({ pack, diff, copy })
  })
)

const encoder = new TextEncoder()

/**
 * In memory, over the Files service (FilesMemory in tests, inspected through InMemoryFiles). A
 * "tarball" is the text `tarball of <cwd>` then the packed names, one a line; its digest is the
 * SHA-256 of that text. The first packs fail with `packFailures`, one reason per call. A "diff" is
 * the text `diff of <cwd> against <commit>` then `without <folder>` for each excluded folder.
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
        diff: (input) =>
          files.writeAtomic(
            input.destination,
            [`diff of ${input.cwd} against ${input.commit}`, ...input.exclude.map((folder) => `without ${folder}`)].join("\n")
          ),
        copy: (from, to) =>
          Effect.flatMap(files.readText(from), (text) =>
            text === undefined
              ? new FileAccessError({ path: from, operation: `copy to ${to}`, cause: new Error("no such file") })
              : files.writeAtomic(to, text))
      })
    })
  )
