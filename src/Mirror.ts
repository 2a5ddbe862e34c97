/**
 * The mirror tools (`mirror fetch|serve|check`, SPEC MIR-1..5) as a library: the three services, what
 * they take and give, their errors, and their layers. The layers load their implementations on first
 * build and need `App.AppBaseLive` (files and roots) and Node's platform services.
 */

/** Fetch a site into a clean local copy: the service, its request and result. */
export { MirrorFetcher, type MirrorFetchRequest, type MirrorFetchResult } from "./services/MirrorFetcher.js"
/** Serve a mirror safely on loopback: the service, its requests, the running server and its error. */
export {
  type FolderServeRequest,
  MirrorServeFailed,
  MirrorServer,
  type MirrorServeRequest,
  type MirrorServing
} from "./services/MirrorServer.js"
/** Check a mirror in a real browser: the service, its request and result, and the browser's errors. */
export {
  BrowserFailed,
  BrowserNotFound,
  MirrorChecker,
  type MirrorCheckRequest,
  type MirrorCheckResult
} from "./services/MirrorChecker.js"
/** The mirror manifest a fetch writes. */
export { MirrorManifest } from "./domain/MirrorManifest.js"
/** The report a check writes, and its one-line summary. */
export { CheckReport, checkSummary } from "./domain/MirrorCheck.js"
/** The layers, each loaded on first build. */
export { MirrorCheckerLayer, MirrorFetcherLayer, MirrorServerLayer, MirrorToolsLayer } from "./layers/ToolLayers.js"
