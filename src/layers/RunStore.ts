import { FileSystem, Path } from "@effect/platform"
import { Context, Duration, Effect, Layer, Random, Ref } from "effect"
import { FileAccessError } from "../domain/FileErrors.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { RunStore, type StageLogWriter } from "../services/RunStore.js"
import { createRunFiles, type FileBackend } from "./internal/runFiles.js"

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
      writeAtomic: (target, text) =>
        Effect.gen(function*() {
          const suffix = yield* Random.nextIntBetween(0, 2 ** 31)
          const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${suffix}.tmp`)
          yield* fs.open(tmp, { flag: "w" }).pipe(
            Effect.tap((file) => file.writeAll(encoder.encode(text))),
            Effect.tap((file) => file.sync),
            Effect.scoped,
            Effect.zipRight(fs.rename(tmp, target)),
            Effect.onError(() => Effect.ignore(fs.remove(tmp, { force: true })))
          )
        }).pipe(Effect.mapError(failure(target, "write"))),
      append: (target, text) =>
        fs.writeFileString(target, text, { flag: "a" }).pipe(Effect.mapError(failure(target, "append to"))),
      openAppend: (target) =>
        fs.open(target, { flag: "a" }).pipe(
          Effect.mapError(failure(target, "open")),
          Effect.map((file): StageLogWriter => ({
            append: (text) => file.writeAll(encoder.encode(text)).pipe(Effect.mapError(failure(target, "append to")))
          }))
        ),
      symlink: (target, link) => fs.symlink(target, link).pipe(Effect.mapError(failure(link, "create symlink")))
    }

    return RunStore.of({
      create: (layout, manifest) => createRunFiles(backend, layout, manifest, config.heartbeatInterval)
    })
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
export const RunStoreMemory = (coalesceWindow: Duration.DurationInput = Duration.seconds(5)) =>
  Layer.effectContext(Effect.gen(function*() {
    const files = yield* Ref.make(new Map<string, string>())
    const set = (path: string, text: string) => Ref.update(files, (all) => new Map(all).set(path, text))
    const append = (path: string, text: string) =>
      Ref.update(files, (all) => new Map(all).set(path, (all.get(path) ?? "") + text))

    const backend: FileBackend = {
      makeDirectory: () => Effect.void,
      writeAtomic: set,
      append,
      openAppend: (path) => Effect.succeed({ append: (text) => append(path, text) }),
      symlink: (target, path) => set(path, `-> ${target}`)
    }

    const store = RunStore.of({
      create: (layout, manifest) => createRunFiles(backend, layout, manifest, Duration.decode(coalesceWindow))
    })
    const inspect = InMemoryFiles.of({
      read: (path) => Effect.map(Ref.get(files), (all) => all.get(path)),
      list: Effect.map(Ref.get(files), (all) => [...all.keys()].sort())
    })
    return Context.make(RunStore, store).pipe(Context.add(InMemoryFiles, inspect))
  }))
