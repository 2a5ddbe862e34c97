/**
 * The cloud sync and credentials sections of the settings (see Settings.ts, which re-exports them:
 * import them from there). Apart only to keep Settings.ts a readable size.
 */
import { Config, ConfigError, Either, Option, Redacted } from "effect"
import {
  baseUrlVariable,
  bucketVariable,
  cloudSyncTimeoutVariable,
  cloudSyncVariable,
  type CloudSyncSettings,
  defaultBaseUrl,
  defaultUploadAttemptTimeoutSeconds,
  vaultPathVariable,
  workspaceVariable
} from "./CloudSync.js"
import { minSecretLength } from "./Privacy.js"
import { flag, type Format, httpUrl, invalidValue, nonNegativeNumber, trimmedText } from "./SettingsKinds.js"

export const tokenVariable = "CODEX_CLOUD_TOKEN"
export const helperVariable = "CODEX_CLOUD_CREDENTIAL_HELPER"

/** Why a token of `length` characters is refused (its value is never shown). */
export const shortTokenReason = (length: number) =>
  `is ${length} character${length === 1 ? "" : "s"} long: too short to be a token (at least ${minSecretLength} characters, ` +
  `as the privacy guard counts a secret; a shorter one could not be kept out of what a run writes without rewriting ordinary text)`

/** Whether a token (trimmed) holds only what an HTTP header carries: printable ASCII, no blank. */
export const headerSafeToken = (token: string) => /^[\x21-\x7e]*$/.test(token)

/** Why a token with a blank, a line break or a character outside printable ASCII inside it is refused (never shown). */
export const unprintableTokenReason = "holds a space, a line break or a character outside printable ASCII inside it: no HTTP " +
  "header can carry it, so it is no token (two values, or one pasted with a line break?)"

const positiveSeconds: Format<number> = {
  expected: "a number of seconds > 0",
  parse: (value) => {
    const seconds = nonNegativeNumber.parse(value)
    return seconds !== undefined && seconds > 0 ? seconds : undefined
  }
}

/**
 * `cloudSync` (SYNC-2, SYNC-4, D-17): None unless `CODEX_CLOUD_SYNC` is on (ENV-6); then
 * `CODEX_CLOUD_WORKSPACE_ID` is required, `CODEX_CLOUD_BASE_URL` must be an http(s) URL, and a
 * `CODEX_CLOUD_TOKEN` given without a helper must be a token (PRIV-2's length), and
 * `CODEX_CLOUD_SYNC_TIMEOUT_SECONDS` (how long each upload attempt may wait, default 10) a number > 0. Decoded by
 * CloudSyncLive; values are trimmed.
 */
export const cloudSyncSection: Config.Config<Option.Option<CloudSyncSettings>> = Config.mapOrFail(
  Config.all({
    enabled: flag(cloudSyncVariable),
    // Checked only when sync is on: an unused setting never stops a run.
    baseUrl: trimmedText(baseUrlVariable),
    workspaceId: trimmedText(workspaceVariable),
    bucket: trimmedText(bucketVariable),
    vaultPath: trimmedText(vaultPathVariable),
    helper: trimmedText(helperVariable),
    token: Config.option(Config.redacted(tokenVariable)),
    timeout: trimmedText(cloudSyncTimeoutVariable)
  }),
  ({ baseUrl, bucket, enabled, helper, timeout, token, vaultPath, workspaceId }) => {
    if (!enabled) return Either.right(Option.none())
    if (Option.isNone(workspaceId)) {
      return Either.left(ConfigError.InvalidData(
        [workspaceVariable],
        `${workspaceVariable} is not set, but cloud sync is on (${cloudSyncVariable}). Set ${workspaceVariable} to ` +
          `your Codex Cloud workspace id, or unset ${cloudSyncVariable} to turn cloud sync off.`
      ))
    }
    const url = Option.getOrElse(baseUrl, () => defaultBaseUrl)
    if (httpUrl.parse(url) === undefined) {
      return Either.left(invalidValue(baseUrlVariable, url, httpUrl.expected, defaultBaseUrl, ` (cloud sync is on, ${cloudSyncVariable})`))
    }
    // Never echoed: fetch refuses such a URL, and the URL is in every upload error we write.
    if (new URL(url).username !== "" || new URL(url).password !== "") {
      return Either.left(ConfigError.InvalidData(
        [baseUrlVariable],
        `${baseUrlVariable} holds a user name or password (user:password@host): no upload can use it, and it would ` +
          `be written to the audit log. Remove it from the URL and give the token in ${tokenVariable} or ${helperVariable}.`
      ))
    }
    // The import path is appended to the base: after a query or fragment it would not be a path, and
    // a query may hold a key, which would be written with every upload error. Never echoed.
    if (url.includes("?") || url.includes("#")) {
      return Either.left(ConfigError.InvalidData(
        [baseUrlVariable],
        `${baseUrlVariable} has a query or a fragment (?… or #…): the import path could not be appended to it, and it ` +
          `would be written to the audit log. Give the base address alone (scheme, host and path), and the token in ` +
          `${tokenVariable} or ${helperVariable}.`
      ))
    }
    const trimmedToken = Option.match(token, { onNone: () => "", onSome: (value) => Redacted.value(value).trim() })
    if (Option.isNone(helper) && !headerSafeToken(trimmedToken)) {
      return Either.left(ConfigError.InvalidData(
        [tokenVariable],
        `${tokenVariable} ${unprintableTokenReason}, and cloud sync is on (${cloudSyncVariable}). Set it to your ` +
          `Codex Cloud token, or ${helperVariable} to a command that prints one, or unset ${cloudSyncVariable}.`
      ))
    }
    const tokenLength = trimmedToken.length
    if (Option.isNone(helper) && tokenLength > 0 && tokenLength < minSecretLength) {
      return Either.left(ConfigError.InvalidData(
        [tokenVariable],
        `${tokenVariable} ${shortTokenReason(tokenLength)}, and cloud sync is on (${cloudSyncVariable}). Set it to your ` +
          `Codex Cloud token, or ${helperVariable} to a command that prints one, or unset ${cloudSyncVariable}.`
      ))
    }
    const attemptTimeoutSeconds = Option.match(timeout, {
      onNone: () => defaultUploadAttemptTimeoutSeconds,
      onSome: positiveSeconds.parse
    })
    if (attemptTimeoutSeconds === undefined) {
      const given = Option.getOrElse(timeout, () => "")
      return Either.left(invalidValue(cloudSyncTimeoutVariable, given, positiveSeconds.expected, String(defaultUploadAttemptTimeoutSeconds), ` (cloud sync is on, ${cloudSyncVariable})`))
    }
    return Either.right(Option.some<CloudSyncSettings>({
      baseUrl: url,
      workspaceId: workspaceId.value,
      ...Option.match(bucket, { onNone: () => ({}), onSome: (value) => ({ bucket: value }) }),
      ...Option.match(vaultPath, { onNone: () => ({}), onSome: (value) => ({ vaultPath: value }) }),
      attemptTimeoutSeconds
    }))
  }
)

/**
 * `credentials` (SYNC-1): the helper command that prints tokens, else the token itself (kept
 * redacted). Unset or blank is None: a missing token is reported when one is asked for, not at
 * start-up. Decoded by the CredentialBroker layers.
 */
export const credentialsSection = Config.all({
  helper: trimmedText(helperVariable),
  token: Config.map(
    Config.option(Config.redacted(tokenVariable)),
    Option.filter((value) => Redacted.value(value).trim().length > 0)
  )
})
