/**
 * What a failure's causes say, for one-line reasons: an HTTP client's error says only "fetch
 * failed" or "Transport error"; why (refused, unknown host, hung up) is in its cause, sometimes one
 * further down. Shared by the Notifier, cloud sync and the mirror's downloads.
 */

/** The messages of `error`'s chain of Error causes, outermost first, at most `max`. */
export const causeMessages = (error: { readonly cause?: unknown }, max: number): ReadonlyArray<string> => {
  const messages: Array<string> = []
  for (let cause: unknown = error.cause; cause instanceof Error && messages.length < max; cause = cause.cause) messages.push(cause.message)
  return messages
}
