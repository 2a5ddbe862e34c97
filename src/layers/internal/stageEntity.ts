/**
 * The cluster entity that runs stage attempts (issue 18). One entity an attempt: its id is the
 * attempt's group and idempotency key (domain/Cluster.ts `entityIdOf`).
 *
 * - `Run` is persisted and not streaming: the message and its result are stored under the
 *   idempotency key, so a key that has a result is answered from storage and never runs again, and a
 *   message whose runner died is delivered to another runner when the shard lock expires. (A
 *   persisted *streaming* call is broken on SQL storage in this cluster version: stored chunks are
 *   read back as final replies.)
 * - A runner at capacity refuses an attempt at once (RunnerBusy) unless the request says to wait;
 *   the orchestrator then places it under another entity id (domain/Cluster.ts `placementEntityId`).
 * - Its output is not a call: the runner stores it (AttemptOutput) and the orchestrator reads it, so
 *   none is lost whichever runner the orchestrator's client thinks has the attempt.
 */
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
import * as Entity from "@effect/cluster/Entity"
import * as Rpc from "@effect/rpc/Rpc"
import { Schema } from "effect"
import { groupOfEntityId, RemoteStartFailed, RunnerBusy, StageRequest, StageResult } from "../../domain/Cluster.js"

export const RunRpc = Rpc.make("Run", {
  payload: StageRequest.fields,
  success: StageResult,
  // RunnerBusy is stored as the reply of that placement's entity: asked again (a resumed run), it
  // answers the same, and the orchestrator goes on to the next placement, where the attempt went.
  error: Schema.Union(RemoteStartFailed, RunnerBusy),
  primaryKey: (request) => request.idempotencyKey
}).annotate(ClusterSchema.Persisted, true)

export const StageEntity = Entity.make("CodexStage", [RunRpc]).annotate(ClusterSchema.ShardGroup, groupOfEntityId)
