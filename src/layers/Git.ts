import { Effect, Layer } from "effect"
import { shellCommand } from "../domain/Shell.js"
import { Git, type GitResult, GitUnavailable } from "../services/Git.js"
import { ProcessRunner } from "../services/ProcessRunner.js"
import { gitEnv } from "./internal/gitEnv.js"
import { runForText } from "./internal/processText.js"

/**
 * git through the ProcessRunner (one seam for every process we start). Output is collected whole:
 * these commands print names and counts. The environment keeps git's output stable to parse
 * (C locale) and keeps it from asking anything (no pager, no terminal prompt).
 */
export const GitLive = Layer.effect(
  Git,
  Effect.gen(function*() {
    const runner = yield* ProcessRunner
    const run = Effect.fn("Git.run")(function*(args: ReadonlyArray<string>, cwd: string) {
      const { exit, stderr, stdout } = yield* runForText(runner, { command: shellCommand(["git", ...args]), cwd, env: gitEnv }).pipe(
        Effect.mapError((cause) => new GitUnavailable({ args, reason: cause.message, cause }))
      )
      if (exit.exitCode === null) {
        return yield* new GitUnavailable({ args, reason: `git was killed by ${exit.signal ?? "a signal"}`, cause: exit })
      }
      if (exit.exitCode === 127) {
        return yield* new GitUnavailable({ args, reason: "git is not installed (not found on PATH)", cause: stderr })
      }
      return { exitCode: exit.exitCode, stdout, stderr } satisfies GitResult
    })
    return Git.of({ run })
  })
)

/**
 * Scripted git for tests: answers by the arguments joined with spaces; anything unscripted exits 128
 * the way git does for an unknown revision.
 */
export const GitMemory = (answers: Readonly<Record<string, Partial<GitResult>>>) =>
  Layer.succeed(
    Git,
    Git.of({
      run: (args) => {
        const answer = answers[args.join(" ")]
        return Effect.succeed<GitResult>(
          answer === undefined
            ? { exitCode: 128, stdout: "", stderr: `fatal: not scripted: git ${args.join(" ")}\n` }
            : { exitCode: answer.exitCode ?? 0, stdout: answer.stdout ?? "", stderr: answer.stderr ?? "" }
        )
      }
    })
  )
