import { FileSystem, Path } from "@effect/platform"
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
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { sha256Hex } from "./internal/sha256.js"

/**
 * INS-1..3 with D-15 over any reader; `read` gives a source's text, or undefined when it does not exist.
 * Shared by the Live and Memory layers so both apply exactly the same rules.
 */
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

/** Reads the instruction files under the configured repository root; a missing file is skipped. */
export const InstructionsLive = Layer.effect(
  Instructions,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const config = yield* OrchestratorConfig

    const read = (source: string): Effect.Effect<string | undefined, FileAccessError> => {
      const file = path.join(config.roots.repoRoot, source)
      return fs.readFileString(file).pipe(
        Effect.catchAll((cause) =>
          cause._tag === "SystemError" && cause.reason === "NotFound"
            ? Effect.succeed(undefined)
            : Effect.fail(new FileAccessError({ path: file, operation: "read", cause }))
        )
      )
    }

    return Instructions.of({ resolve: makeResolve(read) })
  })
)

/** The same rules over fixed file contents, keyed by repo-relative path (`AGENTS.md`, `docs/AGENTS.md`, ...). */
export const InstructionsMemory = (files: Readonly<Record<string, string>>) =>
  Layer.succeed(
    Instructions,
    Instructions.of({ resolve: makeResolve((source) => Effect.succeed(Object.hasOwn(files, source) ? files[source] : undefined)) })
  )
