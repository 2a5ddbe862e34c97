/**
 * What a stage cache key reads (DECISIONS B-5): the files a stage's globs match under its folder
 * (walked from each glob's fixed folder only, `**` not entering `.git` or `node_modules` unless a
 * glob names them, nor the orchestrator's own folders, which every run changes) and their git blob
 * ids; the keyed hashes of the named env values.
 */
import { Config, Effect, Option } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import { globToRegExp, skippedFolder, staticBase } from "../../domain/Glob.js"
import type { Files } from "../../services/Files.js"
import { blobIdOf, blobIdOfBytes, hmacOf } from "./cacheDigest.js"

const join = (dir: string, name: string) => (dir === "" ? name : `${dir}/${name}`)

/** Files up to this size are read whole rather than streamed (memory stays bounded, D-11). */
export const wholeReadLimit = 1024 * 1024

/** Guards against a symlink loop: no real tree is this deep. */
const maxDepth = 64

/**
 * Every file under `root` that one of `globs` matches, relative to `root`, sorted and without
 * duplicates. A folder of `ownFolders` (absolute) met on the way is not entered.
 */
export const matchFiles = (files: Files["Type"], root: string, globs: ReadonlyArray<string>, ownFolders: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const found = new Set<string>()
    const own = new Set(ownFolders.map((folder) => folder.replace(/\/+$/, "")))
    for (const glob of globs) {
      const base = staticBase(glob)
      const pattern = globToRegExp(glob)
      // A glob without a wildcard that names a folder takes everything in it.
      const whole = base.length > 0 && !/[*?[{]/.test(glob)
      const visit = (rel: string, depth: number): Effect.Effect<void, FileAccessError> =>
        Effect.gen(function*() {
          const info = yield* files.info(rel === "" ? root : `${root}/${rel}`)
          if (info === undefined) return
          if (info.type === "file") {
            if (whole || pattern.test(rel)) found.add(rel)
            return
          }
          if (info.type !== "directory" || depth > maxDepth) return
          for (const name of yield* files.list(rel === "" ? root : `${root}/${rel}`)) {
            const child = join(rel, name)
            if ((skippedFolder(name) && !glob.includes(name)) || own.has(`${root}/${child}`)) continue
            yield* visit(child, depth + 1)
          }
        })
      yield* visit(base, 0)
    }
    return [...found].sort()
  })

/** Each file's git blob id, by its path relative to `root`: from `known` (git's index) when there, else hashed. */
export const blobIds = (
  files: Files["Type"],
  root: string,
  paths: ReadonlyArray<string>,
  known: ReadonlyMap<string, string> = new Map()
) =>
  Effect.gen(function*() {
    const ids: Record<string, string> = {}
    for (const rel of paths) {
      const fromGit = known.get(rel)
      if (fromGit !== undefined) {
        ids[rel] = fromGit
        continue
      }
      const path = `${root}/${rel}`
      const info = yield* files.info(path)
      if (info?.type !== "file") continue
      // A small file is read in one go: streaming it costs more than the read itself, on every lookup.
      const whole = info.size <= wholeReadLimit ? yield* files.readAllBytes(path) : undefined
      ids[rel] = yield* (whole === undefined ? blobIdOf(info.size, files.readBytes(path)) : blobIdOfBytes(whole))
    }
    return ids
  })

/**
 * Each named variable's keyed hash: its value from the stage's own environment, else the
 * orchestrator's (read through Config, so tests set it with a ConfigProvider). Unset differs from empty.
 */
export const envDigests = (hmacKey: string, names: ReadonlyArray<string>, stageEnv: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    const digests: Record<string, string> = {}
    for (const name of [...new Set(names)].sort()) {
      const value = stageEnv[name] ?? Option.getOrUndefined(yield* Effect.orElseSucceed(Config.option(Config.string(name)), () => Option.none()))
      digests[name] = yield* hmacOf(hmacKey, value === undefined ? `${name}\u0000unset` : `${name}=${value}`)
    }
    return digests
  })
