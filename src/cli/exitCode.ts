/**
 * DECISIONS D-1 as a function: the exit code of a finished command. 0 succeeded, 1 the run failed
 * or an I/O error, 2 bad input, 130 interrupted (or a run that ended `cancelled`); `exec`: its command's code. Pure and free of
 * @effect/cli, so the status quick path (statusMain.ts) uses it without loading the parser; an app
 * that mounts the commands under its own CLI maps its exits with it (codex-orchestrator/cli).
 */
import { Cause, Exit, Option } from "effect"
import { badInputTags } from "../services/RunEngine.js"

/** Tells the command-line parser's own usage errors, which it has already printed (exit 2, D-1). */
export type ParserErrorTest = (error: unknown) => boolean

/** For a program whose command line was read without @effect/cli: it has no usage errors of its own. */
export const noParserErrors: ParserErrorTest = () => false

/** The `_tag` of a tagged error, else undefined. */
export const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" ? error._tag : undefined

/** The tags, beyond the engine's BadInput, that are bad input too (exit 2). */
const usageTags: ReadonlySet<string> = new Set(["UsageError", "InvalidSetting"])

/** D-1: the exit code of a command's exit; `isParserError` tells the parser's usage errors (exit 2). */
export const exitCodeOf = (exit: Exit.Exit<unknown, unknown>, isParserError: ParserErrorTest = noParserErrors): number => {
  if (Exit.isSuccess(exit)) return 0
  if (Cause.isInterruptedOnly(exit.cause)) return 130
  return Option.match(Cause.failureOption(exit.cause), {
    onNone: () => 1,
    onSome: (error) => {
      if (isParserError(error)) return 2
      const tag = tagOf(error)
      if (tag !== undefined && (badInputTags.has(tag) || usageTags.has(tag))) return 2
      if (tag === "CommandExited" && typeof error === "object" && error !== null && "exitCode" in error) {
        return typeof error.exitCode === "number" ? error.exitCode : 1
      }
      if (tag === "RunNotSucceeded" && typeof error === "object" && error !== null && "status" in error) {
        return error.status === "cancelled" ? 130 : 1
      }
      return 1
    }
  })
}
