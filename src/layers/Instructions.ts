import { Path } from "@effect/platform"
import { Effect, Layer } from "effect"
import { FileAccessError } from "../domain/FileErrors.js"
import {
  combinedInstructions,
  hasContent,
  instructionSources,
  InstructionStampMismatch,
  parseInstructionFile,
  rootInstructionSource
} from "../domain/Instructions.js"
import { Instructions, type ResolvedInstructions } from "../services/Instructions.js"
import { Files } from "../services/Files.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { FilesMemorySeeded } from "./Files.js"
import { OrchestratorConfigTest } from "./OrchestratorConfig.js"
import { sha256Hex } from "./internal/sha256.js"

/** INS-1..3 with D-15 over a reader that gives a source's text, or undefined when it does not exist. */
const makeResolve = (
  read: (source: string) => Effect.Effect<string | undefined, FileAccessError>
): Effect.Effect<ResolvedInstructions, InstructionStampMismatch | FileAccessError> =>
  Effect.gen(function*() {
    const bodies: Array<string> = []
    const sources: Array<string> = []
    for (const source of instructionSources) {
      const text = yield* read(source)
      if (text === undefined) continue
      const file = parseInstructionFile(text)
      if (!hasContent(file)) continue
      if (file.stamp !== undefined) {
        const actual = yield* sha256Hex(file.body)
        if (actual !== file.stamp) {
          const mismatch = new InstructionStampMismatch({ path: source, expected: file.stamp, actual })
          if (source === rootInstructionSource) return yield* mismatch
          yield* Effect.logWarning(`${mismatch.message} ${source} is skipped for this run.`)
          continue
        }
      }
      bodies.push(file.body)
      sources.push(source)
    }
    if (sources.length === 0) return { hash: null, sources: [] }
    return { hash: yield* sha256Hex(combinedInstructions(bodies)), sources }
  }).pipe(Effect.withSpan("Instructions.resolve"))

/** Reads the instruction files under the configured repository root through `Files`; a missing file is skipped. */
export const InstructionsLive = Layer.effect(
  Instructions,
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig
    return Instructions.of({ resolve: makeResolve((source) => files.readText(path.join(config.roots.repoRoot, source))) })
  })
)

/**
 * InstructionsLive on its own in-memory files: `files` by repo-relative path (`AGENTS.md`,
 * `docs/AGENTS.md`, ...) under `/repo`.
 */
export const InstructionsMemory = (files: Readonly<Record<string, string>>) =>
  InstructionsLive.pipe(Layer.provide(Layer.mergeAll(FilesMemorySeeded("/repo", files), OrchestratorConfigTest("/repo"), Path.layer)))
