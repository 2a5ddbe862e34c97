import { Path } from "@effect/platform"
import { DateTime, Effect, Layer } from "effect"
import { codexPrompts, promptOutcome, shippedEarlier, writesFile } from "../domain/CodexPrompts.js"
import { isWithin } from "../domain/PathContainment.js"
import { projectFiles, scaffoldTask } from "../domain/ProjectTemplates.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { Files } from "../services/Files.js"
import { InitRefused, type InstalledPrompt, ProjectSetup } from "../services/ProjectSetup.js"
import { sha256Hex } from "./internal/sha256.js"

/** ProjectSetup on the Files service (FilesLive on disk, FilesMemory in tests); `init` scaffolds the configured root. */
export const ProjectSetupLive = Layer.effect(
  ProjectSetup,
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path
    const root = (yield* BaseConfig).roots.repoRoot

    const installPrompts = Effect.fn("ProjectSetup.installPrompts")(function*(dir: string, force: boolean) {
      yield* files.makeDirectory(dir)
      const installed: Array<InstalledPrompt> = []
      for (const prompt of codexPrompts) {
        const target = path.join(dir, prompt.name)
        const existing = yield* files.readText(target)
        const shipped = existing !== undefined && (shippedEarlier[prompt.name] ?? []).includes(yield* sha256Hex(existing))
        const outcome = promptOutcome(existing, prompt.text, shipped, force)
        if (writesFile(outcome)) yield* files.writeAtomic(target, prompt.text)
        installed.push({ path: target, outcome })
      }
      return installed
    })

    /**
     * What stands where init would write `file` (repository-relative, `/`-separated): the file itself,
     * a file where one of its folders belongs (asking past it would fail with the system's ENOTDIR),
     * or a folder that is a symbolic link out of the repository (init would write there, elsewhere).
     */
    const inTheWay = (realRoot: string) => (file: string) =>
      Effect.gen(function*() {
        const parts = file.split("/")
        for (let i = 1; i < parts.length; i++) {
          const folder = parts.slice(0, i).join("/")
          const info = yield* files.info(path.join(root, folder))
          if (info === undefined) return undefined
          if (info.type !== "directory") return `${folder} (a file where init needs a folder)`
          const real = (yield* files.realPath(path.join(root, folder))) ?? realRoot
          if (!isWithin(realRoot, real, path.sep)) return `${folder} (a symbolic link out of the repository, to ${real})`
        }
        return (yield* files.info(path.join(root, file))) === undefined ? undefined : file
      })

    /** The outermost folder of `file` (repository-relative) that does not exist yet, as an absolute path. */
    const firstMissingFolder = (file: string) =>
      Effect.gen(function*() {
        const parts = file.split("/")
        for (let i = 1; i < parts.length; i++) {
          const folder = path.join(root, ...parts.slice(0, i))
          if ((yield* files.info(folder)) === undefined) return folder
        }
        return undefined
      })

    const init = Effect.fn("ProjectSetup.init")(function*(taskId: string) {
      const today = DateTime.formatIsoDateUtc(yield* DateTime.now)
      const scaffold = projectFiles(scaffoldTask(taskId), today)
      const existing: Array<string> = []
      const conflictOf = inTheWay((yield* files.realPath(root)) ?? root)
      for (const file of scaffold) {
        const conflict = yield* conflictOf(file.path)
        if (conflict !== undefined && !existing.includes(conflict)) existing.push(conflict)
      }
      if (existing.length > 0) return yield* new InitRefused({ root, existing })
      // All or nothing: what this init made (files, and the top folders that were missing) is removed
      // when a later write fails (a full disk), so the repository is as before and init can run again.
      const made: Array<string> = []
      const undo = Effect.suspend(() => Effect.forEach([...made].reverse(), (p) => files.removeTree(p), { discard: true })).pipe(Effect.ignore)
      return yield* Effect.gen(function*() {
        for (const file of scaffold) {
          const target = path.join(root, file.path)
          const newFolder = yield* firstMissingFolder(file.path)
          if (newFolder !== undefined && !made.includes(newFolder)) made.push(newFolder)
          yield* files.makeDirectory(path.dirname(target))
          if (newFolder === undefined) made.push(target)
          // createExclusive, not writeAtomic: a file that appeared since the check is still not overwritten.
          if (!(yield* files.createExclusive(target, file.text))) {
            if (newFolder === undefined) made.pop()
            return yield* new InitRefused({ root, existing: [file.path] })
          }
        }
        return scaffold.map((file) => file.path)
      }).pipe(Effect.onError(() => undo))
    })

    return ProjectSetup.of({ installPrompts, init })
  })
)
