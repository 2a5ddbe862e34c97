import { FileSystem, Path } from "@effect/platform"
import { Context, Duration, Effect, Layer, Random, Ref } from "effect"
import { FileAccessError } from "../domain/FileErrors.js"
import type { PrivacyMode } from "../domain/Privacy.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { RunStore } from "../services/RunStore.js"
import { type ByteWriter, type FileBackend, runStoreOf } from "./internal/runFiles.js"

const encoder = new TextEncoder()

/** Runs on disk under the runs root. */
export const RunStoreLive = Layer.effect(
  RunStore,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig

    const failure = (target: string, operation: string) => (cause: unknown) =>
      new FileAccessError({ path: target, operation, cause })

    const backend: FileBackend = {
      makeDirectory: (dir) => fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(failure(dir, "create folder"))),
      // A sibling temp file, fsync, rename (D-6): a crash leaves the old or the new file, never half of one.
      writeAtomic: (target, text, options) =>
        Effect.gen(function*() {
          const suffix = yield* Random.nextIntBetween(0, 2 ** 31)
          const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${suffix}.tmp`)
          yield* fs.open(tmp, { flag: "w" }).pipe(
            Effect.tap((file) => file.writeAll(encoder.encode(text))),
            Effect.tap((file) => (options?.durable === false ? Effect.void : file.sync)),
            Effect.scoped,
            Effect.zipRight(fs.rename(tmp, target)),
            Effect.onError(() => Effect.ignore(fs.remove(tmp, { force: true })))
          )
        }).pipe(Effect.mapError(failure(target, "write"))),
      append: (target, text) =>
        fs.writeFileString(target, text, { flag: "a" }).pipe(Effect.mapError(failure(target, "append to"))),
      createExclusive: (target, text) =>
        fs.writeFileString(target, text, { flag: "wx" }).pipe(
          Effect.as(true),
          Effect.catchIf(
            (error) => error._tag === "SystemError" && error.reason === "AlreadyExists",
            () => Effect.succeed(false)
          ),
          Effect.mapError(failure(target, "create"))
        ),
      readText: (target) =>
        fs.readFileString(target).pipe(
          Effect.map((text): string | undefined => text),
          Effect.catchIf(
            (error) => error._tag === "SystemError" && error.reason === "NotFound",
            () => Effect.succeed(undefined)
          ),
          Effect.mapError(failure(target, "read"))
        ),
      openAppend: (target) =>
        fs.open(target, { flag: "a" }).pipe(
          Effect.mapError(failure(target, "open")),
          Effect.map((file): ByteWriter => ({
            write: (bytes) => file.writeAll(bytes).pipe(Effect.mapError(failure(target, "append to")))
          }))
        ),
      symlink: (target, link) => fs.symlink(target, link).pipe(Effect.mapError(failure(link, "create symlink")))
    }

    return runStoreOf(backend, config.heartbeatInterval, config.privacyMode)
  })
)

/** The files an in-memory run store holds, for tests and embedders that inspect a run without disk. */
export class InMemoryFiles extends Context.Tag("orchestrator/InMemoryFiles")<
  InMemoryFiles,
  {
    readonly read: (path: string) => Effect.Effect<string | undefined>
    readonly list: Effect.Effect<ReadonlyArray<string>>
  }
>() {}

/**
 * Same contract in memory: files are strings in a map (symlinks are stored as `-> <target>`).
 * Manifests are stored encoded, so the schema round-trip is exercised too.
 */
export const RunStoreMemory = (
  coalesceWindow: Duration.DurationInput = Duration.seconds(5),
  privacy: PrivacyMode = "shadow"
) =>
  Layer.effectContext(Effect.gen(function*() {
    const files = yield* Ref.make(new Map<string, string>())
    const set = (path: string, text: string) => Ref.update(files, (all) => new Map(all).set(path, text))
    const append = (path: string, text: string) =>
      Ref.update(files, (all) => new Map(all).set(path, (all.get(path) ?? "") + text))

    const backend: FileBackend = {
      makeDirectory: () => Effect.void,
      writeAtomic: set,
      append,
      readText: (path) => Effect.map(Ref.get(files), (all) => all.get(path)),
      createExclusive: (path, text) =>
        Ref.modify(files, (all) => all.has(path) ? [false, all] : [true, new Map(all).set(path, text)]),
      openAppend: (path) => {
        const decoder = new TextDecoder()
        return Effect.succeed({ write: (bytes) => append(path, decoder.decode(bytes)) })
      },
      symlink: (target, path) => set(path, `-> ${target}`)
    }

    const store = runStoreOf(backend, Duration.decode(coalesceWindow), privacy)
    const inspect = InMemoryFiles.of({
      read: (path) => Effect.map(Ref.get(files), (all) => all.get(path)),
      list: Effect.map(Ref.get(files), (all) => [...all.keys()].sort())
    })
    return Context.make(RunStore, store).pipe(Context.add(InMemoryFiles, inspect))
  }))
