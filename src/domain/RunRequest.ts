/**
 * The v2 run request (SPEC CP-2) and the rules it must satisfy (CP-4; DECISIONS D-16): the request a
 * run is described by before it starts. Built by `RunRequestBuilder.ts`, checked by
 * `RunRequestValidation.ts`; the control plane (`ControlPlane.ts`) records the outcome.
 */
import { Schema } from "effect"

export const runRequestSchemaId = "codex.control-plane.run-request"
export const runRequestSchemaVersion = "2.0.0"

/** Blank (spaces, tabs, line breaks only) counts as empty: a title of three spaces is no title. */
const NonEmpty = Schema.String.pipe(Schema.filter((value) => value.trim().length > 0)).annotations({ description: "a non-empty string" })
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
