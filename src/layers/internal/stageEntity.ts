/**
 * The cluster entity that runs stage attempts (issue 18). One entity an attempt: its id is the
 * attempt's group and idempotency key (domain/Cluster.ts `entityIdOf`).
 *
 * - `Run` is persisted and not streaming: the message and its result are stored under the
 *   idempotency key, so a key that has a result is answered from storage and never runs again, and a
 *   message whose runner died is delivered to another runner when the shard lock expires. (A
 *   persisted *streaming* call is broken on SQL storage in this cluster version: stored chunks are
 *   read back as final replies.)
 * - Its output is not a call: the runner stores it (AttemptOutput) and the orchestrator reads it, so
 *   none is lost whichever runner the orchestrator's client thinks has the attempt.
 */
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
import * as Entity from "@effect/cluster/Entity"
import * as Rpc from "@effect/rpc/Rpc"
import { groupOfEntityId, RemoteStartFailed, StageRequest, StageResult } from "../../domain/Cluster.js"

export const RunRpc = Rpc.make("Run", {
  payload: StageRequest.fields,
  success: StageResult,
  error: RemoteStartFailed,
  primaryKey: (request) => request.idempotencyKey
}).annotate(ClusterSchema.Persisted, true)

export const StageEntity = Entity.make("CodexStage", [RunRpc]).annotate(ClusterSchema.ShardGroup, groupOfEntityId)
