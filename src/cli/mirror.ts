/**
 * `mirror fetch|serve|check` (SPEC MIR-1..MIR-5). Each subcommand loads its layer on first use, so
 * the HTML parser, the HTTP server and Playwright cost nothing to the other commands' start-up.
 */
import { Command, Options } from "@effect/cli"
import { Config, Console, Effect, Option, Schema } from "effect"
import type { MirrorFetchResult } from "../services/MirrorFetcher.js"
import { defaultMaxAssetMib, MirrorFetcher } from "../services/MirrorFetcher.js"
import { MirrorServer } from "../services/MirrorServer.js"
import { checkSummary } from "../domain/MirrorCheck.js"
import { cspProblem } from "../domain/MirrorServe.js"
import { MirrorChecker, type MirrorCheckResult } from "../services/MirrorChecker.js"
import { MirrorCheckerLayer, MirrorFetcherLayer, MirrorServerLayer } from "../layers/ToolLayers.js"
import { format, printJson, verbose } from "./shared.js"
import { UsageError } from "./usage.js"

/** `mirror fetch` ended with failed URLs; the result is printed, the exit code is 1 (MIR-3). */
export class MirrorIncomplete extends Schema.TaggedError<MirrorIncomplete>()("MirrorIncomplete", {
  status: Schema.String,
  failed: Schema.Int,
  manifest: Schema.String
}) {
  override get message() {
    return `mirror ${this.status}: ${this.failed} URL(s) failed; see ${this.manifest}`
  }
}

/** `mirror check` found issues; they are printed, the exit code is 1 (MIR-5). */
export class MirrorCheckFailed extends Schema.TaggedError<MirrorCheckFailed>()("MirrorCheckFailed", {
  issues: Schema.Int,
  report: Schema.String
}) {
  override get message() {
    return `mirror check found ${this.issues} issue(s); see ${this.report} and the screenshots beside it`
  }
}

/** A port the system accepts (up to 65535; 0 only where a free one may be picked), else a usage error (exit 2). */
const validPort = (port: number, min: 0 | 1, fix: string) =>
  Number.isInteger(port) && port >= min && port <= 65535
    ? Effect.succeed(port)
    : Effect.fail(new UsageError({ reason: `--port ${port} is not a port; ${fix}.` }))

const validCsp = (csp: string) => {
  const problem = cspProblem(csp)
  return problem === undefined
    ? Effect.succeed(csp)
    : Effect.fail(new UsageError({ reason: `--csp ${JSON.stringify(csp)} cannot be served: ${problem}; give self, strict, off or a policy on one line.` }))
}

const project = Options.text("project").pipe(
  Options.withDescription("The project: packages/<project>/ holds mirror.config.json and receives public/")
)

const fetchText = ({ manifest, manifestPath }: MirrorFetchResult) => {
  const t = manifest.totals
  return [
    `Mirror of ${manifest.origin} (${manifest.project}): ${manifest.status}`,
    `URLs: ${t.urls} (${t.fetched} fetched, ${t.cached} cached, ${t.archived} archived, ${t.failed} failed), ${t.bytes} bytes`,
    `Promotion: ${manifest.promotion}${manifest.promotion === "promoted" ? ` -> ${manifest.public_dir}` : ""}`,
    `Staging: ${manifest.staging_dir}`,
    `Manifest: ${manifestPath}`,
    ...manifest.errors.map((error) => `  failed: ${error}`)
  ].join("\n")
}

const fetchJson = ({ manifest, manifestPath }: MirrorFetchResult) => ({
  status: manifest.status,
  promotion: manifest.promotion,
  manifest: manifestPath,
  staging_dir: manifest.staging_dir,
  public_dir: manifest.public_dir,
  totals: manifest.totals,
  errors: manifest.errors
})

const fetchCommand = Command.make(
  "fetch",
  {
    project,
    config: Options.file("config").pipe(
      Options.withDescription("Read this config file instead of packages/<project>/mirror.config.json"),
      Options.optional
    ),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("Download and stage, but never promote to public/")),
    force: Options.boolean("force").pipe(Options.withDescription("Promote even when some URLs failed (the exit code is still 1)")),
    archiveFallback: Options.choice("archive-fallback", ["true", "false"]).pipe(
      Options.withDescription(
        "Whether an asset on another host that fails is asked of the archive service (default: the config's " +
          "enableArchiveFallback, else true)"
      ),
      Options.optional
    ),
    concurrency: Options.integer("concurrency").pipe(
      Options.withDescription("Downloads at a time (default 6)"),
      Options.withDefault(6)
    ),
    maxAssetMb: Options.integer("max-asset-mb").pipe(
      Options.withDescription(
        `The most one URL may download, in MiB (default ${defaultMaxAssetMib}): a larger one is stopped and fails, ` +
          "naming the cap. Bodies stream to disk, so memory stays flat whatever the size"
      ),
      Options.withDefault(defaultMaxAssetMib)
    ),
    format,
    verbose
  },
  (flags) =>
    Effect.gen(function*() {
      if (flags.concurrency < 1) {
        return yield* new UsageError({ reason: `--concurrency must be 1 or more (got ${flags.concurrency}).` })
      }
      if (flags.maxAssetMb < 1) {
        return yield* new UsageError({ reason: `--max-asset-mb must be 1 or more (got ${flags.maxAssetMb}).` })
      }
      const fetcher = yield* MirrorFetcher
      const result = yield* fetcher.fetch({
        project: flags.project,
        configPath: Option.getOrUndefined(flags.config),
        dryRun: flags.dryRun,
        force: flags.force,
        archiveFallback: Option.getOrUndefined(Option.map(flags.archiveFallback, (value) => value === "true")),
        concurrency: flags.concurrency,
        maxAssetMib: flags.maxAssetMb
      })
      yield* flags.format === "json" ? printJson(fetchJson(result)) : Console.log(fetchText(result))
      const { manifest } = result
      if (manifest.status !== "ok") {
        return yield* new MirrorIncomplete({ status: manifest.status, failed: manifest.totals.failed, manifest: result.manifestPath })
      }
    })
).pipe(
  Command.withDescription(
    "Download a site into a clean local copy (MIR-1..3): the config's routes from the origin and every asset " +
      "they use, trackers stripped, links and assets rewritten to work offline. Stages under " +
      ".runs/<task>/mirror/<project>/<timestamp>/staging/public with a manifest of every URL, and replaces " +
      "packages/<project>/public when nothing failed (or with --force). Downloads are cached per project. " +
      "Exit 0 when every URL was mirrored, 1 when some failed, 2 on a bad config. " +
      "Example: codex-orchestrator mirror fetch --project site --dry-run"
  ),
  Command.provide(MirrorFetcherLayer)
)

const port = Options.integer("port").pipe(
  Options.withFallbackConfig(Config.integer("PORT")),
  Options.withDescription("The port (default: $PORT, else 4173; 0 picks a free one)"),
  Options.withDefault(4173)
)

const serveCommand = Command.make(
  "serve",
  {
    project,
    port,
    host: Options.text("host").pipe(
      Options.withDescription("The address to listen on (default 127.0.0.1; 0.0.0.0 shares the mirror with the network)"),
      Options.withDefault("127.0.0.1")
    ),
    csp: Options.text("csp").pipe(
      Options.withDescription(
        "Content-Security-Policy on HTML: self (default; the page's own origin, inline scripts allowed), strict, off, " +
          "or a policy given verbatim"
      ),
      Options.withDefault("self")
    ),
    noRange: Options.boolean("no-range").pipe(Options.withDescription("Ignore Range headers (always answer 200 with the whole file)")),
    verbose
  },
  (flags) =>
    Effect.gen(function*() {
      const serving = yield* (yield* MirrorServer).start({
        project: flags.project,
        host: flags.host,
        port: yield* validPort(flags.port, 0, "give 1-65535 (or 0 for a free one)"),
        csp: yield* validCsp(flags.csp),
        range: !flags.noRange,
        logRequests: true
      })
      yield* Console.log(`Serving ${serving.root} at ${serving.url}/`)
      yield* Console.error("[mirror:serve] press Ctrl-C to stop")
      return yield* Effect.never
    }).pipe(Effect.scoped)
).pipe(
  Command.withDescription(
    "Serve packages/<project>/public for a browser (MIR-4): GET and HEAD only (405 otherwise), nothing outside " +
      "the folder (403 for .. in any encoding, NUL bytes and symlinks leading out), folders and extension-less " +
      "paths serve their index.html, no listings (404), HTML with Cache-Control no-cache and the CSP, other files " +
      "immutable for a year, byte ranges (206, 416). Prints the address on stdout; one line per request on stderr. " +
      "Example: codex-orchestrator mirror serve --project site --port 4181"
  ),
  Command.provide(MirrorServerLayer)
)

const checkText = ({ report, reportPath }: MirrorCheckResult) =>
  [
    ...report.routes.map((route) => `  ${route.http_status ?? "---"} ${route.route} (screenshot ${route.screenshot ?? "none"})`),
    ...report.issues.map((issue) => `  [${issue.kind}] ${issue.route}: ${issue.detail}`),
    checkSummary(report.issues),
    `Report: ${reportPath}`
  ].join("\n")

const checkCommand = Command.make(
  "check",
  {
    project,
    config: Options.file("config").pipe(
      Options.withDescription("Read this config file instead of packages/<project>/mirror.config.json"),
      Options.optional
    ),
    port: Options.integer("port").pipe(
      Options.withDescription("Check the mirror already served on 127.0.0.1:<port>; without it a temporary server is started"),
      Options.optional
    ),
    headed: Options.boolean("headed").pipe(Options.withDescription("Show the browser window (default: headless)")),
    format,
    verbose
  },
  (flags) =>
    Effect.gen(function*() {
      const result = yield* (yield* MirrorChecker).check({
        project: flags.project,
        configPath: Option.getOrUndefined(flags.config),
        port: Option.isSome(flags.port)
          ? yield* validPort(flags.port.value, 1, "give the port the mirror is served on (1-65535)")
          : undefined,
        headed: flags.headed
      })
      yield* flags.format === "json"
        ? printJson({ status: result.report.status, report: result.reportPath, routes: result.report.routes, issues: result.report.issues })
        : Console.log(checkText(result))
      if (result.report.issues.length > 0) {
        return yield* new MirrorCheckFailed({ issues: result.report.issues.length, report: result.reportPath })
      }
    })
).pipe(
  Command.withDescription(
    "Check a mirror in a real browser (MIR-5): loads every route of the config in Chromium (Debian's chromium " +
      "package, or CHROMIUM_PATH) and reports routes that do not answer 200, requests to hosts outside the " +
      "allowlist (blocked before they leave), failed or >= 400 requests, tracker strings in responses and the " +
      "DOM, and absolute references to the origin. Writes report.json and a screenshot per route under " +
      ".runs/<task>/mirror/<project>/check-<timestamp>/. Exit 0 when clean, 1 with issues. " +
      "Example: codex-orchestrator mirror check --project site --port 4181"
  ),
  Command.provide(MirrorCheckerLayer)
)

/** `mirror`: fetch, check and serve a static mirror of a site. */
export const mirror = Command.make("mirror").pipe(
  Command.withDescription("Mirror a website for local, tracker-free use: fetch it, serve it, check it in a browser."),
  Command.withSubcommands([fetchCommand, serveCommand, checkCommand])
)
