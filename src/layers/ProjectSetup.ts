import { Path } from "@effect/platform"
import { Effect, Layer } from "effect"
import { codexPrompts, promptOutcome, shippedEarlier, writesFile } from "../domain/CodexPrompts.js"
import { Files } from "../services/Files.js"
import { type InstalledPrompt, ProjectSetup } from "../services/ProjectSetup.js"
import { sha256Hex } from "./internal/sha256.js"

/** ProjectSetup on the Files service (FilesLive on disk, FilesMemory in tests). */
export const ProjectSetupLive = Layer.effect(
  ProjectSetup,
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path

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

    return ProjectSetup.of({ installPrompts })
  })
)
