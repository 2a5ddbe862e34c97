/**
 * Short git commands for the learning pipeline (LRN-2, LRN-6), run through the ProcessRunner with
 * their output collected. Only for commands whose output is small (hashes, file lists, status);
 * scenario commands stream to the validation log instead.
 */
import { Effect } from "effect"
import type { ProcessExit, ProcessRunner, ProcessSpawnError } from "../../services/ProcessRunner.js"

export interface CapturedProcess extends ProcessExit {
  readonly command: string
  readonly stdout: string
  readonly stderr: string
}

/** Runs `command` in `cwd` and returns its exit and its whole output, decoded as UTF-8. */
export const runCaptured = (runner: ProcessRunner["Type"], cwd: string) =>
(command: string): Effect.Effect<CapturedProcess, ProcessSpawnError> =>
  Effect.suspend(() => {
    // One streaming decoder per pipe: a character split across two chunks is decoded whole.
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
    const text = { stdout: "", stderr: "" }
    return runner.run({ command, cwd, env: {} }, {
      onStart: () => Effect.void,
      onOutput: (stream, chunks) =>
        Effect.sync(() => {
          for (const bytes of chunks) text[stream] += decoders[stream].decode(bytes, { stream: true })
        })
    }).pipe(Effect.map((exit) => ({
      ...exit,
      command,
      stdout: text.stdout + decoders.stdout.decode(),
      stderr: text.stderr + decoders.stderr.decode()
    })))
  })

/** Whether the process exited 0. */
export const succeeded = (result: ProcessExit) => result.exitCode === 0 && result.signal === null

/** `<command> exited with code <n>: <first line of stderr>`, for reasons and alerts. */
export const describeFailure = (result: CapturedProcess): string => {
  const how = result.exitCode === null ? `was killed by ${result.signal ?? "a signal"}` : `exited with code ${result.exitCode}`
  const detail = result.stderr.trim().split("\n")[0]?.trim() ?? ""
  return detail.length === 0 ? `${result.command} ${how}` : `${result.command} ${how}: ${detail}`
}

/** git's answer outside a work tree. */
export const isNotARepository = (result: CapturedProcess) => /not a git repository/i.test(result.stderr)

/** git's answer to `rev-parse HEAD` in a repository without a commit yet. */
export const isWithoutCommit = (result: CapturedProcess) =>
  /ambiguous argument 'HEAD'|unknown revision|needed a single revision/i.test(result.stderr)
