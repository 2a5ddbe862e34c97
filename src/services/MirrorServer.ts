import { Context, type Effect, Schema, type Scope } from "effect"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { CspChoice } from "../domain/MirrorServe.js"

/** How to serve a project's mirror: address, CSP, byte ranges, request logging. */
export interface MirrorServeRequest {
  /** Serves `packages/<project>/public`. */
  readonly project: string
  /** Default 127.0.0.1 (the original bound 0.0.0.0; a mirror is for this machine unless asked). */
  readonly host?: string | undefined
  /** Default 4173; 0 picks a free port. */
  readonly port?: number | undefined
  /** `self` (default), `strict`, `off`, or a policy given verbatim. */
  readonly csp?: CspChoice | undefined
  /** Answer Range requests with 206/416 (default true). */
  readonly range?: boolean | undefined
  /** Print one line per request on stderr. */
  readonly logRequests?: boolean | undefined
}

/** `serveFolder`: any folder (a design reference copy), served by the same rules as a mirror. */
export interface FolderServeRequest extends Omit<MirrorServeRequest, "project"> {
  /** The folder to serve, absolute. */
  readonly root: string
}

/** A server that is running until its scope closes: its folder and its base URL. */
export interface MirrorServing {
  /** `http://<host>:<port>` */
  readonly url: string
  /** The folder served, relative to the repository root. */
  readonly root: string
}

/**
 * The system's words for a failed listen: the platform wraps them (a ServeError with an empty message
 * whose cause is Node's "listen EADDRINUSE: ..."), so the first non-empty message down the causes.
 */
const innermostReason = (cause: unknown): string => {
  let current: unknown = cause
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error && current.message.length > 0) return current.message
    current = typeof current === "object" && "cause" in current ? current.cause : undefined
  }
  return String(cause)
}

/** The server could not start (the port is taken, the host is not ours). */
export class MirrorServeFailed extends Schema.TaggedError<MirrorServeFailed>()("MirrorServeFailed", {
  address: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    const reason = innermostReason(this.cause)
    const fix = /EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/.test(reason)
      ? "Pick another --host: an address of this machine (127.0.0.1, the default, or 0.0.0.0 for every one)."
      : /EACCES/.test(reason)
      ? "Pick a --port above 1023 (or --port 0 for a free one)."
      : "Pick another --port (or --port 0 for a free one)."
    return `could not listen on ${this.address}: ${reason}. ${fix}`
  }
}

/**
 * `mirror serve` (SPEC MIR-4): a static server for a mirror, safe to point a browser at. GET and HEAD
 * only, no path outside the folder (encoded `..`, symlinks and NUL bytes included), no listings,
 * HTML revalidated with a CSP, other files immutable, byte ranges.
 */
export class MirrorServer extends Context.Tag("orchestrator/MirrorServer")<
  MirrorServer,
  {
    /** Starts serving; the server stops when the scope closes. */
    readonly start: (
      request: MirrorServeRequest
    ) => Effect.Effect<MirrorServing, InvalidFile | MirrorServeFailed | FileAccessError, Scope.Scope>
    /** The same server for a folder of one's own; it stops when the scope closes. */
    readonly serveFolder: (
      request: FolderServeRequest
    ) => Effect.Effect<MirrorServing, InvalidFile | MirrorServeFailed | FileAccessError, Scope.Scope>
  }
>() {}
