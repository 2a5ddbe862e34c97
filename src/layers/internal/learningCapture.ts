/**
 * The learning pipeline's steps (SPEC LRN-2..6) over the services that touch the world: git and the
 * scenario's commands through the ProcessRunner, records through Files, the tarball and the diff
 * through SnapshotArchive. The rules (statuses, alerts, scenario picking) are the pure functions of
 * domain/Learning.ts; this module sequences them and turns every failure into a status.
 */
import { Path } from "@effect/platform"
import { Cause, Clock, Effect, Ref, Schema } from "effect"
import {
  changedFiles,
  cleanFixtureReason,
  commandFailureReason,
  dirtyEntries,
  excludedFolders,
  executionHistory,
  initialLearningSection,
  type LearningQueue,
  type LearningSection,
  type LearningSnapshot,
  manualScenarioReason,
  manualScenarioTemplate,
  onManualScenarioNeeded,
  onScenarioSynthesized,
  onSnapshotAttemptFailed,
  onSnapshotCaptured,
  onValidated,
  pickEntrypoint,
  promptScenarioCommand,
  QueuePayload,
  ScenarioFile,
  snapshotFileList,
  snapshotRetentionDays,
  snapshotRetryPolicy,
  snapshotTagPrefix,
  splitNul,
  synthesizeScenario,
  type ValidationOutcome
} from "../../domain/Learning.js"
import type { CliManifest } from "../../domain/Manifest.js"
import { retrySchedule } from "../../domain/Retry.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import { Files } from "../../services/Files.js"
import { ProcessRunner } from "../../services/ProcessRunner.js"
import { SnapshotArchive } from "../../services/SnapshotArchive.js"
import { type CapturedProcess, describeFailure, isNotARepository, runCaptured, succeeded } from "./learningGit.js"
import { logLine, makeOutputLines } from "./learningLog.js"
import { makeOutputTail } from "./outputTail.js"

export interface LearningSettings {
  /** LRN-1: `LEARNING_PIPELINE_ENABLED` is exactly `1`. */
  readonly enabled: boolean
  /** `LEARNING_SNAPSHOT_DIR`, absolute; `<runsRoot>/learning-snapshots` when undefined (LAY-4). */
  readonly snapshotDir: string | undefined
  /** The `<uuid>` of the `learning-snapshot-<uuid>` tag: random, fixed in tests to script git. */
  readonly snapshotId: Effect.Effect<string>
}

/** One snapshot attempt failed; `retryable` is false when another attempt cannot help. */
class SnapshotAttemptFailed extends Schema.TaggedError<SnapshotAttemptFailed>()("SnapshotAttemptFailed", {
  reason: Schema.String,
  retryable: Schema.Boolean,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return this.reason
  }
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/** stderr kept for `last_error` when a scenario command fails. */
const lastErrorBytes = 8 * 1024

export const makeLearning = (settings: LearningSettings) =>
  Effect.gen(function*() {
    const files = yield* Files
    const archive = yield* SnapshotArchive
    const runner = yield* ProcessRunner
    const path = yield* Path.Path

    const capture = (manifest: CliManifest, layout: RunLayout, section: Ref.Ref<LearningSection>) =>
      Effect.gen(function*() {
        const { roots } = layout
        const run = { taskId: layout.taskId, runId: layout.runId }
        const relative = layout.relative
        const dir = path.join(layout.runDir, "learning")
        const at = (name: string) => path.join(dir, name)
        const snapshotRoot = settings.snapshotDir ?? path.join(roots.runsRoot, "learning-snapshots")
        // The prompt the run was started with (`start --prompt-file`, or `prompt` in the library), if any.
        const prompt = yield* files.readText(layout.prompt).pipe(Effect.orElseSucceed(() => undefined))
        // What the orchestrator itself writes inside the repository: never packed, never dirt.
        const excluded = excludedFolders(
          [roots.runsRoot, roots.outRoot, snapshotRoot].map((folder) => path.relative(roots.repoRoot, folder))
        )
        const git = runCaptured(runner, roots.repoRoot)

        /**
         * `git status` of the repository root's part of the work tree (the root may be a subfolder
         * of it), with the root's prefix to make git's top-relative paths root-relative.
         */
        const workTreeStatus = Effect.gen(function*() {
          const prefix = yield* git("git rev-parse --show-prefix")
          if (!succeeded(prefix)) return { _tag: "Failed", failure: describeFailure(prefix) } as const
          const status = yield* git("git status --porcelain -z --untracked-files=all -- .")
          if (!succeeded(status)) return { _tag: "Failed", failure: describeFailure(status) } as const
          return { _tag: "Read", porcelainZ: status.stdout, prefix: prefix.stdout.trim() } as const
        })

        yield* files.makeDirectory(dir)

        // -------------------------------------------------------------------------------------
        // LRN-2..4: the snapshot, up to three attempts

        const tag = `${snapshotTagPrefix}${yield* settings.snapshotId}`
        const attempts = yield* Ref.make(0)

        /** A git step that must succeed; outside a repository, no attempt ever will. */
        const gitStep = (command: string) =>
          git(command).pipe(
            Effect.mapError((cause) => new SnapshotAttemptFailed({ reason: cause.message, retryable: true, cause })),
            Effect.filterOrElse(succeeded, (result: CapturedProcess) =>
              new SnapshotAttemptFailed({
                reason: isNotARepository(result) ? `not a git repository: ${roots.repoRoot}` : describeFailure(result),
                retryable: !isNotARepository(result)
              }))
          )

        const attempt = Effect.gen(function*() {
          yield* Ref.update(attempts, (n) => n + 1)
          const commit = (yield* gitStep("git rev-parse HEAD")).stdout.trim()
          const listed = splitNul((yield* gitStep("git ls-files -z --cached --others --exclude-standard")).stdout)
          // A tracked file deleted from the working tree is not part of it.
          const deleted = splitNul((yield* gitStep("git ls-files -z --deleted")).stdout)
          const list = snapshotFileList(listed, deleted, excluded)
          const listPath = at("snapshot-files.txt")
          yield* files.writeAtomic(listPath, list.map((file) => `${file}\n`).join(""))
          const tarball = at(`${layout.runId}.tar.gz`)
          const packed = yield* archive.pack({ cwd: roots.repoRoot, files: list, destination: tarball })
          // Tracked changes only (`git diff --binary <commit>`): untracked files are in the tarball
          // already. Named after the run like the tarball, next to it.
          const diffPath = at(`${layout.runId}.diff`)
          yield* archive.diff({ cwd: roots.repoRoot, commit, exclude: excluded, destination: diffPath })
          const storage = path.join(snapshotRoot, layout.taskId, `${layout.runId}.tar.gz`)
          yield* archive.copy(tarball, storage)
          // The tag comes last among the side effects, so a failed attempt leaves no tag behind;
          // `-f` makes a retry after a later failure (the queue payload) harmless.
          yield* gitStep(`git tag -f ${tag} ${commit}`)
          const payloadPath = at("queue-payload.json")
          const payload: QueuePayload = {
            snapshot_id: tag,
            snapshot_commit: commit,
            diff_path: relative(diffPath),
            prompt_path: prompt === undefined ? null : relative(layout.prompt),
            // Repo-relative like every path we write (the seed wrote this one absolute: a quirk).
            execution_history_path: relative(layout.runnerLog),
            manifest_path: relative(layout.manifest)
          }
          yield* files.writeAtomic(payloadPath, json(payload satisfies typeof QueuePayload.Encoded))
          const now = yield* isoNow
          const snapshot: LearningSnapshot = {
            tag,
            commit_sha: commit,
            tarball_path: relative(tarball),
            tarball_digest: packed.digest,
            storage_path: relative(storage),
            retention_days: snapshotRetentionDays,
            status: "captured",
            attempts: yield* Ref.get(attempts),
            created_at: now,
            last_error: null,
            file_list_path: relative(listPath),
            file_count: list.length
          }
          const queue: LearningQueue = {
            snapshot_id: tag,
            diff_path: payload.diff_path,
            prompt_path: payload.prompt_path,
            execution_history_path: payload.execution_history_path,
            manifest_path: payload.manifest_path,
            enqueued_at: now,
            payload_path: relative(payloadPath),
            status: "queued"
          }
          return { snapshot, queue }
        }).pipe(
          Effect.mapError((error) =>
            error._tag === "SnapshotAttemptFailed"
              ? error
              : new SnapshotAttemptFailed({ reason: error.message, retryable: true, cause: error })
          ),
          Effect.tapError((error) =>
            Effect.gen(function*() {
              const n = yield* Ref.get(attempts)
              const final = !error.retryable || n >= snapshotRetryPolicy.attempts
              const now = yield* isoNow
              yield* Ref.update(section, (s) => onSnapshotAttemptFailed(s, { run, attempt: n, message: error.reason, at: now, final }))
            })
          )
        )

        const captured = yield* attempt.pipe(
          Effect.retry({ schedule: retrySchedule(snapshotRetryPolicy), while: (error) => error.retryable }),
          Effect.option
        )
        if (captured._tag === "None") return yield* Ref.get(section)
        yield* Ref.update(section, (s) => onSnapshotCaptured(s, captured.value.snapshot, captured.value.queue))

        // -------------------------------------------------------------------------------------
        // LRN-5: the scenario

        const generatedAt = yield* isoNow
        // The diff heuristic is only needed when neither the run nor its prompt gives a command to replay.
        const changed = pickEntrypoint(manifest.commands) === undefined &&
            (prompt === undefined || promptScenarioCommand(prompt) === undefined)
          ? yield* workTreeStatus.pipe(
            Effect.map((status) => status._tag === "Read" ? changedFiles(status.porcelainZ, excluded, status.prefix) : []),
            Effect.orElseSucceed(() => [])
          )
          : []
        const found = synthesizeScenario(manifest.commands, prompt, changed)
        const scenarioBody = {
          id: `learning-${layout.runId}`,
          validation: { requiresCleanFixture: true },
          context: {
            prompt: prompt ?? null,
            diff: changed.length === 0 ? null : changed.join("\n"),
            execution_history: executionHistory(manifest.commands)
          },
          generated_at: generatedAt
        }
        if (found === undefined) {
          // LRN-5 asks for a manual scenario on the second attempt without one. The CLI captures a
          // run once, after it succeeded, so there is no second attempt: the first is the last.
          const partialPath = at("scenario.partial.json")
          const partial: ScenarioFile = {
            ...scenarioBody,
            entrypoint: null,
            commands: [],
            reason: manualScenarioReason,
            manual_template: manualScenarioTemplate
          }
          yield* files.writeAtomic(partialPath, json(partial satisfies typeof ScenarioFile.Encoded))
          return onManualScenarioNeeded(yield* Ref.get(section), { run, partialPath: relative(partialPath), at: generatedAt })
        }
        const scenarioPath = at("scenario.json")
        const scenario: ScenarioFile = { ...scenarioBody, entrypoint: found.command, commands: [found.command] }
        yield* files.writeAtomic(scenarioPath, json(scenario satisfies typeof ScenarioFile.Encoded))
        yield* Ref.update(section, (s) =>
          onScenarioSynthesized(s, {
            path: relative(scenarioPath),
            generated_at: generatedAt,
            source: found.source,
            status: "synthesized",
            attempts: 1,
            partial_path: null,
            manual_template: null,
            approver: null,
            reason: null
          }))

        // -------------------------------------------------------------------------------------
        // LRN-6: validation on the clean tree

        const logPath = at("scenario-validation.log")
        const log = (text: string) => Effect.flatMap(isoNow, (now) => files.append(logPath, logLine(now, text)))

        const runScenarioCommand = (command: string) =>
          Effect.gen(function*() {
            yield* log(`$ ${command}`)
            const lines = makeOutputLines()
            const stderr = makeOutputTail(lastErrorBytes)
            const exit = yield* runner.run({ command, cwd: roots.repoRoot, env: {} }, {
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
          const status = yield* workTreeStatus
          const dirt = status._tag === "Read" ? dirtyEntries(status.porcelainZ, excluded, status.prefix) : [status.failure]
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

        const outcome = yield* validate
        return onValidated(yield* Ref.get(section), relative(logPath), outcome)
      })

    /**
     * Whatever goes wrong outside the steps above (a folder we cannot create, a record we cannot
     * write, a defect) ends in the section as `snapshot_failed`, with the alerts raised so far.
     */
    const safeCapture = (input: { readonly manifest: CliManifest; readonly layout: RunLayout }) =>
      !settings.enabled || input.manifest.status !== "succeeded"
        ? Effect.succeed(initialLearningSection)
        : Effect.gen(function*() {
          const section = yield* Ref.make<LearningSection>(initialLearningSection)
          return yield* capture(input.manifest, input.layout, section).pipe(
            Effect.catchAllCause((cause) => {
              if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
              const failure = Cause.squash(cause)
              const reason = `Learning pipeline failed: ${failure instanceof Error ? failure.message : String(failure)}`
              return Effect.map(Ref.get(section), (s): LearningSection => ({
                ...s,
                validation: { ...s.validation, status: "snapshot_failed", reason, last_error: reason }
              }))
            })
          )
        })

    return { enabled: settings.enabled, capture: safeCapture }
  })
