/**
 * LRN-6: the scenario replayed on the clean tree. A dirty tree stalls the validation (its status
 * and recent history are kept as evidence); otherwise each command runs with its output streamed
 * to `learning/scenario-validation.log`, and the first that fails decides the outcome.
 */
import { Effect } from "effect"
import { cleanFixtureReason, type ScenarioFile } from "../../domain/LearningRecords.js"
import { dirtyEntries } from "../../domain/LearningSnapshotPaths.js"
import type { ValidationOutcome } from "../../domain/LearningStatus.js"
import { commandFailureReason } from "../../domain/LearningSynthesis.js"
import { isoNow } from "../../domain/Time.js"
import type { CaptureContext } from "./learningContext.js"
import { describeFailure, succeeded } from "./learningGit.js"
import { logLine, makeOutputLines } from "./learningLog.js"
import { makeOutputTail } from "./outputTail.js"

/** stderr kept for `last_error` when a scenario command fails. */
const lastErrorBytes = 8 * 1024

/** The validation's outcome and its log's path; it never fails (a failure is an outcome). */
export const validateScenario = (ctx: CaptureContext, scenario: ScenarioFile, scenarioPath: string) =>
  Effect.gen(function*() {
    const { at, files, git, layout, runner } = ctx
    const { relative } = layout
    const logPath = at("scenario-validation.log")
    const log = (text: string) => Effect.flatMap(isoNow, (now) => files.append(logPath, logLine(now, text)))

    const runScenarioCommand = (command: string) =>
      Effect.gen(function*() {
        yield* log(`$ ${command}`)
        const lines = makeOutputLines()
        const stderr = makeOutputTail(lastErrorBytes)
        const exit = yield* runner.run({ command, cwd: layout.roots.repoRoot, env: {} }, {
          onStart: () => Effect.void,
          onOutput: (stream, chunks) =>
            Effect.flatMap(isoNow, (now) => {
              let text = ""
              for (const bytes of chunks) {
                if (stream === "stderr") stderr.push(bytes)
                text += lines.push(stream, bytes, now)
              }
              return text.length === 0 ? Effect.void : files.append(logPath, text)
            })
        })
        const rest = lines.flush(yield* isoNow)
        if (rest.length > 0) yield* files.append(logPath, rest)
        return { exit, stderr: stderr.text().trim() }
      })

    const validate = Effect.gen(function*() {
      yield* log(`Scenario: ${relative(scenarioPath)}`)
      const status = yield* ctx.workTreeStatus
      const dirt = status._tag === "Read" ? dirtyEntries(status.porcelainZ, ctx.excluded, status.prefix) : [status.failure]
      if (dirt.length > 0) {
        const gitStatusPath = at("validation-git-status.txt")
        const gitLogPath = at("validation-git-log.txt")
        const history = yield* git("git log -5 --oneline")
        yield* files.writeAtomic(gitStatusPath, dirt.map((line) => `${line}\n`).join(""))
        yield* files.writeAtomic(gitLogPath, succeeded(history) ? history.stdout : `${describeFailure(history)}\n`)
        yield* log(cleanFixtureReason)
        return { _tag: "Dirty", gitStatusPath: relative(gitStatusPath), gitLogPath: relative(gitLogPath) } as const
      }
      for (const command of scenario.commands) {
        const { exit, stderr } = yield* runScenarioCommand(command)
        if (exit.exitCode !== 0) {
          const reason = commandFailureReason(command, exit)
          yield* log(reason)
          return { _tag: "CommandFailed", reason, lastError: stderr.length > 0 ? stderr : reason } as const
        }
      }
      yield* log("Scenario validated")
      return { _tag: "Validated" } as const
    }).pipe(
      Effect.catchAll((error): Effect.Effect<ValidationOutcome> =>
        log(error.message).pipe(
          Effect.ignore,
          Effect.as(
            error._tag === "ProcessSpawnError"
              ? { _tag: "CommandFailed", reason: error.message, lastError: error.message }
              : { _tag: "Unusable", reason: error.message }
          )
        )
      )
    )

    return { outcome: yield* validate, logPath: relative(logPath) }
  })
