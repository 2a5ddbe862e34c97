import { Chunk, Clock, DateTime, Duration, Effect, Either, Layer, Option, Redacted, Ref, Schema } from "effect"
import { minSecretLength } from "../domain/Privacy.js"
import {
  credentialsSection,
  decodeSettings,
  headerSafeToken,
  helperVariable,
  shortTokenReason,
  tokenVariable,
  unprintableTokenReason
} from "../domain/Settings.js"
import { OrchestratorConfig } from "../services/OrchestratorConfig.js"
import {
  CredentialBroker,
  CredentialHelperFailed,
  CredentialUnavailable,
  type IssuedToken,
  type TokenRequest
} from "../services/CredentialBroker.js"
import { ProcessRunner } from "../services/ProcessRunner.js"

/** The token the environment interpreter hands out, and the command that prints one instead (SYNC-1). */
export { helperVariable, tokenVariable }

/**
 * SYNC-1's rule for every interpreter: a token is handed out without the blanks around it (the server
 * never sees them, and a secret scrubbed with them would not be found), holds only what an HTTP
 * header carries (printable ASCII, no blank: fetch's error on any other quotes the header), and is
 * at least `minSecretLength` characters long; Left is why not, in words that never quote it.
 */
export const checkedToken = (raw: string): Either.Either<Redacted.Redacted<string>, string> => {
  const token = raw.trim()
  if (!headerSafeToken(token)) return Either.left(unprintableTokenReason)
  return token.length < minSecretLength ? Either.left(shortTokenReason(token.length)) : Either.right(Redacted.make(token))
}

/**
 * Environment: `CODEX_CLOUD_TOKEN` (read once, as `Config.redacted`) for every service and scope.
 * An unset or empty variable is CredentialUnavailable on request, not a start-up failure.
 */
export const CredentialBrokerEnv = Layer.effect(
  CredentialBroker,
  Effect.gen(function*() {
    const { token } = yield* decodeSettings(credentialsSection)
    return CredentialBroker.of({
      getToken: (request) =>
        Option.match(token, {
          onNone: () =>
            new CredentialUnavailable({
              service: request.service,
              scope: request.scope,
              source: "environment",
              hint: `Set ${tokenVariable}, or ${helperVariable} to a command that prints one.`
            }),
          onSome: (value) =>
            Either.match(checkedToken(Redacted.value(value)), {
              onLeft: (reason) =>
                new CredentialUnavailable({
                  service: request.service,
                  scope: request.scope,
                  source: "environment",
                  hint: `${tokenVariable} ${reason}. Set it to the real token.`
                }),
              onRight: (token) => Effect.succeed<IssuedToken>({ token })
            })
        })
    })
  })
)

/** A token is renewed this long before it expires, so that no request goes out with a dying one. */
export const expiryMargin = Duration.seconds(30)

/**
 * A helper that has not printed its token by then is stopped (its process group killed): it may be
 * waiting for a prompt nobody sees, and an upload waiting on it would hold the CLI's exit.
 */
export const helperTimeout = Duration.seconds(30)

/** Helper output beyond this is refused: a token is a line, not a file. */
const maxHelperOutputBytes = 64 * 1024

/**
 * What a helper may print: JSON `{"token": "...", "expiresAt": ...}` (an ISO-8601 date, or Unix
 * seconds as git's `password_expiry_utc`), or the bare token on its first non-empty line.
 */
const HelperJson = Schema.Struct({
  token: Schema.String,
  expiresAt: Schema.optional(Schema.Union(Schema.DateTimeUtc, Schema.Number))
})

const tooShort = `it printed a token shorter than ${minSecretLength} characters, which is no token`

/** Why a helper's token is refused: too short, or what no header carries (`checkedToken`). */
const printedTokenProblem = (reason: string) => reason === unprintableTokenReason ? `it printed a token that ${reason}` : tooShort

/**
 * Reads a helper's output. The failure is a reason in our words only: a parse error's text could
 * quote the token.
 */
export const parseHelperOutput = (text: string): Either.Either<IssuedToken, string> => {
  const trimmed = text.trim()
  if (trimmed.startsWith("{")) {
    const decoded = Schema.decodeUnknownEither(Schema.parseJson(HelperJson))(trimmed)
    if (Either.isLeft(decoded)) {
      return Either.left("it printed JSON that is not {\"token\": string, \"expiresAt\"?: ISO date or Unix seconds}")
    }
    const { expiresAt } = decoded.right
    if (decoded.right.token.trim().length === 0) return Either.left("it printed an empty token")
    const token = checkedToken(decoded.right.token)
    if (Either.isLeft(token)) return Either.left(printedTokenProblem(token.left))
    if (expiresAt === undefined) return Either.right({ token: token.right })
    const expires = typeof expiresAt === "number" ? DateTime.make(expiresAt * 1000) : Option.some(expiresAt)
    return Option.match(expires, {
      onNone: () => Either.left("it printed an expiresAt that is not a date"),
      onSome: (date) => Either.right({ token: token.right, expiresAt: date })
    })
  }
  const line = trimmed.split("\n").find((candidate) => candidate.trim().length > 0)
  return line === undefined
    ? Either.left("it printed no token")
    : Either.mapBoth(checkedToken(line), { onLeft: printedTokenProblem, onRight: (token) => ({ token }) })
}

/**
 * What the shell's own exit codes mean: the helper's stderr, where the shell says why, is never
 * shown (it may quote a token), so the code is put in words.
 */
const shellExitHint = (code: number | null) =>
  code === 126
    ? ` (the shell found it but could not run it: is it executable? chmod +x it, or name its interpreter in ${helperVariable})`
    : code === 127
    ? ` (the shell did not find it: check the command in ${helperVariable} and PATH)`
    : ""

const cacheKey = (request: TokenRequest) => JSON.stringify([request.service, request.scope, request.vaultPath ?? null])

/**
 * A credential helper, as git has them: `command` runs through `sh -c` in the repo root with
 * `CODEX_CREDENTIAL_SERVICE`, `CODEX_CREDENTIAL_SCOPE` (and `CODEX_CREDENTIAL_VAULT_PATH` when
 * given) in its environment, and prints the token (see parseHelperOutput). Tokens are cached per
 * service, scope and vault path until `expiryMargin` before their `expiresAt` (by the Clock); a
 * token without one is kept for the broker's lifetime. A failed run is not cached. Lookups are
 * serialised, so concurrent requests run the helper once.
 */
export const CredentialBrokerHelper = (command: string) =>
  Layer.effect(
    CredentialBroker,
    Effect.gen(function*() {
      const runner = yield* ProcessRunner
      const config = yield* OrchestratorConfig
      const cache = yield* Ref.make(new Map<string, IssuedToken>())
      const lock = yield* Effect.makeSemaphore(1)

      const runHelper = (request: TokenRequest) =>
        Effect.gen(function*() {
          const failed = (reason: string, exit: { exitCode: number | null; signal: string | null }, cause?: unknown) =>
            new CredentialHelperFailed({
              helper: command,
              service: request.service,
              scope: request.scope,
              exitCode: exit.exitCode,
              signal: exit.signal,
              reason,
              ...(cause === undefined ? {} : { cause })
            })
          const stdout = yield* Ref.make({ chunks: Chunk.empty<Uint8Array>(), bytes: 0 })
          const exit = yield* runner.run({
            command,
            cwd: config.roots.repoRoot,
            env: {
              CODEX_CREDENTIAL_SERVICE: request.service,
              CODEX_CREDENTIAL_SCOPE: request.scope,
              ...(request.vaultPath === undefined ? {} : { CODEX_CREDENTIAL_VAULT_PATH: request.vaultPath })
            }
          }, {
            onStart: () => Effect.void,
            onOutput: (stream, chunks) =>
              stream === "stderr" ? Effect.void : Ref.update(stdout, (seen) => ({
                chunks: seen.bytes > maxHelperOutputBytes ? seen.chunks : Chunk.appendAll(seen.chunks, chunks),
                bytes: seen.bytes + Chunk.reduce(chunks, 0, (sum, chunk) => sum + chunk.byteLength)
              }))
          }).pipe(
            Effect.mapError((error) => failed(`it could not start (${error.reason})`, { exitCode: null, signal: null }, error)),
            Effect.timeoutFail({
              duration: helperTimeout,
              onTimeout: () =>
                failed(`it did not finish within ${Duration.format(helperTimeout)} and was stopped (does it wait for input?)`, {
                  exitCode: null,
                  signal: null
                })
            })
          )
          if (exit.signal !== null) return yield* failed(`it was killed by ${exit.signal}`, exit)
          if (exit.exitCode !== 0) return yield* failed(`it exited with code ${exit.exitCode}${shellExitHint(exit.exitCode)}`, exit)
          const output = yield* Ref.get(stdout)
          if (output.bytes > maxHelperOutputBytes) {
            return yield* failed(`it printed more than ${maxHelperOutputBytes} bytes`, exit)
          }
          const decoder = new TextDecoder()
          const text = Chunk.reduce(output.chunks, "", (all, chunk) => all + decoder.decode(chunk, { stream: true })) +
            decoder.decode()
          return yield* Either.match(parseHelperOutput(text), {
            onLeft: (reason) => Effect.fail(failed(reason, exit)),
            onRight: Effect.succeed
          })
        })

      const isFresh = (token: IssuedToken, nowMs: number) =>
        token.expiresAt === undefined ||
        nowMs < DateTime.toEpochMillis(token.expiresAt) - Duration.toMillis(expiryMargin)

      const getToken = (request: TokenRequest) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const key = cacheKey(request)
          const cached = (yield* Ref.get(cache)).get(key)
          if (cached !== undefined && isFresh(cached, yield* Clock.currentTimeMillis)) return cached
          const issued = yield* runHelper(request)
          yield* Ref.update(cache, (all) => new Map(all).set(key, issued))
          return issued
        }))

      return CredentialBroker.of({ getToken })
    })
  )

/**
 * The production choice: the helper named by `CODEX_CLOUD_CREDENTIAL_HELPER` when it is set,
 * otherwise `CODEX_CLOUD_TOKEN` from the environment.
 */
export const CredentialBrokerLive = Layer.unwrapEffect(
  Effect.map(
    Effect.map(decodeSettings(credentialsSection), ({ helper }) => helper),
    Option.match({
      onNone: () => CredentialBrokerEnv,
      onSome: (command) => CredentialBrokerHelper(command)
    })
  )
)

export interface MemoryToken {
  readonly service: string
  readonly scope: string
  readonly token: string
  readonly expiresAt?: DateTime.Utc
}

/**
 * Fixed tokens by service and scope, for tests and embedders; anything else is CredentialUnavailable.
 * The environment's rule holds (`checkedToken`): a token is trimmed, and one too short is not handed out.
 */
export const CredentialBrokerMemory = (tokens: ReadonlyArray<MemoryToken>) =>
  Layer.succeed(
    CredentialBroker,
    CredentialBroker.of({
      getToken: (request) => {
        const unavailable = (hint: string) =>
          new CredentialUnavailable({ service: request.service, scope: request.scope, source: "memory", hint })
        const found = tokens.find((entry) => entry.service === request.service && entry.scope === request.scope)
        if (found === undefined) return unavailable("No token was given for it.")
        return Either.match(checkedToken(found.token), {
          onLeft: (reason) => unavailable(`The token given for it ${reason}.`),
          onRight: (token) =>
            Effect.succeed<IssuedToken>({ token, ...(found.expiresAt === undefined ? {} : { expiresAt: found.expiresAt }) })
        })
      }
    })
  )
