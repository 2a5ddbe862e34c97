/**
 * A static website on 127.0.0.1 for the mirror tests: it answers each path (query included) from a
 * table the test can change while it runs, and records every request. Pages may hold `{self}` and
 * `{<name>}` placeholders, filled in by the test once every server's port is known.
 */
import { createServer } from "node:http"

export interface Page {
  readonly status?: number
  readonly type?: string
  readonly body: string | Uint8Array
}

export interface SiteServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string
  /** Request targets (path and query) in arrival order. */
  readonly requests: Array<string>
  /** The table of pages by path and query; change it to change what is served. */
  readonly pages: Map<string, Page>
  /** Answers a path with `status` (and no body) its first `times` requests, then from the table. */
  readonly failFirst: (target: string, times: number, status: number) => void
  readonly close: () => Promise<void>
}

/** Starts a server answering from `pages` (404 for anything else). */
export const startSite = (pages: ReadonlyMap<string, Page> = new Map()): Promise<SiteServer> =>
  new Promise((resolvePromise, reject) => {
    const table = new Map(pages)
    const requests: Array<string> = []
    const failures = new Map<string, { left: number; status: number }>()
    const http = createServer((req, res) => {
      const target = req.url ?? "/"
      requests.push(target)
      const failure = failures.get(target)
      if (failure !== undefined && failure.left > 0) {
        failure.left -= 1
        res.writeHead(failure.status)
        res.end()
        return
      }
      const page = table.get(target)
      if (page === undefined) {
        res.writeHead(404, { "content-type": "text/plain" })
        res.end("not found")
        return
      }
      res.writeHead(page.status ?? 200, { "content-type": page.type ?? "text/html; charset=utf-8" })
      res.end(page.body)
    })
    http.once("error", reject)
    http.listen(0, "127.0.0.1", () => {
      const address = http.address()
      if (typeof address !== "object" || address === null) {
        reject(new Error("the site server has no port"))
        return
      }
      resolvePromise({
        baseUrl: `http://127.0.0.1:${address.port}`,
        requests,
        pages: table,
        failFirst: (target, times, status) => {
          failures.set(target, { left: times, status })
        },
        close: () =>
          new Promise<void>((done) => {
            http.closeAllConnections()
            http.close(() => done())
          })
      })
    })
  })

/** Replaces `{name}` placeholders with the given values. */
export const fill = (text: string, values: Readonly<Record<string, string>>): string =>
  text.replace(/\{(\w+)\}/g, (match, name: string) => values[name] ?? match)
