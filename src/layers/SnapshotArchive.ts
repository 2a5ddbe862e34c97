import { Path } from "@effect/platform"
import { Chunk, Effect, Exit, Layer, Ref, Stream } from "effect"
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

type StreamInto = Files["Type"]["writeAtomicStream"]

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
    yield* streamInto(input.destination, ({ write }) =>
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
    const files = yield* Files
    const path = yield* Path.Path
    const runner = yield* ProcessRunner

    /** Streams into `target` whole or not at all (D-6), its folder created first. */
    const streamInto: StreamInto = (target, fill) =>
      Effect.zipRight(files.makeDirectory(path.dirname(target)), files.writeAtomicStream(target, fill))

    const pack = (input: { readonly cwd: string; readonly files: ReadonlyArray<string>; readonly destination: string }) =>
      packTarball(streamInto, input)

    const diff = (input: {
      readonly cwd: string
      readonly commit: string
      readonly exclude: ReadonlyArray<string>
      readonly destination: string
    }) => {
      const command = snapshotDiffCommand(input.commit, input.exclude)
      return streamInto(input.destination, ({ write }) =>
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

    // Streamed, so a large tarball never sits in memory; a missing source is an error, not an empty copy.
    const copy = (from: string, to: string) =>
      Effect.flatMap(files.info(from), (info) =>
        info?.type !== "file"
          ? new FileAccessError({ path: from, operation: `copy to ${to}`, cause: new Error("no such file") })
          : streamInto(to, ({ write }) => Stream.runForEach(files.readBytes(from), write)))

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
