/**
 * Where a finished run's summary is posted (SPEC EXEC-4, DECISIONS B-6): the targets from
 * `--notify` (repeatable, comma lists), else `CODEX_ORCHESTRATOR_NOTIFY`, else the `notify` list of
 * `codex.orchestrator.json`; http and https URLs only, each once. A delivery is retried with a
 * bounded backoff and never fails the run.
 */
import { Schema } from "effect"
import { hasControlCharacter, oneLine } from "./OneLine.js"
import type { RetryPolicy } from "./Retry.js"

/** The environment variable with the default targets (a comma list). */
export const notifyVariable = "CODEX_ORCHESTRATOR_NOTIFY"

/** Whether `value` is an http(s) URL (a summary is posted to it; a collector listens on it). */
export const isHttpUrl = (value: string): boolean => {
  if (!URL.canParse(value)) return false
  const { protocol } = new URL(value)
  return protocol === "http:" || protocol === "https:"
}

/** targetProblem's reason for a value that is no http(s) URL at all (the other reasons name the URL's fault). */
export const notHttpUrl = "is not an http(s) URL"

const credentialsProblem = "carries a user name or password, which is never sent (fetch refuses it); put the token in the path or query"

/**
 * Why `value` cannot be a URL we send to because of a control character, or undefined: the URL parser
 * drops line breaks and tabs (and encodes the rest), so a URL with a line break pasted into it would be
 * used as another URL than the one given.
 */
const controlProblem = (value: string): string | undefined => {
  const control = [...value].find(hasControlCharacter)
  return control === undefined
    ? undefined
    : `contains a control character (${oneLine(control)}); remove it: a URL is one line of printable characters`
}

/** Why `value` cannot be an http(s) URL we send to (a notification target, a collector), or undefined. */
export const urlProblem = (value: string): string | undefined =>
  controlProblem(value) ?? (isHttpUrl(value) ? undefined : notHttpUrl)

/** Why `value` cannot be a target, or undefined when it can: an http(s) URL without a user or password (urlProblem first). */
export const targetProblem = (value: string): string | undefined => {
  const problem = urlProblem(value)
  if (problem !== undefined) return problem
  const { username, password } = new URL(value)
  return username.length > 0 || password.length > 0 ? credentialsProblem : undefined
}

/** A query with each value (and each word without one) replaced by `***`, its names kept: `?token=***&channel=`. */
const hiddenQuery = (search: string): string =>
  search.length <= 1
    ? search
    : `?${search.slice(1).split("&").map((part) => {
      const equals = part.indexOf("=")
      if (equals < 0) return part.length === 0 ? part : "***"
      return equals === part.length - 1 ? part : `${part.slice(0, equals)}=***`
    }).join("&")}`

/**
 * A target as a message shows it: a password, the query's values and the fragment replaced by `***`
 * (a webhook's token is often there; it must not reach a log: the parsed URL is shown then, without
 * the line breaks and tabs the parser drops), and control characters escaped (a message is one line).
 */
export const shownTarget = (value: string): string => {
  if (!URL.canParse(value)) return oneLine(value)
  const url = new URL(value)
  if (url.password.length === 0 && url.search.length <= 1 && url.hash.length <= 1) return oneLine(value)
  if (url.password.length > 0) url.password = "***"
  const query = hiddenQuery(url.search)
  const fragment = url.hash.length > 1 ? "#***" : url.hash
  url.search = ""
  url.hash = ""
  return oneLine(`${url.href}${query}${fragment}`)
}

/** A notification target as `codex.orchestrator.json` lists it. */
export const NotifyTarget = Schema.String.pipe(
  Schema.filter((value) => {
    const problem = targetProblem(value)
    return problem === undefined ||
      (problem === notHttpUrl
        ? "must be an http:// or https:// URL (the run summary is POSTed to it as JSON)"
        : `${problem} (${shownTarget(value)})`)
  })
)

/** The words of comma lists, trimmed, empty ones dropped. */
export const splitTargets = (lists: ReadonlyArray<string>): ReadonlyArray<string> =>
  lists.flatMap((list) => list.split(",")).map((word) => word.trim()).filter((word) => word.length > 0)

/** The first source that names any target wins (flags > environment > config file); each target once. */
export const resolveTargets = (
  flags: ReadonlyArray<string>,
  environment: ReadonlyArray<string>,
  config: ReadonlyArray<string>
): ReadonlyArray<string> => {
  const chosen = [flags, environment, config].map(splitTargets).find((targets) => targets.length > 0) ?? []
  return [...new Set(chosen)]
}

/**
 * A delivery's attempts: 4 at most, 0.5 s, 1 s then 2 s apart (under 4 s of waiting), each given
 * `notifyAttemptTimeoutMs`: a dead endpoint costs a finished run seconds, not minutes.
 */
export const notifyRetryPolicy: RetryPolicy = { attempts: 4, initialDelayMs: 500, factor: 2, maxDelayMs: 2000 }
export const notifyAttemptTimeoutMs = 10_000

/** An answer worth another attempt: the server's trouble (5xx), a rate limit (429) or a timeout (408). */
export const isRetryableStatus = (status: number): boolean => status >= 500 || status === 429 || status === 408
