import { Path } from "@effect/platform"
import { Effect, Layer } from "effect"
import { decodeJsonFile, FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import {
  type PromptPackEntry,
  type PromptPackError,
  PromptPackManifestFile,
  promptPackManifestPath,
  promptPacksDir,
  type PromptPackSource,
  promptPackStampText,
  PromptPackStampMismatch,
  sortPromptPacks,
  sourceRefsOf
} from "../domain/PromptPacks.js"
import { Files } from "../services/Files.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { FilesMemorySeeded } from "./Files.js"
import { OrchestratorConfigTest } from "./OrchestratorConfig.js"
import { PromptPacks } from "../services/PromptPacks.js"
import { sha256Hex } from "./internal/sha256.js"

const manifestHint = `A pack needs "id", "domain", "system" and "stamp"; "system", "inject", "summarize", "extract" ` +
  `and "optimize" each name a repo-relative file or an array of them. Fix the fields listed.`

const sourcesHint = `Every file a pack names must exist and not be blank: create the file, or remove it from the manifest ` +
  `(and re-stamp the pack).`

/** How the rules reach the files: Live reads the disk, Memory a map. Paths are repo-relative. */
interface PackFiles {
  /** The `manifest.json` of every folder in the packs folder, whether or not it exists; none without the folder. */
  readonly manifests: Effect.Effect<ReadonlyArray<string>, FileAccessError>
  /** A file's text, or undefined when it does not exist. */
  readonly read: (path: string) => Effect.Effect<string | undefined, FileAccessError>
}

/**
 * INS-4 over any reader (INS-5's word limit is a setting, checked when the settings are decoded).
 * Shared by the Live and Memory layers so both apply exactly the same rules. Packs are checked one at a time, in folder-name order, so the first bad one is reported.
 */
const makeLoad = (
  files: PackFiles
): Effect.Effect<ReadonlyArray<PromptPackEntry>, PromptPackError | InvalidFile | FileAccessError> =>
  Effect.gen(function*() {
    // One pack may name a file in several sections; read it once.
    const contents = new Map<string, string | undefined>()
    const readOnce = (path: string) =>
      contents.has(path)
        ? Effect.succeed(contents.get(path))
        : Effect.tap(files.read(path), (text) => Effect.sync(() => contents.set(path, text)))

    const loadPack = (manifestPath: string) =>
      Effect.gen(function*() {
        const text = yield* files.read(manifestPath)
        if (text === undefined) return [] // a folder without a manifest is not a pack
        const manifest = yield* decodeJsonFile(PromptPackManifestFile, manifestPath, manifestHint)(text)
        const refs = sourceRefsOf(manifest)
        const issues: Array<string> = []
        const sources: Array<PromptPackSource> = []
        for (const ref of refs) {
          const content = yield* readOnce(ref.path)
          if (content === undefined) issues.push(`${ref.field}: ${ref.path} does not exist`)
          else if (content.trim().length === 0) issues.push(`${ref.field}: ${ref.path} is empty`)
          else sources.push({ section: ref.section, path: ref.path, content })
        }
        if (issues.length > 0) return yield* new InvalidFile({ path: manifestPath, issues, hint: sourcesHint })

        const expected = yield* sha256Hex(promptPackStampText(sources))
        const declared = manifest.stamp === undefined || manifest.stamp.length === 0 ? undefined : manifest.stamp
        if (declared !== expected) {
          return yield* new PromptPackStampMismatch({
            path: manifestPath,
            id: manifest.id,
            expected,
            ...(declared === undefined ? {} : { declared })
          })
        }
        const entry: PromptPackEntry = {
          id: manifest.id,
          domain: manifest.domain,
          stamp: expected,
          experience_slots: manifest.experienceSlots ?? 0,
          sources: refs.map((ref) => ref.path)
        }
        return [entry]
      })

    const manifests = yield* files.manifests
    const packs = yield* Effect.forEach(manifests, loadPack)
    return sortPromptPacks(packs.flat())
  }).pipe(Effect.withSpan("PromptPacks.load"))

/** Reads `.agent/prompts/prompt-packs/*\/manifest.json` and the files they name under the configured repository root, through `Files`. */
export const PromptPacksLive = Layer.effect(
  PromptPacks,
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig
    const root = config.roots.repoRoot
    const packsDir = path.join(root, promptPacksDir)

    const manifests = Effect.gen(function*() {
      const names = yield* files.list(packsDir)
      const folders = yield* Effect.filter(names, (name) =>
        Effect.map(files.info(path.join(packsDir, name)), (info) => info?.type === "directory"))
      return folders.map(promptPackManifestPath)
    })

    return PromptPacks.of({ load: makeLoad({ manifests, read: (relative) => files.readText(path.join(root, relative)) }) })
  })
)

/**
 * PromptPacksLive on its own in-memory files: `files` by repo-relative path under `/repo`, pack
 * manifests (`.agent/prompts/prompt-packs/<name>/manifest.json`) and the files they name.
 */
export const PromptPacksMemory = (files: Readonly<Record<string, string>>) =>
  PromptPacksLive.pipe(Layer.provide(Layer.mergeAll(FilesMemorySeeded("/repo", files), OrchestratorConfigTest("/repo"), Path.layer)))
