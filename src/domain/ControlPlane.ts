/**
 * The control plane (SPEC CP-1..8, GRP-4, TM-7; DECISIONS D-16): the v2 run request built from a task
 * and a pipeline, its validation, the TF-GRPO group guardrails, the drift report and the manifest and
 * run-summary sections. Pure: the service in `services/ControlPlane.ts` adds the clock and the file.
 */
import { Either, ParseResult, Schema, SchemaAST as AST } from "effect"
import type { PipelineDefinition } from "./Pipeline.js"

export const runRequestSchemaId = "codex.control-plane.run-request"
export const runRequestSchemaVersion = "2.0.0"

/** CP-1: `shadow` records validation failures, `enforce` aborts the run on them. */
export const ControlPlaneMode = Schema.Literal("shadow", "enforce")
export type ControlPlaneMode = typeof ControlPlaneMode.Type

// ---------------------------------------------------------------------------------------------
// The run request (CP-2) and its rules (CP-4)
// ---------------------------------------------------------------------------------------------

const NonEmpty = Schema.String.pipe(Schema.minLength(1)).annotations({ description: "a non-empty string" })
const NonEmptyList = Schema.Array(NonEmpty).pipe(Schema.minItems(1)).annotations({
  description: "a non-empty array of non-empty strings"
})
const IntAtLeast = (min: number) =>
  Schema.Number.pipe(Schema.int(), Schema.greaterThanOrEqualTo(min)).annotations({ description: `an integer ≥ ${min}` })
const NonNegative = Schema.Number.pipe(Schema.nonNegative()).annotations({ description: "a number ≥ 0" })
/** An optional field is absent or valid: present as `undefined` is an error (D-16, the original's defect). */
const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const AnyObject = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({ description: "an object" })

/** ISO-8601 date-time with a zone, as `Date.prototype.toISOString()` writes it (CP-4). */
const IsoTimestamp = Schema.String.pipe(
  Schema.filter((value) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))
  )
).annotations({ description: "an ISO-8601 timestamp such as 2025-11-24T00:30:09.180Z" })

export const RunRequestStage = Schema.Struct({
  id: NonEmpty,
  kind: Schema.Literal("command", "subpipeline"),
  title: NonEmpty,
  optional: optional(Schema.Boolean),
  capabilities: optional(NonEmptyList)
})
export type RunRequestStage = typeof RunRequestStage.Type

export const FanOutEntry = Schema.Struct({
  capability: NonEmpty,
  weight: Schema.Number.pipe(Schema.positive()).annotations({ description: "a number > 0" }),
  maxConcurrency: optional(IntAtLeast(1))
})
export type FanOutEntry = typeof FanOutEntry.Type

export const RecoveryPolicy = Schema.Struct({
  heartbeatIntervalSeconds: IntAtLeast(1),
  missingHeartbeatTimeoutSeconds: IntAtLeast(1),
  maxRetries: IntAtLeast(0)
})
export type RecoveryPolicy = typeof RecoveryPolicy.Type

export const RunSchedule = Schema.Struct({
  strategy: Schema.Literal("auto", "manual"),
  minInstances: IntAtLeast(1),
  maxInstances: IntAtLeast(1),
  fanOut: Schema.Array(FanOutEntry).pipe(Schema.minItems(1)).annotations({ description: "a non-empty array" }),
  recovery: RecoveryPolicy
}).pipe(
  Schema.filter(
    (schedule) =>
      schedule.maxInstances >= schedule.minInstances || {
        path: ["maxInstances"],
        message:
          `maxInstances (${schedule.maxInstances}) must be greater than or equal to minInstances (${schedule.minInstances}).`
      },
    { description: "maxInstances ≥ minInstances" }
  )
)
export type RunSchedule = typeof RunSchedule.Type

/** CP-7: the TF-GRPO settings a run was requested with. */
export const TfgrpoRequest = Schema.Struct({
  sampleSize: IntAtLeast(1),
  epochs: IntAtLeast(1),
  temperature: Schema.Struct({ train: NonNegative, eval: NonNegative }),
  groupSize: optional(IntAtLeast(1))
})
export type TfgrpoRequest = typeof TfgrpoRequest.Type

/** CP-2 / CP-4: the v2 run request. Unknown keys are ignored; absent optional fields must be absent. */
export const RunRequestV2 = Schema.Struct({
  schema: Schema.Literal(runRequestSchemaId),
  version: Schema.Literal(runRequestSchemaVersion),
  requestId: NonEmpty,
  task: Schema.Struct({
    id: NonEmpty,
    slug: optional(NonEmpty),
    title: NonEmpty,
    description: optional(Schema.String),
    metadata: optional(AnyObject),
    tags: optional(NonEmptyList)
  }),
  pipeline: Schema.Struct({
    id: NonEmpty,
    version: NonEmpty,
    title: NonEmpty,
    capabilities: NonEmptyList,
    stages: Schema.Array(RunRequestStage).pipe(Schema.minItems(1)).annotations({ description: "a non-empty array" })
  }),
  schedule: RunSchedule,
  streaming: Schema.Struct({
    handles: Schema.Boolean,
    resumeSupported: Schema.Boolean,
    observers: Schema.Struct({ maxSubscribers: IntAtLeast(1), defaultBackpressureMs: IntAtLeast(0) })
  }),
  constraints: Schema.Struct({
    privacyLevel: Schema.Literal("standard", "restricted", "sensitive"),
    dataResidency: optional(Schema.String),
    policyVersion: NonEmpty
  }),
  metrics: Schema.Struct({ emitIntervalSeconds: IntAtLeast(1), requiredDimensions: NonEmptyList }),
  requestedAt: IsoTimestamp,
  requestedBy: Schema.Struct({ actorId: NonEmpty, channel: NonEmpty, name: optional(NonEmpty) }),
  metadata: optional(Schema.Struct({
    artifactRoot: NonEmpty,
    runsRoot: NonEmpty,
    outRoot: NonEmpty,
    pipelineId: NonEmpty,
    taskSlug: NonEmpty,
    tfgrpo: optional(TfgrpoRequest)
  }))
})
export type RunRequestV2 = typeof RunRequestV2.Type

/** CP-4: one validation problem. `path` is `$`-style (`$.pipeline.stages[0].id`). */
export const ValidationIssue = Schema.Struct({
  path: Schema.String,
  message: Schema.String,
  value: optional(Schema.Unknown),
  expected: optional(Schema.String)
})
export type ValidationIssue = typeof ValidationIssue.Type

/** `["pipeline", "stages", 0, "id"]` → `$.pipeline.stages[0].id`. */
export const jsonPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, key) =>
      typeof key === "number"
        ? `${acc}[${key}]`
        : typeof key === "string" && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)
        ? `${acc}.${key}`
        : `${acc}[${JSON.stringify(String(key))}]`,
    "$"
  )

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>(
    (value, key): unknown => (typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined),
    input
  )

/** What a rule wants, in words: its description, a literal's value, or the kind of value. */
const expectedOf = (issue: ParseResult.ParseIssue): string | undefined => {
  if (!("ast" in issue)) return undefined
  // A missing key reports its property signature; what is expected is the property's type.
  const type: AST.AST = issue.ast instanceof AST.Type ? issue.ast.type : issue.ast
  const description = AST.getDescriptionAnnotation(type)
  if (description._tag === "Some") return description.value
  switch (type._tag) {
    case "Literal":
      return String(type.literal)
    case "Union":
      return type.types.map((member) => (AST.isLiteral(member) ? String(member.literal) : String(member))).join(" | ")
    case "TypeLiteral":
      return "an object"
    case "TupleType":
      return "an array"
    case "StringKeyword":
      return "a string"
    case "NumberKeyword":
      return "a number"
    case "BooleanKeyword":
      return "a boolean"
    default:
      return String(type)
  }
}

interface Leaf {
  readonly path: ReadonlyArray<PropertyKey>
  readonly issue: ParseResult.ParseIssue
}

/**
 * The failures a ParseIssue tree ends in, each with its path. A union of literals (an enum) is one
 * failure, not one per member, and a struct-level rule (maxInstances ≥ minInstances) points at its field.
 */
const leavesOf = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>): ReadonlyArray<Leaf> => {
  switch (issue._tag) {
    case "Pointer":
      return leavesOf(issue.issue, [...path, ...(Array.isArray(issue.path) ? issue.path : [issue.path])])
    case "Transformation":
      return leavesOf(issue.issue, path)
    case "Refinement":
      return issue.kind === "From" || issue.issue._tag === "Pointer" ? leavesOf(issue.issue, path) : [{ path, issue }]
    case "Composite":
      if (AST.isUnion(issue.ast)) return [{ path, issue }]
      return (Array.isArray(issue.issues) ? issue.issues : [issue.issues]).flatMap((inner) => leavesOf(inner, path))
    default:
      return [{ path, issue }]
  }
}

const describe = (value: unknown): string => {
  if (value === undefined) return "undefined"
  const json = JSON.stringify(value)
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 79)}…` : json
}

/**
 * CP-4: every problem of a run request, all at once (`errors: "all"`), empty when it is valid.
 * Messages come from ArrayFormatter; `value` is what the request holds at the path (absent when
 * missing), `expected` what the rule wants.
 */
export const validateRunRequest = (request: unknown): ReadonlyArray<ValidationIssue> =>
  Either.match(Schema.decodeUnknownEither(RunRequestV2, { errors: "all", onExcessProperty: "ignore" })(request), {
    onRight: () => [],
    onLeft: (error) =>
      leavesOf(error.issue, []).flatMap(({ issue, path }) => {
        const value = valueAt(request, path)
        const expected = expectedOf(issue)
        // A rule's own message (a refinement's, a struct-level filter's) is kept; plain type mismatches
        // are worded from `expected`, so a struct reads "an object", not its whole type.
        const messages = (issue._tag === "Composite" || (issue._tag === "Type" && issue.message === undefined))
          ? [`Expected ${expected ?? "another value"}, actual ${describe(value)}`]
          : ParseResult.ArrayFormatter.formatIssueSync(issue).map((formatted) => formatted.message)
        return messages.map((message) => ({
          path: jsonPath(path),
          message,
          ...(value === undefined ? {} : { value }),
          ...(expected === undefined ? {} : { expected })
        }))
      })
  })

// ---------------------------------------------------------------------------------------------
// TF-GRPO group settings (CP-3, CP-6, CP-7)
// ---------------------------------------------------------------------------------------------

/**
 * The TF-GRPO numbers a run is requested with, decoded from the environment (the `tfgrpo` section of
 * src/domain/Settings.ts). A number is undefined when its variable is unset or blank.
 */
export interface GroupNumbers {
  readonly groupSize: number | undefined
  readonly sampleSize: number | undefined
  readonly epochs: number | undefined
  readonly trainTemperature: number | undefined
  readonly evalTemperature: number | undefined
}

/** The TF-GRPO settings the control plane works with. */
export interface GroupSettings extends GroupNumbers {
  /** `FEATURE_TFGRPO_GROUP` truthy (ENV-6): group mode, with a group size of 2 unless one is given. */
  readonly enabled: boolean
}

export const noGroupNumbers: GroupNumbers = {
  groupSize: undefined,
  sampleSize: undefined,
  epochs: undefined,
  trainTemperature: undefined,
  evalTemperature: undefined
}

export const noGroupSettings: GroupSettings = { enabled: false, ...noGroupNumbers }

/**
 * A TF-GRPO setting that cannot be used. The environment's values are checked when the settings are
 * decoded (InvalidSetting); this is what an embedder's ControlPlane may fail `groupSettings` with.
 */
export class InvalidGroupSetting extends Schema.TaggedError<InvalidGroupSetting>()("InvalidGroupSetting", {
  variable: Schema.String,
  value: Schema.String,
  expected: Schema.String
}) {
  override get message() {
    return `${this.variable}=${JSON.stringify(this.value)} is not ${this.expected}. ` +
      `Set ${this.variable} to ${this.expected} or unset it.`
  }
}

/**
 * CP-3: `TFGRPO_GROUP_SIZE`, else the manifest's `tfgrpo.group_size` (> 0), else 2 when
 * `FEATURE_TFGRPO_GROUP` is on, else none.
 */
export const resolveGroupSize = (group: GroupSettings, manifestGroupSize?: number | null): number | undefined =>
  group.groupSize ??
    (manifestGroupSize !== undefined && manifestGroupSize !== null && manifestGroupSize > 0 ? manifestGroupSize : undefined) ??
    (group.enabled ? 2 : undefined)

/** CP-7 defaults. */
export const tfgrpoDefaults = { sampleSize: 100, epochs: 3, train: 0.7, eval: 0.3 } as const

/** CP-7: `metadata.tfgrpo` when a group size exists or any TF-GRPO number is set; else undefined. */
export const tfgrpoRequestOf = (group: GroupSettings, groupSize: number | undefined): TfgrpoRequest | undefined => {
  const anySet = [group.sampleSize, group.epochs, group.trainTemperature, group.evalTemperature].some((v) => v !== undefined)
  if (groupSize === undefined && !anySet) return undefined
  return {
    sampleSize: group.sampleSize ?? tfgrpoDefaults.sampleSize,
    epochs: group.epochs ?? tfgrpoDefaults.epochs,
    temperature: {
      train: group.trainTemperature ?? tfgrpoDefaults.train,
      eval: group.evalTemperature ?? tfgrpoDefaults.eval
    },
    ...(groupSize === undefined ? {} : { groupSize })
  }
}

/** CP-6: a TF-GRPO group needs at least two members. */
export class GroupSizeTooSmall extends Schema.TaggedError<GroupSizeTooSmall>()("GroupSizeTooSmall", {
  groupSize: Schema.Number
}) {
  /** The original's log line, word for word. */
  get logLine() {
    return `[control-plane.guard] TF-GRPO groupSize ${this.groupSize} violates guardrail (must be ≥ 2). ` +
      "Set TFGRPO_GROUP_SIZE>=2 or disable FEATURE_TFGRPO_GROUP."
  }
  override get message() {
    return `TF-GRPO groupSize guardrail violated (expected ≥ 2): groupSize is ${this.groupSize}. ` +
      "Set TFGRPO_GROUP_SIZE>=2 or disable FEATURE_TFGRPO_GROUP."
  }
}

/** CP-6: a TF-GRPO group cannot be larger than the fan-out slots of the pipeline. */
export class GroupSizeExceedsCapacity extends Schema.TaggedError<GroupSizeExceedsCapacity>()("GroupSizeExceedsCapacity", {
  groupSize: Schema.Number,
  capacity: Schema.Number
}) {
  /** The original's log line, word for word. */
  get logLine() {
    return `[control-plane.guard] TF-GRPO groupSize ${this.groupSize} exceeds available fan-out capacity (${this.capacity}). ` +
      "Increase pipeline fan-out or lower TFGRPO_GROUP_SIZE."
  }
  override get message() {
    return `TF-GRPO groupSize exceeds available scheduling capacity: groupSize ${this.groupSize} > fan-out capacity ${this.capacity}. ` +
      "Increase pipeline fan-out (add pipeline tags) or lower TFGRPO_GROUP_SIZE."
  }
}

export type GroupGuardrailError = GroupSizeTooSmall | GroupSizeExceedsCapacity

// ---------------------------------------------------------------------------------------------
// Building the request (CP-2, CP-3)
// ---------------------------------------------------------------------------------------------

/** What the request says about the task. Optional fields that are undefined are left out (D-16). */
export interface RunRequestTask {
  readonly id: string
  readonly slug?: string | undefined
  readonly title: string
  readonly description?: string | undefined
  readonly metadata?: Readonly<Record<string, unknown>> | undefined
}

export interface RunRequestInput {
  readonly task: RunRequestTask
  readonly pipeline: PipelineDefinition
  readonly group: GroupSettings
  /** The manifest's `tfgrpo.group_size`, when it has one (CP-3). */
  readonly manifestGroupSize?: number | null | undefined
  readonly runId: string
  /** Repo-relative paths of the run folder and the roots. */
  readonly paths: { readonly artifactRoot: string; readonly runsRoot: string; readonly outRoot: string }
  readonly requestedAt: string
}

/** CP-2: the pipeline's tags (without repeats), or `general`. */
export const capabilitiesOf = (pipeline: PipelineDefinition): ReadonlyArray<string> =>
  pipeline.tags !== undefined && pipeline.tags.length > 0 ? [...new Set(pipeline.tags)] : ["general"]

/** CP-2: `general` runs two at a time, every other capability one. */
export const fanOutOf = (capabilities: ReadonlyArray<string>): ReadonlyArray<FanOutEntry> =>
  capabilities.map((capability) => ({ capability, weight: 1, maxConcurrency: capability === "general" ? 2 : 1 }))

/** CP-2: the number of slots a fan-out offers, Σ max(1, maxConcurrency). */
export const fanOutCapacity = (fanOut: ReadonlyArray<FanOutEntry>): number =>
  fanOut.reduce((sum, entry) => sum + Math.max(1, entry.maxConcurrency ?? 1), 0)

/** CP-3: min/max instances for a group size (after the CP-6 guardrails) or without one. */
export const instanceBounds = (
  fanOut: ReadonlyArray<FanOutEntry>,
  groupSize: number | undefined
): { readonly minInstances: number; readonly maxInstances: number } => {
  const capacity = fanOutCapacity(fanOut)
  return groupSize === undefined
    ? { minInstances: 1, maxInstances: Math.max(1, Math.min(fanOut.length, capacity)) }
    : { minInstances: groupSize, maxInstances: Math.min(capacity, groupSize) }
}

/** CP-6 / GRP-4: a group size must be at least 2 and fit the fan-out capacity. */
export const checkGroupSize = (groupSize: number | undefined, capacity: number): GroupGuardrailError | undefined =>
  groupSize === undefined
    ? undefined
    : groupSize < 2
    ? new GroupSizeTooSmall({ groupSize })
    : groupSize > capacity
    ? new GroupSizeExceedsCapacity({ groupSize, capacity })
    : undefined

const stageOf = (stage: PipelineDefinition["stages"][number]): RunRequestStage => {
  if (stage.kind === "subpipeline") {
    return { id: stage.id, kind: "subpipeline", title: stage.title, optional: stage.optional ?? false }
  }
  const sessionId = stage.session?.id
  return {
    id: stage.id,
    kind: "command",
    title: stage.title,
    optional: stage.allowFailure ?? false,
    ...(sessionId === undefined ? {} : { capabilities: [`session:${sessionId}`] })
  }
}

/** A repo-relative path; the repository root itself is `.` (a non-empty string, CP-4). */
const relativeOrDot = (path: string) => (path.length === 0 ? "." : path)

/**
 * CP-2: the v2 run request for a run, with absent optional task fields omitted (D-16), or the CP-6
 * guardrail the TF-GRPO group size violates.
 */
export const buildRunRequest = (input: RunRequestInput): Either.Either<RunRequestV2, GroupGuardrailError> => {
  const { group, pipeline, task } = input
  const capabilities = capabilitiesOf(pipeline)
  const fanOut = fanOutOf(capabilities)
  const groupSize = resolveGroupSize(group, input.manifestGroupSize)
  const violation = checkGroupSize(groupSize, fanOutCapacity(fanOut))
  if (violation !== undefined) return Either.left(violation)
  const tfgrpo = tfgrpoRequestOf(group, groupSize)
  return Either.right({
    schema: runRequestSchemaId,
    version: runRequestSchemaVersion,
    requestId: input.runId,
    task: {
      id: task.id,
      ...(task.slug === undefined ? {} : { slug: task.slug }),
      title: task.title,
      ...(task.description === undefined ? {} : { description: task.description }),
      ...(task.metadata === undefined ? {} : { metadata: task.metadata }),
      tags: capabilities
    },
    pipeline: {
      id: pipeline.id,
      version: "1.0.0",
      title: pipeline.title,
      capabilities,
      stages: pipeline.stages.map(stageOf)
    },
    schedule: {
      strategy: "auto",
      ...instanceBounds(fanOut, groupSize),
      fanOut,
      recovery: { heartbeatIntervalSeconds: 30, missingHeartbeatTimeoutSeconds: 120, maxRetries: 3 }
    },
    streaming: { handles: true, resumeSupported: true, observers: { maxSubscribers: 8, defaultBackpressureMs: 250 } },
    constraints: { privacyLevel: "standard", policyVersion: "2025-10-01" },
    metrics: { emitIntervalSeconds: 30, requiredDimensions: ["instanceId", "phase", "status"] },
    requestedAt: input.requestedAt,
    requestedBy: { actorId: "codex-cli", channel: "cli", name: "Codex CLI" },
    metadata: {
      artifactRoot: relativeOrDot(input.paths.artifactRoot),
      runsRoot: relativeOrDot(input.paths.runsRoot),
      outRoot: relativeOrDot(input.paths.outRoot),
      pipelineId: pipeline.id,
      taskSlug: task.slug ?? task.id,
      ...(tfgrpo === undefined ? {} : { tfgrpo })
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Drift report (CP-8) and the manifest / run-summary sections (CP-5, TM-7)
// ---------------------------------------------------------------------------------------------

export const driftReportMaxEntries = 50

export const DriftEntry = Schema.Struct({
  request_id: Schema.String,
  timestamp: Schema.String,
  status: Schema.Literal("passed", "failed"),
  mode: ControlPlaneMode,
  errors: Schema.Array(ValidationIssue)
})
export type DriftEntry = typeof DriftEntry.Type

/** CP-8: `<outRoot>/<taskId>/control-plane/drift.json`. */
export const DriftReport = Schema.Struct({
  schema_id: Schema.String,
  schema_version: Schema.String,
  total_samples: Schema.Int,
  invalid_samples: Schema.Int,
  invalid_rate: Schema.Number,
  last_sampled_at: Schema.NullOr(Schema.String),
  mode: ControlPlaneMode,
  entries: Schema.Array(DriftEntry)
})
export type DriftReport = typeof DriftReport.Type

export const emptyDriftReport = (mode: ControlPlaneMode): DriftReport => ({
  schema_id: runRequestSchemaId,
  schema_version: runRequestSchemaVersion,
  total_samples: 0,
  invalid_samples: 0,
  invalid_rate: 0,
  last_sampled_at: null,
  mode,
  entries: []
})

export interface ValidationSample {
  readonly requestId: string
  readonly timestamp: string
  readonly mode: ControlPlaneMode
  readonly errors: ReadonlyArray<ValidationIssue>
}

/**
 * CP-8: every validation counts; a failed one adds an entry; a passing one adds an entry only to an
 * empty list (so a report always shows its first sample); at most 50 entries, the oldest dropped.
 */
export const updateDriftReport = (report: DriftReport | undefined, sample: ValidationSample): DriftReport => {
  const previous = report ?? emptyDriftReport(sample.mode)
  const failed = sample.errors.length > 0
  const total = previous.total_samples + 1
  const invalid = previous.invalid_samples + (failed ? 1 : 0)
  const entry: DriftEntry = {
    request_id: sample.requestId,
    timestamp: sample.timestamp,
    status: failed ? "failed" : "passed",
    mode: sample.mode,
    errors: sample.errors
  }
  const entries = failed || previous.entries.length === 0 ? [...previous.entries, entry] : previous.entries
  return {
    schema_id: runRequestSchemaId,
    schema_version: runRequestSchemaVersion,
    total_samples: total,
    invalid_samples: invalid,
    invalid_rate: invalid / total,
    last_sampled_at: sample.timestamp,
    mode: sample.mode,
    entries: entries.slice(-driftReportMaxEntries)
  }
}

/** CP-5: one validation's outcome, the same in the manifest and the run summary. */
export const ValidationRecord = Schema.Struct({
  mode: ControlPlaneMode,
  status: Schema.Literal("passed", "failed"),
  timestamp: Schema.String,
  errors: Schema.Array(ValidationIssue)
})

/** CP-5: the manifest's `control_plane` section. */
export const ControlPlaneSection = Schema.Struct({
  schema_id: Schema.String,
  schema_version: Schema.String,
  request_id: Schema.String,
  validation: ValidationRecord,
  drift: Schema.Struct({
    report_path: Schema.String,
    total_samples: Schema.Int,
    invalid_samples: Schema.Int,
    invalid_rate: Schema.Number,
    last_sampled_at: Schema.NullOr(Schema.String),
    mode: ControlPlaneMode
  }),
  enforcement: Schema.Struct({ enabled: Schema.Boolean, activated_at: Schema.NullOr(Schema.String) })
})
export type ControlPlaneSection = typeof ControlPlaneSection.Type

/** CP-5 from one validation and the drift report it updated. `reportPath` is repo-relative. */
export const controlPlaneSectionOf = (
  sample: ValidationSample,
  report: DriftReport,
  reportPath: string
): ControlPlaneSection => ({
  schema_id: runRequestSchemaId,
  schema_version: runRequestSchemaVersion,
  request_id: sample.requestId,
  validation: {
    mode: sample.mode,
    status: sample.errors.length === 0 ? "passed" : "failed",
    timestamp: sample.timestamp,
    errors: sample.errors
  },
  drift: {
    report_path: reportPath,
    total_samples: report.total_samples,
    invalid_samples: report.invalid_samples,
    invalid_rate: report.invalid_rate,
    last_sampled_at: report.last_sampled_at,
    mode: report.mode
  },
  enforcement: { enabled: sample.mode === "enforce", activated_at: sample.mode === "enforce" ? sample.timestamp : null }
})

/** TM-7: the run summary's `controlPlane`, camelCase and without `enforcement`. */
export const ControlPlaneSummary = Schema.Struct({
  schemaId: Schema.String,
  schemaVersion: Schema.String,
  requestId: Schema.String,
  validation: ValidationRecord,
  drift: Schema.Struct({
    reportPath: Schema.String,
    totalSamples: Schema.Int,
    invalidSamples: Schema.Int,
    invalidRate: Schema.Number,
    lastSampledAt: Schema.NullOr(Schema.String),
    mode: ControlPlaneMode
  })
})
export type ControlPlaneSummary = typeof ControlPlaneSummary.Type

export const controlPlaneSummaryOf = (section: ControlPlaneSection): ControlPlaneSummary => ({
  schemaId: section.schema_id,
  schemaVersion: section.schema_version,
  requestId: section.request_id,
  validation: section.validation,
  drift: {
    reportPath: section.drift.report_path,
    totalSamples: section.drift.total_samples,
    invalidSamples: section.drift.invalid_samples,
    invalidRate: section.drift.invalid_rate,
    lastSampledAt: section.drift.last_sampled_at,
    mode: section.drift.mode
  }
})

/**
 * CP-4 in `enforce` mode: the request is invalid and the run must not start. `section` is what the
 * manifest records; the caller marks the manifest `failed` / `control-plane-validation-failed`.
 */
export class ControlPlaneValidationFailed extends Schema.TaggedError<ControlPlaneValidationFailed>()(
  "ControlPlaneValidationFailed",
  {
    errors: Schema.Array(ValidationIssue),
    section: ControlPlaneSection
  }
) {
  /** `Control plane validation failed (<n> error[s]).`, as the original words it. */
  get headline() {
    const n = this.errors.length
    return `Control plane validation failed (${n} error${n === 1 ? "" : "s"}).`
  }
  /** CP-4: the line appended to the manifest's summary. */
  get summaryLine() {
    return `Control plane validation failed: ${this.headline}`
  }
  override get message() {
    const first = this.errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join("; ")
    const more = this.errors.length > 3 ? `; and ${this.errors.length - 3} more` : ""
    return `${this.headline} ${first}${more}. Fix the pipeline or task definition, or set CODEX_CONTROL_PLANE_MODE=shadow to record without blocking.`
  }
}

/** LAY-5 with D-5: the drift report's folder and file name under the out root. */
export const driftReportSegments = (taskId: string) => [taskId, "control-plane", "drift.json"] as const
