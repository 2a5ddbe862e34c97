import { Path } from "@effect/platform"
import { Clock, Context, Effect, Either, Layer, Ref } from "effect"
import {
  type ControlPlaneMode,
  controlPlaneSectionOf,
  ControlPlaneValidationFailed,
  DriftReport,
  driftReportSegments,
  issuesText,
  updateDriftReport,
  type ValidationSample
} from "../domain/ControlPlane.js"
import type { RunRequestV2 } from "../domain/RunRequest.js"
import { validateRunRequest, type ValidationIssue } from "../domain/RunRequestValidation.js"
import { type GroupSettings, InvalidGroupSetting, noGroupSettings } from "../domain/TfgrpoGroup.js"
import { decodeJsonFile, type FileAccessError } from "../domain/FileErrors.js"
import { controlPlaneSection, decodeSettings } from "../domain/Settings.js"
import { ControlPlane, type ValidateOptions } from "../services/ControlPlane.js"
import { Files } from "../services/Files.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import { LockBusy, removeAbandonedLock, taskLockPolicy, withFileLock } from "./internal/fileLock.js"

/** Where a task's drift report lives, and how it is read and replaced. */
interface DriftStore {
  /** Repo-relative, as recorded in the manifest's `control_plane.drift.report_path`. */
  readonly reportPath: (taskId: string) => string
  readonly read: (taskId: string) => Effect.Effect<DriftReport | undefined, FileAccessError>
  readonly write: (taskId: string, report: DriftReport) => Effect.Effect<void, FileAccessError>
  /** Runs one read-and-replace of a task's report, alone among every process that shares the files; `owner` names the run. */
  readonly exclusive: <A, E>(taskId: string, owner: string, update: Effect.Effect<A, E>) => Effect.Effect<A, E | FileAccessError>
}

/** CP-4 in shadow mode: what was only recorded, said once on stderr so the user learns of it. */
const shadowFailureLine = (errors: ReadonlyArray<ValidationIssue>, reportPath: string) => {
  const n = errors.length
  return `Control plane (shadow mode): the run request did not validate (${n} error${n === 1 ? "" : "s"}): ${issuesText(errors)}. ` +
    `Recorded in ${reportPath}; the run goes on (CODEX_CONTROL_PLANE_MODE=enforce refuses such runs).`
}

/**
 * CP-4 / CP-5 / CP-8 on top of a drift store. Validations through one layer are serialized, and
 * each read-and-replace holds the store's lock, so no count is lost within a process nor between
 * processes (the original lost one sample per collision: the last rename won). In shadow mode the
 * run goes on whatever happens here: a failed validation, or a drift report that cannot be
 * written (the section then has the figures it would have had), is one warning line.
 */
const makeControlPlane = (
  mode: ControlPlaneMode,
  groupSettings: Either.Either<GroupSettings, InvalidGroupSetting>,
  store: DriftStore
) =>
  Effect.map(Effect.makeSemaphore(1), (lock) => {
    const record = (taskId: string, sample: ValidationSample) => {
      const update = Effect.flatMap(store.read(taskId), (previous) => {
        const updated = updateDriftReport(previous, sample)
        return Effect.as(store.write(taskId, updated), updated)
      })
      const recorded = store.exclusive(taskId, sample.requestId, update)
      return mode === "enforce" ? recorded : Effect.catchTag(recorded, "FileAccessError", (error) =>
        Effect.logWarning(
          `Control plane (shadow mode): could not record the validation in ${store.reportPath(taskId)}: ${error.message} The run goes on.`
        ).pipe(Effect.zipRight(Effect.orElseSucceed(store.read(taskId), () => undefined)), Effect.map((previous) => updateDriftReport(previous, sample))))
    }
    const validate = Effect.fn("ControlPlane.validate")(function*(request: RunRequestV2, { taskId }: ValidateOptions) {
      const timestamp = new Date(yield* Clock.currentTimeMillis).toISOString()
      const sample: ValidationSample = { requestId: request.requestId, timestamp, mode, errors: validateRunRequest(request) }
      const report = yield* record(taskId, sample)
      const section = controlPlaneSectionOf(sample, report, store.reportPath(taskId))
      if (sample.errors.length > 0) {
        if (mode === "enforce") return yield* new ControlPlaneValidationFailed({ errors: sample.errors, section })
        yield* Effect.logWarning(shadowFailureLine(sample.errors, store.reportPath(taskId)))
      }
      return section
    })
    return ControlPlane.of({
      mode,
      groupSettings: Either.match(groupSettings, { onLeft: Effect.fail, onRight: Effect.succeed }),
      validate: (request, options) => lock.withPermits(1)(validate(request, options))
    })
  })

/**
 * Decodes the `controlPlane` section (CP-1's mode) and takes the TF-GRPO group settings from the
 * engine's settings (decoded once, in OrchestratorConfigLive). Keeps each task's drift report at
 * `<outRoot>/<taskId>/control-plane/drift.json` (DECISIONS D-5: the out root override is honoured),
 * replaced atomically (D-6). A drift report that does not decode is started afresh with a warning:
 * it is a statistic, not worth failing a run over.
 */
export const ControlPlaneLive = Layer.effect(
  ControlPlane,
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path
    const { groupExecution, roots, tfgrpoGroup } = yield* OrchestratorConfig
    const { mode } = yield* decodeSettings(controlPlaneSection)
    const file = (taskId: string) => path.join(roots.outRoot, ...driftReportSegments(taskId))
    const reportPath = (taskId: string) => path.relative(roots.repoRoot, file(taskId))
    const store: DriftStore = {
      reportPath,
      read: (taskId) =>
        Effect.flatMap(files.readText(file(taskId)), (text) =>
          text === undefined ? Effect.succeed(undefined) : decodeJsonFile(DriftReport, reportPath(taskId))(text).pipe(
            Effect.map((report): DriftReport | undefined => report),
            Effect.catchTag("InvalidFile", (invalid) =>
              Effect.as(Effect.logWarning(`${invalid.message} Starting a new drift report.`), undefined))
          )),
      write: (taskId, report) =>
        Effect.zipRight(
          files.makeDirectory(path.dirname(file(taskId))),
          files.writeAtomic(file(taskId), `${JSON.stringify(report satisfies typeof DriftReport.Encoded, null, 2)}\n`)
        ),
      exclusive: (taskId, owner, update) => {
        const lockPath = `${file(taskId)}.lock`
        return files.makeDirectory(path.dirname(lockPath)).pipe(
          Effect.zipRight(Effect.flatMap(Clock.currentTimeMillis, (now) => removeAbandonedLock(files, lockPath, now))),
          Effect.zipRight(withFileLock(files, lockPath, taskLockPolicy, `run ${owner}`)(update)),
          // A statistic is not worth refusing a run over: count without the lock, and say so.
          Effect.catchIf(
            (error): error is LockBusy => error instanceof LockBusy,
            (busy) => Effect.zipRight(Effect.logWarning(`${busy.message} The drift report is updated without it.`), update)
          )
        )
      }
    }
    return yield* makeControlPlane(mode, Either.right({ enabled: groupExecution, ...tfgrpoGroup }), store)
  })
)

/** The drift reports an in-memory control plane holds, by task id. */
export class InMemoryDriftReports extends Context.Tag("orchestrator/InMemoryDriftReports")<
  InMemoryDriftReports,
  { readonly read: (taskId: string) => Effect.Effect<DriftReport | undefined> }
>() {}

/** ControlPlaneMemory's options: its mode, group settings, out root and the drift reports already there. */
export interface ControlPlaneMemoryOptions {
  readonly mode?: ControlPlaneMode
  /** What `groupSettings` yields; an InvalidGroupSetting makes it fail. No group by default. */
  readonly groupSettings?: GroupSettings | InvalidGroupSetting
  /** The repo-relative out root the recorded `report_path` starts with; `out` by default. */
  readonly outRoot?: string
  /** Drift reports already there, by task id. */
  readonly reports?: Readonly<Record<string, DriftReport>>
}

/** Same contract without disk or environment: settings are given, drift reports live in a Ref. */
export const ControlPlaneMemory = (options: ControlPlaneMemoryOptions = {}) =>
  Layer.effectContext(Effect.gen(function*() {
    const reports = yield* Ref.make(new Map(Object.entries(options.reports ?? {})))
    const outRoot = options.outRoot ?? "out"
    const settings = options.groupSettings ?? noGroupSettings
    const store: DriftStore = {
      reportPath: (taskId) => [outRoot, ...driftReportSegments(taskId)].join("/"),
      read: (taskId) => Effect.map(Ref.get(reports), (all) => all.get(taskId)),
      write: (taskId, report) => Ref.update(reports, (all) => new Map(all).set(taskId, report)),
      exclusive: (_taskId, _owner, update) => update
    }
    const service = yield* makeControlPlane(
      options.mode ?? "shadow",
      settings instanceof InvalidGroupSetting ? Either.left(settings) : Either.right(settings),
      store
    )
    const inspect = InMemoryDriftReports.of({ read: (taskId) => Effect.map(Ref.get(reports), (all) => all.get(taskId)) })
    return Context.make(ControlPlane, service).pipe(Context.add(InMemoryDriftReports, inspect))
  }))
