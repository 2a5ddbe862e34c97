/**
 * One URL of a mirror, obtained once (SPEC MIR-2): from the per-project cache when it holds it, else
 * over HTTP with retries backing off on a Schedule (connection errors, 429 and 5xx), and, for a host
 * other than the origin that fails, from the archive service. Successes are cached as
 * `<base64url(url)>.bin` with a `.json` beside it; the body goes to the `.bin` as it arrives, so a
 * large asset never sits in memory, and one over `--max-asset-mb` is stopped and fails.
 */
import { FetchHttpClient, HttpClient, type HttpClientError, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Either, Option, Ref, Schema, Stream } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { UrlOutcome } from "../../domain/MirrorManifest.js"
import { type RetryPolicy, retrySchedule } from "../../domain/Retry.js"
import type { Files } from "../../services/Files.js"
import { causeMessages } from "./causeMessages.js"
import { sha256Hex } from "./sha256.js"

/** What a download got: the cached file holding the body and where it came from. */
export interface Downloaded {
  readonly outcome: Exclude<UrlOutcome, "failed">
  /** The cache's `.bin`: the body as it arrived, written there chunk by chunk. */
  readonly file: string
  readonly size: number
  /** Where the body was answered, redirects followed (the URL itself when the archive supplied it): what its relative URLs are relative to. */
  readonly answeredAt: string
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
  /** How long an attempt may wait for the response's headers, and then for each piece of its body. */
  readonly timeout: Duration.DurationInput
  /** The most one body may have, in MiB, and the flag that sets it (named in the reason of an asset over it). */
  readonly maxAssetMib: number
  readonly capFlag: string | undefined
}

const CacheEntry = Schema.parseJson(Schema.Struct({
  url: Schema.String,
  content_type: Schema.String,
  http_status: Schema.Int,
  source: Schema.NullOr(Schema.String),
  /** Where it was answered, when a redirect took it elsewhere (entries written before it have none). */
  answered_at: Schema.optional(Schema.String)
}))

/**
 * A response status or a transport problem, worth another attempt while retries last when
 * `retryable`; a body over the cap is `oversize`, asked of no one else.
 */
class AttemptFailed extends Schema.TaggedError<AttemptFailed>()("AttemptFailed", {
  httpStatus: Schema.UndefinedOr(Schema.Int),
  reason: Schema.String,
  retryable: Schema.Boolean,
  oversize: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

interface Response {
  readonly size: number
  readonly answeredAt: string
  readonly contentType: string
  readonly httpStatus: number
}

const base64Url = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

/** MIR-2's cache name; a URL too long for a file name (255 bytes) is named by its SHA-256 instead. */
const cacheKey = (url: string) => {
  const encoded = base64Url(url)
  return encoded.length <= 200 ? Effect.succeed(encoded) : Effect.map(sha256Hex(url), (hex) => `sha256-${hex}`)
}

/** An HTTP client's error with why (refused, reset, hung up), which its own message leaves to its causes. */
const clientReason = (error: HttpClientError.HttpClientError) => [error.message, ...causeMessages(error, 3)].join(": ")

/** A body over the cap: the reason names what was seen, the cap and the flag that raises it. */
const oversize = (httpStatus: number, maxMib: number, flag: string | undefined, what: (cap: string) => string) =>
  new AttemptFailed({
    httpStatus,
    reason: flag === undefined
      ? what(`the ${maxMib} MiB an asset may have`)
      : `${what(`the ${maxMib} MiB an asset may have (${flag} ${maxMib})`)}; raise ${flag} to mirror it`,
    retryable: false,
    oversize: true
  })

/**
 * One GET whose body goes to `bin` piece by piece as it arrives (a temp file renamed into place,
 * none left when it fails), counted against the cap. The timeout applies to the headers, then to
 * each piece: a large body that keeps arriving is never cut off.
 */
const attemptGet = (
  options: DownloaderOptions,
  target: string,
  bin: string,
  attempts: Ref.Ref<number>
): Effect.Effect<Response, AttemptFailed | FileAccessError> =>
  Effect.gen(function*() {
    const maxBytes = options.maxAssetMib * 1024 * 1024
    const waited = Duration.format(options.timeout)
    yield* Ref.update(attempts, (n) => n + 1)
    // Redirects followed here (fetch's own following hides where the page was answered).
    const response = yield* HttpClient.followRedirects(options.http, 10).execute(HttpClientRequest.get(target)).pipe(
      Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" }),
      Effect.timeoutFail({
        duration: options.timeout,
        onTimeout: () => new AttemptFailed({ httpStatus: undefined, reason: `no answer within ${waited}`, retryable: true })
      })
    )
    if (response.status >= 400) {
      return yield* new AttemptFailed({
        httpStatus: response.status,
        reason: `HTTP ${response.status}`,
        retryable: response.status === 429 || response.status >= 500
      })
    }
    if (response.status >= 300) {
      const why = response.headers["location"] === undefined ? "a redirect without a Location" : "still a redirect after 10"
      return yield* new AttemptFailed({ httpStatus: response.status, reason: `HTTP ${response.status}: ${why}`, retryable: false })
    }
    const tooLarge = (what: (cap: string) => string) => oversize(response.status, options.maxAssetMib, options.capFlag, what)
    const declared = Number(response.headers["content-length"] ?? Number.NaN)
    if (declared > maxBytes) return yield* tooLarge((cap) => `declares ${declared} bytes (Content-Length), over ${cap}`)
    let size = 0
    yield* options.files.writeAtomicStream(bin, (writer) =>
      response.stream.pipe(
        Stream.timeoutFail(() => new AttemptFailed({ httpStatus: undefined, reason: `no data for ${waited}`, retryable: true }), options.timeout),
        Stream.runForEach((bytes): Effect.Effect<void, AttemptFailed | FileAccessError> => {
          size += bytes.length
          return size > maxBytes ? Effect.fail(tooLarge((cap) => `over ${cap}: stopped at ${size} bytes`)) : writer.write(bytes)
        })
      ), { durable: false })
    return { size, answeredAt: response.request.url, contentType: response.headers["content-type"] ?? "", httpStatus: response.status }
  }).pipe(
    Effect.catchTags({
      RequestError: (error) => new AttemptFailed({ httpStatus: undefined, reason: clientReason(error), retryable: true }),
      ResponseError: (error) => new AttemptFailed({ httpStatus: error.response.status, reason: clientReason(error), retryable: true })
    })
  )

export const makeDownloader = (options: DownloaderOptions) => {
  const { files } = options

  const fetchWithRetries = (target: string, bin: string, attempts: Ref.Ref<number>) =>
    attemptGet(options, target, bin, attempts).pipe(
      Effect.retry({ schedule: retrySchedule(options.retry), while: (error) => error._tag === "AttemptFailed" && error.retryable }),
      Effect.map(Either.right),
      Effect.catchTag("AttemptFailed", (failed) => Effect.succeed(Either.left(failed)))
    )

  /** The cached body and its record, when both are there (the `.json` is written last). */
  const readCache = (key: string) =>
    Effect.gen(function*() {
      const file = `${options.cacheDir}/${key}.bin`
      const meta = yield* files.readText(`${options.cacheDir}/${key}.json`)
      const info = yield* files.info(file)
      if (meta === undefined || info?.type !== "file") return Option.none()
      return Option.map(Schema.decodeUnknownOption(CacheEntry)(meta), (entry) => ({ entry, file, size: info.size }))
    })

  const writeCacheEntry = (key: string, url: string, response: Response, source: string | undefined) =>
    Effect.gen(function*() {
      const meta = yield* Schema.encode(CacheEntry)({
        url,
        content_type: response.contentType,
        http_status: response.httpStatus,
        source: source ?? null,
        ...(source === undefined && response.answeredAt !== url ? { answered_at: response.answeredAt } : {})
      }).pipe(Effect.orDie)
      yield* files.writeAtomic(`${options.cacheDir}/${key}.json`, meta, { durable: false })
    })

  /**
   * The URL's body in the cache, or why it could not be had; cache write failures fail the download
   * too. An oversize body is asked of no archive: it would be as large there.
   */
  return (url: string) =>
    Effect.gen(function*() {
      const key = yield* cacheKey(url)
      const cached = yield* readCache(key)
      if (Option.isSome(cached)) {
        const { entry, file, size } = cached.value
        return Either.right<Downloaded>({
          outcome: "cached",
          file,
          size,
          answeredAt: entry.answered_at ?? url,
          contentType: entry.content_type,
          httpStatus: entry.http_status,
          source: entry.source ?? undefined,
          attempts: 0
        })
      }
      yield* files.makeDirectory(options.cacheDir)
      const bin = `${options.cacheDir}/${key}.bin`
      const attempts = yield* Ref.make(0)
      const direct = yield* fetchWithRetries(url, bin, attempts)
      const archive = options.archiveBaseUrl === undefined || options.isOrigin(url) || (Either.isLeft(direct) && direct.left.oversize)
        ? undefined
        : `${options.archiveBaseUrl}${url}`
      type Got = { readonly response: Response; readonly source: string | undefined }
      const result: Either.Either<Got, AttemptFailed> = Either.isRight(direct) || archive === undefined
        ? Either.map(direct, (response) => ({ response, source: undefined }))
        : Either.map(yield* fetchWithRetries(archive, bin, attempts), (response) => ({ response, source: archive }))
      const count = yield* Ref.get(attempts)
      if (Either.isLeft(result)) {
        const first = Either.isLeft(direct) ? direct.left : result.left
        const error = archive === undefined || Either.isRight(direct)
          ? result.left.reason
          : `${first.reason}; archive: ${result.left.reason}`
        return Either.left<DownloadFailed>({ httpStatus: first.httpStatus, error, attempts: count })
      }
      const { response, source } = result.right
      yield* writeCacheEntry(key, url, response, source)
      return Either.right<Downloaded>({
        outcome: source === undefined ? "fetched" : "archived",
        file: bin,
        size: response.size,
        answeredAt: source === undefined ? response.answeredAt : url,
        contentType: response.contentType,
        httpStatus: response.httpStatus,
        source,
        attempts: count
      })
    })
}
