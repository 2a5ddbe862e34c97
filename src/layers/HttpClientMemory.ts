/**
 * The platform HttpClient answered by a function: no sockets, so tests (and embedders) drive a
 * server's replies and, with TestClock, every backoff between them.
 */
import { HttpClient, HttpClientError, type HttpClientRequest as Request, HttpClientResponse } from "@effect/platform"
import { Effect, Either, Layer, Schema } from "effect"

const parseJsonValue = Schema.decodeUnknownEither(Schema.parseJson())

/** A request as an in-memory HTTP handler sees it; the body is parsed JSON when it is JSON. */
export interface HandledRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/** A status with an optional JSON body, or a failure to connect. */
export type HandlerReply =
  | { readonly status: number; readonly body?: unknown }
  | { readonly transportError: string }

const bodyOf = (request: Request.HttpClientRequest): unknown => {
  if (request.body._tag !== "Uint8Array") return undefined
  const text = new TextDecoder().decode(request.body.body)
  return Either.getOrElse(parseJsonValue(text), () => text)
}

/**
 * An HttpClient answered by a function, for tests and embedders (no sockets; drive backoff with
 * TestClock). `transportError` replies fail like a refused connection.
 */
export const HttpClientMemory = (handler: (request: HandledRequest) => Effect.Effect<HandlerReply>) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, url) =>
      Effect.flatMap(
        handler({ method: request.method, url: url.toString(), headers: { ...request.headers }, body: bodyOf(request) }),
        (reply) =>
          "transportError" in reply
            ? Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error(reply.transportError) }))
            : Effect.succeed(HttpClientResponse.fromWeb(
              request,
              new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
                status: reply.status,
                headers: { "content-type": "application/json" }
              })
            ))
      )
    )
  )
