import { Context, type Effect } from "effect"
import type { DoctorCheck } from "../domain/Doctor.js"

/** What `doctor` needs to know besides the repository: the settings its checks look at. */
export interface DoctorRequest {
  /** The codex executable review runs (CODEX_BIN, else codex). */
  readonly codex: string
  /** CODEX_CLUSTER_DATABASE_URL as given (undefined: no cluster, the check is skipped). */
  readonly clusterDatabaseUrl: string | undefined
}

/**
 * Checks what a run needs, in order: the git repository, Node, the pipeline config, a writable runs
 * folder, codex for review, the cluster database when one is configured. Never fails: every problem
 * is a check's result.
 */
export class Doctor extends Context.Tag("orchestrator/Doctor")<
  Doctor,
  {
    readonly check: (request: DoctorRequest) => Effect.Effect<ReadonlyArray<DoctorCheck>>
  }
>() {}
