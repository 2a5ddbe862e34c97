/**
 * `mirror fetch|serve|check` (SPEC MIR-1..MIR-5). Each subcommand loads its layer on first use, so
 * the HTML parser, the HTTP server and Playwright cost nothing to the other commands' start-up.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Layer, Option, Schema } from "effect"
import type { MirrorFetchResult } from "../services/MirrorFetcher.js"
import { MirrorFetcher } from "../services/MirrorFetcher.js"
import { format, printJson, verbose } from "./shared.js"

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

const fetcherLayer = Layer.unwrapEffect(Effect.promise(async () => {
  const [FetchHttpClient, { MirrorFetcherLive }] = await Promise.all([
    import("@effect/platform/FetchHttpClient"),
    import("../layers/MirrorFetcher.js")
  ])
  return MirrorFetcherLive.pipe(Layer.provide(FetchHttpClient.layer))
}))

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
    format,
    verbose
  },
  (flags) =>
    Effect.gen(function*() {
      const fetcher = yield* MirrorFetcher
      const result = yield* fetcher.fetch({
        project: flags.project,
        configPath: Option.getOrUndefined(flags.config),
        dryRun: flags.dryRun,
        force: flags.force,
        archiveFallback: Option.getOrUndefined(Option.map(flags.archiveFallback, (value) => value === "true")),
        concurrency: Math.max(1, flags.concurrency)
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
      "Exit 0 when every URL was mirrored, 1 when some failed, 2 on a bad config."
  ),
  Command.provide(fetcherLayer)
)

export const mirror = Command.make("mirror").pipe(
  Command.withDescription("Mirror a website for local, tracker-free use: fetch it, serve it, check it in a browser."),
  Command.withSubcommands([fetchCommand])
)
