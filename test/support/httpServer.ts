/**
 * A real HTTP server on 127.0.0.1 for the CLI integration tests: it listens on a free port (port 0),
 * records every request it receives (method, url, headers, parsed JSON body) and answers each one
 * with what `respond` says. Stop it with `close` (in a `finally`).
 */
import { createServer, type IncomingHttpHeaders } from "node:http"

export interface ReceivedRequest {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly headers: IncomingHttpHeaders
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  readonly body: unknown
}

export interface Reply {
  readonly status: number
  /** Sent as JSON; omitted, the body is empty. */
  readonly body?: unknown
}

export interface TestHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string
  /** Every request so far, in arrival order. */
  readonly received: ReadonlyArray<ReceivedRequest>
  readonly close: () => Promise<void>
}

const parseBody = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/** Starts a server answering request number `index` (0-based) with `respond(request, index)`. */
export const startHttpServer = (respond: (request: ReceivedRequest, index: number) => Reply): Promise<TestHttpServer> =>
  new Promise((resolvePromise, reject) => {
    const received: Array<ReceivedRequest> = []
    const http = createServer((req, res) => {
      let text = ""
      req.setEncoding("utf8")
      req.on("data", (chunk: string) => (text += chunk))
      req.on("end", () => {
        const request: ReceivedRequest = { method: req.method, url: req.url, headers: req.headers, body: parseBody(text) }
        received.push(request)
        const reply = respond(request, received.length - 1)
        res.writeHead(reply.status, { "content-type": "application/json" })
        res.end(reply.body === undefined ? "" : JSON.stringify(reply.body))
      })
    })
    http.once("error", reject)
    http.listen(0, "127.0.0.1", () => {
      const address = http.address()
      if (typeof address !== "object" || address === null) {
        reject(new Error("the test HTTP server has no port"))
        return
      }
      resolvePromise({
        baseUrl: `http://127.0.0.1:${address.port}`,
        received,
        close: () =>
          new Promise<void>((done) => {
            http.closeAllConnections()
            http.close(() => done())
          })
      })
    })
  })
