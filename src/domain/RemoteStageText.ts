/**
 * How a stage run on a runner (issue 18) is told on the one-line-per-stage lists of `start` and
 * `status`: where it ran, and the worktree the runner kept after it failed (`runner --keep-failed`).
 */
import type { RemoteExecution } from "./ManifestStatus.js"

/** ` on <runner address>`, with ` (<host>)` when the address does not name the host; empty for a local stage. */
export const ranOnText = (remote: RemoteExecution | undefined): string => {
  if (remote?.runner == null) return ""
  const host = remote.host === null || remote.runner.startsWith(`${remote.host}:`) ? "" : ` (${remote.host})`
  return ` on ${remote.runner}${host}`
}

/** ` (worktree kept on <runner>: <path>)` when the runner kept the attempt's worktree; else empty. */
export const keptText = (remote: RemoteExecution | undefined): string =>
  remote?.kept_worktree === undefined ? "" : ` (worktree kept on ${remote.runner ?? "its runner"}: ${remote.kept_worktree})`
