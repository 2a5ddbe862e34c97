/**
 * LRN-2..4: the learning snapshot, up to three attempts: the file list, the tarball and its stored
 * copy, the diff against HEAD, the tag, and the queue payload. Every failed attempt is recorded in
 * the section with its alerts; outside a repository, in one without a commit, with a file where the
 * snapshot folder should be, or with a folder that cannot be written for a reason retrying cannot mend
 * (EACCES, EROFS, ENOSPC, ...), no attempt is retried. A snapshot that failed for good is said once on
 * stderr (a warning); the run's result is unaffected (LRN-1).
 */
import { Effect, Ref, Schema } from "effect"
import {
  type LearningQueue,
  type LearningSnapshot,
  QueuePayload,
  snapshotRetentionDays,
  snapshotRetryPolicy,
  snapshotTagPrefix
} from "../../domain/LearningRecords.js"
import { FileAccessError, systemReason } from "../../domain/FileErrors.js"
import {
  snapshotFileList,
  snapshotFolderIsFile,
  snapshotFolderUnwritable,
  splitNul,
  unmendableCode
} from "../../domain/LearningSnapshotPaths.js"
import { onSnapshotAttemptFailed } from "../../domain/LearningStatus.js"
import { retrySchedule } from "../../domain/Retry.js"
import { isoNow } from "../../domain/Time.js"
import { jsonText } from "./jsonText.js"
import type { CaptureContext } from "./learningContext.js"
import { type CapturedProcess, describeFailure, isNotARepository, isWithoutCommit, succeeded } from "./learningGit.js"

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

/**
 * A file error of the snapshot folder (`folder`; `given` when it is LEARNING_SNAPSHOT_DIR's): one that
 * retrying cannot mend names the folder, the code and the fix, and is not retried.
 */
const storeFailure = (folder: string, given: boolean) => (error: FileAccessError) => {
  const code = unmendableCode(systemReason(error))
  return code === undefined
    ? new SnapshotAttemptFailed({ reason: error.message, retryable: true, cause: error })
    : new SnapshotAttemptFailed({
      reason: snapshotFolderUnwritable({ folder, given, code, failedPath: error.path }),
      retryable: false,
      cause: error
    })
}

/** Any other failure of an attempt; a file error retrying cannot mend (a full disk) is not retried. */
const attemptFailure = (
  error: SnapshotAttemptFailed | FileAccessError | { readonly _tag: string; readonly message: string }
): SnapshotAttemptFailed => {
  if (error instanceof SnapshotAttemptFailed) return error
  const code = error instanceof FileAccessError ? unmendableCode(systemReason(error)) : undefined
  return code === undefined
    ? new SnapshotAttemptFailed({ reason: error.message, retryable: true, cause: error })
    : new SnapshotAttemptFailed({ reason: `${error.message} (${code}: retrying cannot mend it)`, retryable: false, cause: error })
}

/**
 * LRN-4: attempt `n` failed, in the section with its alerts; when it is the last (not retryable, or
 * the third), said once on stderr too.
 */
const recordFailure = (ctx: CaptureContext, n: number, error: SnapshotAttemptFailed) =>
  Effect.gen(function*() {
    const { run, section } = ctx
    const final = !error.retryable || n >= snapshotRetryPolicy.attempts
    const now = yield* isoNow
    yield* Ref.update(section, (s) => onSnapshotAttemptFailed(s, { run, attempt: n, message: error.reason, at: now, final }))
    if (final) {
      const after = n === 1 ? "" : ` after ${n} attempts`
      yield* Effect.logWarning(`Learning snapshot of ${run.taskId}/${run.runId} failed${after}: ${error.reason} (the run's result is unaffected)`)
    }
  })

/** Why no attempt can succeed: outside a repository, or (HEAD unknown) in one without a commit. */
const hopeless = (result: CapturedProcess, repoRoot: string) =>
  isNotARepository(result)
    ? `not a git repository: ${repoRoot}`
    : result.command === "git rev-parse HEAD" && isWithoutCommit(result)
    ? `the repository at ${repoRoot} has no commit yet: commit once, so that a snapshot has a commit to tag`
    : undefined

/** The snapshot and its queue entry, or none when every attempt failed (the section says why). */
export const captureSnapshot = (ctx: CaptureContext, snapshotId: Effect.Effect<string>) =>
  Effect.gen(function*() {
    const { archive, at, excluded, files, git, layout, path } = ctx
    const { relative, roots } = layout
    const tag = `${snapshotTagPrefix}${yield* snapshotId}`
    const attempts = yield* Ref.make(0)

    /** A git step that must succeed; when no attempt ever will, it is not retried. */
    const gitStep = (command: string) =>
      git(command).pipe(
        Effect.mapError((cause) => new SnapshotAttemptFailed({ reason: cause.message, retryable: true, cause })),
        Effect.filterOrElse(succeeded, (result: CapturedProcess) => {
          const reason = hopeless(result, roots.repoRoot)
          return new SnapshotAttemptFailed({ reason: reason ?? describeFailure(result), retryable: reason === undefined })
        })
      )

    const stored = storeFailure(ctx.snapshotRoot, ctx.snapshotRootGiven)
    const storageDir = path.join(ctx.snapshotRoot, layout.taskId)

    const attempt = Effect.gen(function*() {
      yield* Ref.update(attempts, (n) => n + 1)
      const storageFolder = yield* files.info(ctx.snapshotRoot).pipe(Effect.mapError(stored))
      if (storageFolder !== undefined && storageFolder.type !== "directory") {
        return yield* new SnapshotAttemptFailed({ reason: snapshotFolderIsFile(ctx.snapshotRoot, ctx.snapshotRootGiven), retryable: false })
      }
      const commit = (yield* gitStep("git rev-parse HEAD")).stdout.trim()
      // Made before anything is packed (a folder that cannot be made fails the attempt at once), and
      // after git has said this is a repository with a commit: a snapshot that cannot be taken
      // leaves no empty folder behind.
      yield* files.makeDirectory(storageDir).pipe(Effect.mapError(stored))
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
      const storage = path.join(storageDir, `${layout.runId}.tar.gz`)
      yield* archive.copy(tarball, storage).pipe(Effect.mapError(stored))
      // The tag comes last among the side effects, so a failed attempt leaves no tag behind;
      // `-f` makes a retry after a later failure (the queue payload) harmless.
      yield* gitStep(`git tag -f ${tag} ${commit}`)
      const payloadPath = at("queue-payload.json")
      const payload: QueuePayload = {
        snapshot_id: tag,
        snapshot_commit: commit,
        diff_path: relative(diffPath),
        prompt_path: ctx.prompt === undefined ? null : relative(layout.prompt),
        // Repo-relative like every path we write (the seed wrote this one absolute: a quirk).
        execution_history_path: relative(layout.runnerLog),
        manifest_path: relative(layout.manifest)
      }
      yield* files.writeAtomic(payloadPath, jsonText(payload satisfies typeof QueuePayload.Encoded))
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
      Effect.mapError(attemptFailure),
      Effect.tapError((error) => Effect.flatMap(Ref.get(attempts), (n) => recordFailure(ctx, n, error)))
    )

    return yield* attempt.pipe(
      Effect.retry({ schedule: retrySchedule(snapshotRetryPolicy), while: (error) => error.retryable }),
      Effect.option
    )
  })
