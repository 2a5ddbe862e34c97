/**
 * Credentials for remote services (SPEC SYNC-1): a broker hands out short-lived tokens on request,
 * so no secret is stored on disk. Tokens travel as `Redacted` values; no error of this module ever
 * holds one, nor any output of a credential helper (which may contain one).
 */
import { Context, type DateTime, type Effect, type Redacted, Schema } from "effect"

export interface TokenRequest {
  /** What the token is for, e.g. `codex-cloud`. */
  readonly service: string
  /** What it must allow, e.g. `runs:write`. */
  readonly scope: string
  /** Where a vault-backed helper finds the secret (`CLOUD_SYNC_VAULT_PATH`); passed on as is. */
  readonly vaultPath?: string | undefined
}

export interface IssuedToken {
  readonly token: Redacted.Redacted<string>
  /** When the token stops working; a token without one is reused until the broker goes away. */
  readonly expiresAt?: DateTime.Utc | undefined
}

/** No token can be had for this service and scope (nothing configured, or an empty value). */
export class CredentialUnavailable extends Schema.TaggedError<CredentialUnavailable>()("CredentialUnavailable", {
  service: Schema.String,
  scope: Schema.String,
  /** Which interpreter was asked: `environment`, `memory`. */
  source: Schema.String,
  /** What to do about it, in a sentence. */
  hint: Schema.String
}) {
  override get message() {
    return `No credential available for ${this.service} (${this.scope}) from the ${this.source}. ${this.hint}`
  }
}

/**
 * The credential helper did not produce a token. Its output is never kept here: a helper that
 * printed a token and then failed would otherwise leak it into logs and audit lines.
 */
export class CredentialHelperFailed extends Schema.TaggedError<CredentialHelperFailed>()("CredentialHelperFailed", {
  /** The configured helper command. */
  helper: Schema.String,
  service: Schema.String,
  scope: Schema.String,
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.NullOr(Schema.String),
  /** What went wrong, in our words (never the helper's output). */
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `Credential helper "${this.helper}" failed for ${this.service} (${this.scope}): ${this.reason}`
  }
}

export type CredentialError = CredentialUnavailable | CredentialHelperFailed

/** Hands out tokens for a service and scope (SYNC-1). Interpreters: environment, helper command, memory. */
export class CredentialBroker extends Context.Tag("orchestrator/CredentialBroker")<
  CredentialBroker,
  {
    readonly getToken: (request: TokenRequest) => Effect.Effect<IssuedToken, CredentialError>
  }
>() {}
