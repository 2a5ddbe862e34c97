import { Context, type Effect, Schema } from "effect"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { InvalidId } from "../domain/Ids.js"
import type { CheckReport } from "../domain/MirrorCheck.js"
import type { MirrorServeFailed } from "./MirrorServer.js"

/** What `mirror check` checks: a project's mirror, on a running server or a temporary one. */
export interface MirrorCheckRequest {
  readonly project: string
  /** Another config file instead of `packages/<project>/mirror.config.json`. */
  readonly configPath?: string | undefined
  /** Check a mirror already served on 127.0.0.1:<port>; without it a temporary server is started. */
  readonly port?: number | undefined
  /** Show the browser window. */
  readonly headed?: boolean | undefined
}

/** The check's report and where it was written (screenshots beside it). */
export interface MirrorCheckResult {
  readonly report: CheckReport
  /** Relative to the repository root; the screenshots are beside it. */
  readonly reportPath: string
}

/** No Chromium to drive: says where we looked and how to get one. */
export class BrowserNotFound extends Schema.TaggedError<BrowserNotFound>()("BrowserNotFound", {
  tried: Schema.Array(Schema.String)
}) {
  override get message() {
    return `no Chromium found (looked for ${this.tried.join(", ")}). Install Debian's chromium ` +
      "(`apt-get install -y chromium`) or set CHROMIUM_PATH to a Chromium or Chrome executable."
  }
}

/** The browser failed to start or to load a page at all (not a finding about the mirror). */
export class BrowserFailed extends Schema.TaggedError<BrowserFailed>()("BrowserFailed", {
  operation: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    const reason = this.cause instanceof Error ? this.cause.message.split("\n")[0] : String(this.cause)
    return `the browser could not ${this.operation}: ${reason}`
  }
}

/**
 * `mirror check` (SPEC MIR-5): loads every route of a served mirror in a real Chromium and reports
 * non-200 routes, requests leaving the allowed hosts, failed or >= 400 requests, tracker patterns in
 * responses and the DOM, and absolute references to the origin; a screenshot per route is kept next
 * to the report. Findings are the report's content, not failures of the effect.
 */
export class MirrorChecker extends Context.Tag("orchestrator/MirrorChecker")<
  MirrorChecker,
  {
    readonly check: (
      request: MirrorCheckRequest
    ) => Effect.Effect<
      MirrorCheckResult,
      InvalidFile | InvalidId | FileAccessError | MirrorServeFailed | BrowserNotFound | BrowserFailed
    >
  }
>() {}
