
import { createServer } from "node:http"
import { FileSystem, HttpServer, HttpServerRequest, HttpServerResponse, Path } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Console, Effect, Layer } from "effect"
import { type FileAccessError, InvalidFile, systemReason } from "../domain/FileErrors.js"
import { type CspChoice, fileHeaders, hasExtension, parseRange, requestTarget } from "../domain/MirrorServe.js"
import { isWithin } from "../domain/PathContainment.js"
import { Files } from "../services/Files.js"
import { type FolderServeRequest, MirrorServeFailed, MirrorServer, type MirrorServeRequest } from "../services/MirrorServer.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { mirrorProject } from "./internal/mirrorProject.js"

interface Served {
  readonly root: string
  readonly realRoot: string
  readonly csp: CspChoice
  readonly range: boolean
}

type Located = { readonly _tag: "Found"; readonly file: string; readonly size: number } | { readonly _tag: "Missing" } | {
  readonly _tag: "Outside"
}

/** A path the file system cannot resolve: a symbolic link loop (ELOOP) or a name too long (ENAMETOOLONG). */
const unresolvable = (error: FileAccessError) => /\b(ELOOP|ENAMETOOLONG)\b/.test(systemReason(error))

const statusText = { 400: "Bad Request", 403: "Forbidden", 404: "Not Found" } as const

const plain = (status: number, text: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.text(`${text}\n`, { status, headers: { "cache-control": "no-cache", ...headers } })

/**
 * `mirror serve` on @effect/platform's HTTP server (NodeHttpServer). File metadata goes through the
 * Files service; bodies stream from the platform FileSystem that the server's own context carries
 * (HttpServerResponse.file for whole files, a byte-bounded stream for ranges).
 */
export const MirrorServerLive = Layer.effect(
  MirrorServer,
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path
    const { roots } = yield* BaseConfig

    /** What is at `file`; nothing where the path cannot be resolved (a symbolic link loop), not a server error. */
    const inspect = (file: string) => files.info(file).pipe(Effect.catchIf(unresolvable, () => Effect.succeed(undefined)))

    /** MIR-4: a folder or an extension-less path serves its index.html; a symlink out of the root is refused. */
    const locate = (served: Served, segments: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const named = path.join(served.root, ...segments)
        const info = yield* inspect(named)
        const file = info?.type === "directory" || (info === undefined && !hasExtension(segments))
          ? path.join(named, "index.html")
          : named
        const found = file === named ? info : yield* inspect(file)
        if (found?.type !== "file") return { _tag: "Missing" } satisfies Located
        const real = yield* files.realPath(file)
        if (real === undefined || !isWithin(served.realRoot, real, path.sep)) return { _tag: "Outside" } satisfies Located
        return { _tag: "Found", file, size: found.size } satisfies Located
      })

    const respond = (served: Served, request: HttpServerRequest.HttpServerRequest, file: string, size: number) =>
      Effect.gen(function*() {
        const headers = fileHeaders(file, served.csp, served.range)
        const range = served.range ? parseRange(request.headers["range"], size) : { _tag: "Whole" as const }
        if (range._tag === "Unsatisfiable") return plain(416, "Range Not Satisfiable", { "content-range": `bytes */${size}` })
        const [status, start, length] = range._tag === "Part" ? [206, range.start, range.end - range.start + 1] : [200, 0, size]
        const partHeaders = range._tag === "Part" ? { ...headers, "content-range": `bytes ${range.start}-${range.end}/${size}` } : headers
        if (request.method === "HEAD") {
          return HttpServerResponse.empty({ status, headers: { ...partHeaders, "content-length": String(length) } })
        }
        if (range._tag === "Whole") return yield* HttpServerResponse.file(file, { headers })
        const fs = yield* FileSystem.FileSystem
        return HttpServerResponse.stream(fs.stream(file, { offset: start, bytesToRead: length }), {
          status,
          headers: partHeaders,
          contentLength: length
        })
      })

    const handler = (served: Served) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        if (request.method !== "GET" && request.method !== "HEAD") return plain(405, "Method Not Allowed", { allow: "GET, HEAD" })
        const target = requestTarget(request.url)
        if (target._tag === "Refused") return plain(target.status, statusText[target.status])
        const located = yield* locate(served, target.segments)
        if (located._tag === "Outside") return plain(403, "Forbidden")
        if (located._tag === "Missing") return plain(404, "Not Found")
        return yield* respond(served, request, located.file, located.size)
      }).pipe(Effect.catchAll(() => Effect.succeed(plain(500, "Internal Server Error"))))

    const withLog = (enabled: boolean) => <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
      enabled
        ? Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const response = yield* app
          yield* Console.error(`[mirror:serve] ${request.method} ${request.url} ${response.status}`)
          return response
        })
        : app

    const serve = (root: string, request: Omit<MirrorServeRequest, "project">, missingHint: string) =>
      Effect.gen(function*() {
        const realRoot = yield* files.realPath(root)
        if (realRoot === undefined || (yield* files.info(realRoot))?.type !== "directory") {
          return yield* new InvalidFile({ path: path.relative(roots.repoRoot, root), issues: ["the folder does not exist"], hint: missingHint })
        }
        const host = request.host ?? "127.0.0.1"
        const port = request.port ?? 4173
        const served: Served = { root, realRoot, csp: request.csp ?? "self", range: request.range ?? true }
        const context = yield* Layer.build(NodeHttpServer.layer(() => createServer(), { host, port })).pipe(
          Effect.mapError((cause) => new MirrorServeFailed({ address: `${host}:${port}`, cause }))
        )
        const server = yield* HttpServer.serveEffect(withLog(request.logRequests === true)(handler(served))).pipe(
          Effect.zipRight(HttpServer.HttpServer),
          Effect.provide(context)
        )
        const address = server.address
        const url = address._tag === "TcpAddress" ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}` : address.path
        return { url, root: path.relative(roots.repoRoot, root) }
      })

    const start = Effect.fn("MirrorServer.start")(function*(request: MirrorServeRequest) {
      const project = yield* mirrorProject(path, roots.repoRoot, request.project)
      return yield* serve(project.publicDir, request, `Run \`codex-orchestrator mirror fetch --project ${project.name}\` first.`)
    })

    const serveFolder = Effect.fn("MirrorServer.serveFolder")(function*(request: FolderServeRequest) {
      return yield* serve(request.root, request, "Serve a folder that exists.")
    })

    return MirrorServer.of({ start, serveFolder })
  })
)
