/**
 * The mirror and design tools' layers as the CLI and embedders use them: each loads its
 * implementation on first build (dynamic `import()`), so the HTML parser, the HTTP server, Playwright
 * and FFmpeg's runner cost nothing to a program that never builds them. They need the app's base services (`Files`, `BaseConfig`: the
 * `App.AppBaseLive` layer) and Node's platform services.
 */
import { Effect, Layer } from "effect"

/** `mirror fetch`: downloads through the platform's fetch-based HttpClient. */
export const MirrorFetcherLayer = Layer.unwrapEffect(Effect.promise(async () => {
  const [FetchHttpClient, { MirrorFetcherLive }] = await Promise.all([
    import("@effect/platform/FetchHttpClient"),
    import("./MirrorFetcher.js")
  ])
  return MirrorFetcherLive.pipe(Layer.provide(FetchHttpClient.layer))
}))

/** `mirror serve`: Node's HTTP server under @effect/platform's HttpServer. */
export const MirrorServerLayer = Layer.unwrapEffect(
  Effect.map(Effect.promise(() => import("./MirrorServer.js")), (module) => module.MirrorServerLive)
)

/** `mirror check`: Playwright on the system Chromium, with its own temporary server for the mirror. */
export const MirrorCheckerLayer = Layer.unwrapEffect(Effect.promise(async () => {
  const [{ MirrorCheckerLive }, { MirrorServerLive }] = await Promise.all([
    import("./MirrorChecker.js"),
    import("./MirrorServer.js")
  ])
  return MirrorCheckerLive.pipe(Layer.provide(MirrorServerLive))
}))

/** The three tools at once. */
export const MirrorToolsLayer = Layer.mergeAll(MirrorFetcherLayer, MirrorServerLayer, MirrorCheckerLayer)

/** The design toolkit's steps: Playwright, the mirror's HTTP server, and FFmpeg through the ProcessRunner. */
export const DesignToolkitLayer = Layer.unwrapEffect(Effect.promise(async () => {
  const [FetchHttpClient, { DesignToolkitLive }, { MirrorServerLive }, { ProcessRunnerLive }, { HostLive }] = await Promise.all([
    import("@effect/platform/FetchHttpClient"),
    import("./DesignToolkit.js"),
    import("./MirrorServer.js"),
    import("./ProcessRunner.js"),
    import("./Host.js")
  ])
  return DesignToolkitLive.pipe(
    Layer.provide(Layer.mergeAll(FetchHttpClient.layer, MirrorServerLive, ProcessRunnerLive.pipe(Layer.provide(HostLive))))
  )
}))
