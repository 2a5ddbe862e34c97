/**
 * One URL of a mirror, obtained once (SPEC MIR-2): from the per-project cache when it holds it, else
 * over HTTP with retries backing off on a Schedule (connection errors, 429 and 5xx), and, for a host
 * other than the origin that fails, from the archive service. Successes are cached as
 * `<base64url(url)>.bin` with a `.json` beside it.
 */
import { type HttpClient, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Either, Option, Ref, Schema } from "effect"
import type { UrlOutcome } from "../../domain/MirrorManifest.js"
import { type RetryPolicy, retrySchedule } from "../../domain/Retry.js"
import type { Files } from "../../services/Files.js"
import { sha256Hex } from "./sha256.js"

/** What a download got: the bytes and where they came from. */
export interface Downloaded {
  readonly outcome: Exclude<UrlOutcome, "failed">
  readonly bytes: Uint8Array
  readonly contentType: string
  readonly httpStatus: number
  /** The archive URL when the archive supplied it. */
  readonly source: string | undefined
  readonly attempts: number
}

export interface DownloadFailed {
  readonly httpStatus: number | undefined
  readonly error: string
  readonly attempts: number
}

export interface DownloaderOptions {
  readonly http: HttpClient.HttpClient
  readonly files: Files["Type"]
  readonly cacheDir: string
  /** The archive's base URL, or undefined when the fallback is off. */
  readonly archiveBaseUrl: string | undefined
  readonly isOrigin: (url: string) => boolean
  readonly retry: RetryPolicy
  readonly timeout: Duration.DurationInput
}

const CacheEntry = Schema.parseJson(Schema.Struct({
  url: Schema.String,
  content_type: Schema.String,
  http_status: Schema.Int,
  source: Schema.NullOr(Schema.String)
}))

/** A response status or a transport problem, both worth another attempt while retries last. */
class AttemptFailed extends Schema.TaggedError<AttemptFailed>()("AttemptFailed", {
  httpStatus: Schema.UndefinedOr(Schema.Int),
  reason: Schema.String,
  retryable: Schema.Boolean
}) {}

interface Response {
  readonly bytes: Uint8Array
  readonly contentType: string
  readonly httpStatus: number
}

const base64Url = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

/** MIR-2's cache name; a URL too long for a file name (255 bytes) is named by its SHA-256 instead. */
const cacheKey = (url: string) => {
  const encoded = base64Url(url)
  return encoded.length <= 200 ? Effect.succeed(encoded) : Effect.map(sha256Hex(url), (hex) => `sha256-${hex}`)
}

export const makeDownloader = (options: DownloaderOptions) => {
  const { files, http } = options

  const attempt = (target: string, attempts: Ref.Ref<number>): Effect.Effect<Response, AttemptFailed> =>
    Effect.gen(function*() {
      yield* Ref.update(attempts, (n) => n + 1)
      const response = yield* http.execute(HttpClientRequest.get(target))
      if (response.status >= 400) {
        return yield* new AttemptFailed({
          httpStatus: response.status,
          reason: `HTTP ${response.status}`,
          retryable: response.status === 429 || response.status >= 500
        })
      }
      const buffer = yield* response.arrayBuffer
      return { bytes: new Uint8Array(buffer), contentType: response.headers["content-type"] ?? "", httpStatus: response.status }
    }).pipe(
      Effect.catchTags({
        RequestError: (error) => new AttemptFailed({ httpStatus: undefined, reason: error.message, retryable: true }),
        ResponseError: (error) => new AttemptFailed({ httpStatus: error.response.status, reason: error.message, retryable: true })
      }),
      Effect.timeoutFail({
        duration: options.timeout,
        onTimeout: () =>
          new AttemptFailed({ httpStatus: undefined, reason: `no answer within ${Duration.format(options.timeout)}`, retryable: true })
      })
    )

  const fetchWithRetries = (target: string, attempts: Ref.Ref<number>) =>
    attempt(target, attempts).pipe(
      Effect.retry({ schedule: retrySchedule(options.retry), while: (error) => error.retryable }),
      Effect.either
    )

  const readCache = (key: string) =>
    Effect.gen(function*() {
      const meta = yield* files.readText(`${options.cacheDir}/${key}.json`)
      const bytes = yield* files.readAllBytes(`${options.cacheDir}/${key}.bin`)
      if (meta === undefined || bytes === undefined) return Option.none()
      return Option.map(Schema.decodeUnknownOption(CacheEntry)(meta), (entry) => ({ entry, bytes }))
    })

  const writeCache = (key: string, url: string, response: Response, source: string | undefined) =>
    Effect.gen(function*() {
      yield* files.makeDirectory(options.cacheDir)
      yield* files.writeBytes(`${options.cacheDir}/${key}.bin`, response.bytes)
      const meta = yield* Schema.encode(CacheEntry)({
        url,
        content_type: response.contentType,
        http_status: response.httpStatus,
        source: source ?? null
      }).pipe(Effect.orDie)
      yield* files.writeAtomic(`${options.cacheDir}/${key}.json`, meta, { durable: false })
    })

  /** The URL's bytes, or why they could not be had; cache write failures fail the download too. */
  return (url: string) =>
    Effect.gen(function*() {
      const key = yield* cacheKey(url)
      const cached = yield* readCache(key)
      if (Option.isSome(cached)) {
        const { bytes, entry } = cached.value
        return Either.right<Downloaded>({
          outcome: "cached",
          bytes,
          contentType: entry.content_type,
          httpStatus: entry.http_status,
          source: entry.source ?? undefined,
          attempts: 0
        })
      }
      const attempts = yield* Ref.make(0)
      const direct = yield* fetchWithRetries(url, attempts)
      const archive = options.archiveBaseUrl === undefined || options.isOrigin(url) ? undefined : `${options.archiveBaseUrl}${url}`
      const result: Either.Either<{ readonly response: Response; readonly source: string | undefined }, AttemptFailed> =
        Either.isRight(direct) || archive === undefined
        ? Either.map(direct, (response) => ({ response, source: undefined }))
        : Either.map(yield* fetchWithRetries(archive, attempts), (response) => ({ response, source: archive }))
      const count = yield* Ref.get(attempts)
      if (Either.isLeft(result)) {
        const first = Either.isLeft(direct) ? direct.left : result.left
        const error = archive === undefined || Either.isRight(direct)
          ? result.left.reason
          : `${first.reason}; archive: ${result.left.reason}`
        return Either.left<DownloadFailed>({ httpStatus: first.httpStatus, error, attempts: count })
      }
      const { response, source } = result.right
      yield* writeCache(key, url, response, source)
      return Either.right<Downloaded>({
        outcome: source === undefined ? "fetched" : "archived",
        bytes: response.bytes,
        contentType: response.contentType,
        httpStatus: response.httpStatus,
        source,
        attempts: count
      })
    })
}
