/**
 * Agent instruction files (SPEC INS-1..3 with DECISIONS D-15): which files are read, how an optional
 * `codex:instruction-stamp` header is split from the body, and the text whose hash a run records.
 * Hashing itself is effectful (Web Crypto) and lives with the layer; everything here is pure.
 */
import { Schema } from "effect"

/** INS-1: the instruction files, repo-relative, in the order their bodies are combined. */
export const instructionSources = ["AGENTS.md", "docs/AGENTS.md", ".agent/AGENTS.md"] as const

/** The one source whose bad stamp stops a run (D-15); the others are skipped with a warning. */
export const rootInstructionSource = instructionSources[0]

/**
 * INS-2: an optional BOM, the stamp comment and an optional line break. Whitespace inside the comment
 * and the hex case are tolerated, as the original's stamp tool writes and reads them.
 */
const stampHeader = /^\uFEFF?<!--\s*codex:instruction-stamp\s+([0-9a-fA-F]{64})\s*-->(?:\r?\n)?/

/** An instruction file split into its stamp (lowercase hex, if it has one) and its body. */
export interface InstructionFile {
  readonly stamp: string | undefined
  /** The text after the BOM and the stamp line: what the stamp is the SHA-256 of. */
  readonly body: string
}

/** Splits a file's text into stamp and body. A file without a stamp is all body (D-15). */
export const parseInstructionFile = (text: string): InstructionFile => {
  const match = stampHeader.exec(text)
  if (match === null) return { stamp: undefined, body: text.startsWith("\uFEFF") ? text.slice(1) : text }
  return { stamp: match[1]?.toLowerCase(), body: text.slice(match[0].length) }
}

/** INS-2: a file whose body is only whitespace contributes nothing, stamped or not. */
export const hasContent = (file: InstructionFile): boolean => file.body.trim().length > 0

/** INS-3: the text `instructions_hash` is the SHA-256 of: trimmed bodies joined by a blank line, trimmed. */
export const combinedInstructions = (bodies: ReadonlyArray<string>): string =>
  bodies.map((body) => body.trim()).join("\n\n").trim()

/**
 * D-15: a file carries a stamp that is not the SHA-256 of its body, so it was edited after it was
 * stamped (or the stamp was copied from another file). Refused: bad input for `AGENTS.md`, a
 * warning and a skipped file for the optional ones.
 */
export class InstructionStampMismatch extends Schema.TaggedError<InstructionStampMismatch>()("InstructionStampMismatch", {
  /** Repo-relative, e.g. `AGENTS.md`. */
  path: Schema.String,
  /** The hash the stamp claims. */
  expected: Schema.String,
  /** The SHA-256 of the body as it is now. */
  actual: Schema.String
}) {
  override get message() {
    return `Instruction ${this.path} stamp mismatch: the codex:instruction-stamp does not match the file's content. ` +
      `Update the stamp to ${this.actual} or remove it.`
  }
}
