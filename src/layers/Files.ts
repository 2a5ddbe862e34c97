import { FileSystem, Path } from "@effect/platform"
import { Clock, Context, Effect, Layer, Option, Random, Ref, Stream } from "effect"
import { FileAccessError } from "../domain/FileErrors.js"
import { type ByteWriter, type FileInfo, Files } from "../services/Files.js"
import { concatBytes } from "../domain/Bytes.js"

const encoder = new TextEncoder()

const isReason = (reason: string) => (error: { readonly _tag: string; readonly reason?: string }) =>
  error._tag === "SystemError" && error.reason === reason

type Failure = (target: string, operation: string) => (cause: unknown) => FileAccessError

/** Bytes and whole folders (the mirror commands' staging, promotion and serving), on the platform FileSystem. */
const treeOperations = (
  fs: FileSystem.FileSystem,
  failure: Failure
): Pick<Files["Type"], "writeBytes" | "readAllBytes" | "removeTree" | "copyFile" | "copyTree" | "rename" | "info" | "realPath"> => ({
  writeBytes: (target, bytes) => fs.writeFile(target, bytes).pipe(Effect.mapError(failure(target, "write"))),
  readAllBytes: (target) =>
    fs.readFile(target).pipe(
      Effect.map((bytes): Uint8Array | undefined => bytes),
      Effect.catchIf(isReason("NotFound"), () => Effect.succeed(undefined)),
      Effect.mapError(failure(target, "read"))
    ),
  removeTree: (target) => fs.remove(target, { recursive: true, force: true }).pipe(Effect.mapError(failure(target, "delete"))),
  copyFile: (from, to) => fs.copyFile(from, to).pipe(Effect.mapError(failure(from, `copy to ${to}`))),
  copyTree: (from, to) => fs.copy(from, to).pipe(Effect.mapError(failure(from, `copy to ${to}`))),
  rename: (from, to) => fs.rename(from, to).pipe(Effect.mapError(failure(from, `rename to ${to}`))),
  info: (target) =>
    fs.stat(target).pipe(
      Effect.map((stat): FileInfo | undefined => ({
        type: stat.type === "File" ? "file" : stat.type === "Directory" ? "directory" : "other",
        size: Number(stat.size)
      })),
      Effect.catchIf(isReason("NotFound"), () => Effect.succeed(undefined)),
      Effect.mapError(failure(target, "inspect"))
    ),
  realPath: (target) =>
    fs.realPath(target).pipe(
      Effect.map((real): string | undefined => real),
      Effect.catchIf(isReason("NotFound"), () => Effect.succeed(undefined)),
      Effect.mapError(failure(target, "resolve"))
    )
})

/** Whole-file writes (D-6): a sibling temp file, fsync, rename, so a crash leaves the old or the new file, never half of one. */
const atomicWrites = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  failure: Failure
): Pick<Files["Type"], "writeAtomic" | "writeAtomicStream"> => ({
  writeAtomic: (target, text, options) =>
    Effect.gen(function*() {
      const suffix = yield* Random.nextIntBetween(0, 2 ** 31)
      const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${suffix}.tmp`)
      // Not durable (D-6: a heartbeat, a stage starting, the owner record): one whole-file write
      // instead of open, write and close, each its own trip to the thread pool, on every stage.
      const written = options?.durable === false
        ? fs.writeFile(tmp, encoder.encode(text))
        : fs.open(tmp, { flag: "w" }).pipe(
          // The platform's writeAll fails an empty buffer ("write returned 0 bytes written").
          Effect.tap((file) => text.length === 0 ? Effect.void : file.writeAll(encoder.encode(text))),
          Effect.tap((file) => file.sync),
          Effect.scoped
        )
      yield* written.pipe(
        Effect.zipRight(fs.rename(tmp, target)),
        Effect.onError(() => Effect.ignore(fs.remove(tmp, { force: true })))
      )
    }).pipe(Effect.mapError(failure(target, "write"))),
  writeAtomicStream: (target, fill, options) =>
    Effect.gen(function*() {
      const suffix = yield* Random.nextIntBetween(0, 2 ** 31)
      const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${suffix}.tmp`)
      const writeFailure = failure(target, "write")
      yield* Effect.gen(function*() {
        const file = yield* fs.open(tmp, { flag: "w" }).pipe(Effect.mapError(writeFailure))
        yield* fill({ write: (bytes) => bytes.length === 0 ? Effect.void : file.writeAll(bytes).pipe(Effect.mapError(writeFailure)) })
        if (options?.durable !== false) yield* file.sync.pipe(Effect.mapError(writeFailure))
      }).pipe(
        Effect.scoped, // closes the descriptor before the rename
        Effect.zipRight(fs.rename(tmp, target).pipe(Effect.mapError(writeFailure))),
        Effect.onError(() => Effect.ignore(fs.remove(tmp, { force: true })))
      )
    })
})

/**
 * Makes `dir` and the folders missing above it, top-down, one `mkdir` each. Node's recursive mkdir
 * never returns where a folder exists but refuses a new entry with ENOENT (/proc, some FUSE mounts):
 * it spins at full CPU. Here that refusal is an error, as is a file where a folder belongs.
 */
const makeFolders = (fs: FileSystem.FileSystem, path: Path.Path, dir: string) =>
  Effect.gen(function*() {
    const missing: Array<string> = []
    for (let current = path.resolve(dir);; current = path.dirname(current)) {
      const found = yield* fs.stat(current).pipe(Effect.map(Option.some), Effect.catchIf(isReason("NotFound"), () => Effect.succeedNone))
      if (Option.isSome(found)) {
        if (found.value.type !== "Directory") return yield* Effect.fail(new Error(`ENOTDIR: ${current} is not a folder`))
        break
      }
      missing.push(current)
      if (path.dirname(current) === current) break
    }
    for (const folder of missing.reverse()) {
      yield* fs.makeDirectory(folder).pipe(Effect.catchIf(isReason("AlreadyExists"), () => Effect.void))
    }
  })

/** Files on disk, through the platform FileSystem. */
export const FilesLive = Layer.effect(
  Files,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path

    const failure = (target: string, operation: string) => (cause: unknown) =>
      new FileAccessError({ path: target, operation, cause })

    return Files.of({
      makeDirectory: (dir) => makeFolders(fs, path, dir).pipe(Effect.mapError(failure(dir, "create folder"))),
      ...atomicWrites(fs, path, failure),
      append: (target, text) =>
        fs.writeFileString(target, text, { flag: "a" }).pipe(Effect.mapError(failure(target, "append to"))),
      createExclusive: (target, text) =>
        fs.writeFileString(target, text, { flag: "wx" }).pipe(
          Effect.as(true),
          Effect.catchIf(isReason("AlreadyExists"), () => Effect.succeed(false)),
          Effect.mapError(failure(target, "create"))
        ),
      readText: (target) =>
        fs.readFileString(target).pipe(
          Effect.map((text): string | undefined => text),
          Effect.catchIf(isReason("NotFound"), () => Effect.succeed(undefined)),
          Effect.mapError(failure(target, "read"))
        ),
      readLines: (target) =>
        fs.stream(target).pipe(
          Stream.decodeText(),
          Stream.splitLines,
          Stream.catchAll((error) =>
            error._tag === "SystemError" && error.reason === "NotFound"
              ? Stream.empty
              : Stream.fail(failure(target, "read")(error))
          )
        ),
      readBytes: (target, from = 0) =>
        fs.stream(target, { offset: from, chunkSize: FileSystem.KiB(64) }).pipe(
          Stream.catchAll((error) =>
            error._tag === "SystemError" && error.reason === "NotFound"
              ? Stream.empty
              : Stream.fail(failure(target, "read")(error))
          )
        ),
      // Created exclusively when new; an existing file is reopened only when it is not a symbolic link, so
      // a link planted at a stage log's path never redirects a run's output elsewhere (issue 16 item 22).
      openAppend: (target) =>
        fs.open(target, { flag: "ax" }).pipe(
          Effect.catchIf(isReason("AlreadyExists"), () =>
            Effect.zipRight(
              fs.readLink(target).pipe(
                Effect.matchEffect({
                  onFailure: () => Effect.void, // not a link
                  onSuccess: (to) => Effect.fail(new Error(`it is a symbolic link (to ${to}); remove it, a run never writes through one`))
                })
              ),
              fs.open(target, { flag: "a" })
            )),
          Effect.mapError(failure(target, "open")),
          Effect.map((file): ByteWriter => ({
            write: (bytes) => file.writeAll(bytes).pipe(Effect.mapError(failure(target, "append to")))
          }))
        ),
      symlink: (target, link) => fs.symlink(target, link).pipe(Effect.mapError(failure(link, "create symlink"))),
      remove: (target) => fs.remove(target, { force: true }).pipe(Effect.mapError(failure(target, "delete"))),
      list: (dir) =>
        fs.readDirectory(dir).pipe(
          Effect.map((names): ReadonlyArray<string> => [...names].sort()),
          Effect.catchIf(isReason("NotFound"), () => Effect.succeed([])),
          Effect.mapError(failure(dir, "list"))
        ),
      ...treeOperations(fs, failure),
      modifiedAt: (target) =>
        fs.stat(target).pipe(
          Effect.map((info) => Option.getOrUndefined(Option.map(info.mtime, (date) => date.getTime()))),
          Effect.catchIf(isReason("NotFound"), () => Effect.succeed(undefined)),
          Effect.mapError(failure(target, "inspect"))
        )
    })
  })
)

/** The files an in-memory store holds, for tests and embedders that inspect a run without disk. */
export class InMemoryFiles extends Context.Tag("orchestrator/InMemoryFiles")<
  InMemoryFiles,
  {
    readonly read: (path: string) => Effect.Effect<string | undefined>
    readonly list: Effect.Effect<ReadonlyArray<string>>
    /** Puts a file in place, as another process would (a lock held elsewhere, a half-written file). */
    readonly write: (path: string, text: string) => Effect.Effect<void>
  }
>() {}

interface StoredFile {
  readonly text: string
  /** Set for files written as bytes, which may not be text. */
  readonly bytes?: Uint8Array
  readonly modifiedMs: number
}

const under = (dir: string) => (path: string) => path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`)

/**
 * Same contract in memory: files are strings in a map (symlinks are stored as `-> <target>`), and
 * modification times come from the Clock, so TestClock drives lock staleness. Folders are implied.
 */
export const FilesMemory: Layer.Layer<Files | InMemoryFiles> = Layer.effectContext(Effect.gen(function*() {
  const files = yield* Ref.make(new Map<string, StoredFile>())
  const set = (path: string, text: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (modifiedMs) => Ref.update(files, (all) => new Map(all).set(path, { text, modifiedMs })))
  const append = (path: string, text: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (modifiedMs) =>
      Ref.update(files, (all) => new Map(all).set(path, { text: (all.get(path)?.text ?? "") + text, modifiedMs })))
  const read = (path: string) => Effect.map(Ref.get(files), (all) => all.get(path)?.text)

  const setBytes = (path: string, bytes: Uint8Array) =>
    Effect.flatMap(Clock.currentTimeMillis, (modifiedMs) =>
      Ref.update(files, (all) => new Map(all).set(path, { text: new TextDecoder().decode(bytes), bytes, modifiedMs })))

  const service = Files.of({
    makeDirectory: () => Effect.void,
    writeAtomic: set,
    // Collected, then stored at once: a failed fill leaves the old file.
    writeAtomicStream: (path, fill) =>
      Effect.gen(function*() {
        const chunks: Array<Uint8Array> = []
        yield* Effect.scoped(fill({ write: (bytes) => Effect.sync(() => void chunks.push(bytes)) }))
        yield* setBytes(path, concatBytes(chunks))
      }),
    append,
    readText: read,
    readLines: (path) =>
      Stream.unwrap(Effect.map(read(path), (text) => text === undefined ? Stream.empty : Stream.make(text).pipe(Stream.splitLines))),
    createExclusive: (path, text) =>
      Effect.flatMap(Clock.currentTimeMillis, (modifiedMs) =>
        Ref.modify(files, (all) => all.has(path) ? [false, all] : [true, new Map(all).set(path, { text, modifiedMs })])),
    readBytes: (path, from = 0) =>
      Stream.unwrap(Effect.map(read(path), (text) =>
        text === undefined ? Stream.empty : Stream.make(encoder.encode(text).subarray(from)))),
    openAppend: (path) => {
      const decoder = new TextDecoder()
      return Effect.succeed({ write: (bytes) => append(path, decoder.decode(bytes)) })
    },
    symlink: (target, path) => set(path, `-> ${target}`),
    remove: (path) =>
      Ref.update(files, (all) => {
        const next = new Map(all)
        next.delete(path)
        return next
      }),
    list: (dir) =>
      Effect.map(Ref.get(files), (all) => {
        const prefix = dir.endsWith("/") ? dir : `${dir}/`
        const names = new Set<string>()
        for (const path of all.keys()) {
          if (path.startsWith(prefix)) names.add(path.slice(prefix.length).split("/")[0] ?? "")
        }
        return [...names].filter((name) => name.length > 0).sort()
      }),
    writeBytes: setBytes,
    readAllBytes: (path) =>
      Effect.map(Ref.get(files), (all) => {
        const file = all.get(path)
        return file === undefined ? undefined : file.bytes ?? encoder.encode(file.text)
      }),
    removeTree: (path) => Ref.update(files, (all) => new Map([...all].filter(([key]) => !under(path)(key)))),
    copyFile: (from, to) =>
      Effect.flatMap(Ref.get(files), (all) => {
        const file = all.get(from)
        return file === undefined
          ? Effect.fail(new FileAccessError({ path: from, operation: `copy to ${to}`, cause: new Error(`ENOENT: no such file, copyfile '${from}'`) }))
          : Ref.update(files, (now) => new Map(now).set(to, file))
      }),
    copyTree: (from, to) =>
      Ref.update(files, (all) => {
        const next = new Map(all)
        for (const [key, file] of all) if (under(from)(key)) next.set(`${to}${key.slice(from.length)}`, file)
        return next
      }),
    rename: (from, to) =>
      Ref.update(files, (all) =>
        new Map([...all].map(([key, file]) => [under(from)(key) ? `${to}${key.slice(from.length)}` : key, file]))),
    info: (path) =>
      Effect.map(Ref.get(files), (all): FileInfo | undefined => {
        const file = all.get(path)
        if (file !== undefined) return { type: "file", size: (file.bytes ?? encoder.encode(file.text)).length }
        return [...all.keys()].some(under(path)) ? { type: "directory", size: 0 } : undefined
      }),
    realPath: (path) =>
      Effect.map(Ref.get(files), (all) => all.has(path) || [...all.keys()].some(under(path)) ? path : undefined),
    modifiedAt: (path) => Effect.map(Ref.get(files), (all) => all.get(path)?.modifiedMs)
  })
  const inspect = InMemoryFiles.of({
    read,
    list: Effect.map(Ref.get(files), (all) => [...all.keys()].sort()),
    write: set
  })
  return Context.make(Files, service).pipe(Context.add(InMemoryFiles, inspect))
}))

/**
 * FilesMemory holding `files` from the start, their paths relative to `root` (`AGENTS.md` under
 * `/repo`): the test kit's repository files, read by the same Live layers as on disk.
 */
export const FilesMemorySeeded = (root: string, files: Readonly<Record<string, string>>): Layer.Layer<Files | InMemoryFiles> =>
  Layer.tap(FilesMemory, (context) =>
    Effect.forEach(
      Object.entries(files),
      ([relative, text]) => Context.get(context, InMemoryFiles).write(`${root}/${relative}`, text),
      { discard: true }
    ))
