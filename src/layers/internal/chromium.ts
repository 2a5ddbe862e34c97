/**
 * Debian's Chromium, driven by playwright-core (never a browser Playwright downloads). playwright-core
 * is imported on first use only: it stays out of the CLI bundle (scripts/bundle.mjs marks it
 * external) and out of every other command's start-up.
 */
import { createRequire } from "node:module"
import { Config, Effect, Option } from "effect"
import type { Browser } from "playwright-core"
import type { Files } from "../../services/Files.js"
import { BrowserFailed, BrowserNotFound } from "../../services/MirrorChecker.js"

const candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"]

/**
 * Flags for a headless Chromium on a closed network: no sandbox (we may run as root), no GPU, and no
 * background connections (updates, sync, QUIC probes) that the network would refuse by the dozen.
 */
export const chromiumArgs: ReadonlyArray<string> = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** CHROMIUM_PATH when set (it must exist), else the first of Debian's and Google's usual paths that does. */
export const findChromium = (files: Files["Type"]) =>
  Effect.gen(function*() {
    const configured = yield* Config.string("CHROMIUM_PATH").pipe(
      Config.option,
      Config.map(Option.filter((value) => value.length > 0)),
      Effect.orElseSucceed(() => Option.none<string>())
    )
    const tried = Option.match(configured, { onNone: () => candidates, onSome: (path) => [path] })
    for (const path of tried) {
      if ((yield* files.info(path))?.type === "file") return path
    }
    return yield* new BrowserNotFound({
      tried: Option.isSome(configured) ? [`CHROMIUM_PATH=${configured.value}`] : candidates
    })
  })

/**
 * playwright-core, required when first needed. Not `import()`: the CLI bundle runs as a vm Script
 * (scripts/bin-loader.cjs, for its code cache), where a dynamic import has no loader.
 */
const loadPlaywright = (): typeof import("playwright-core") => createRequire(import.meta.url)("playwright-core")

/** A browser for the scope; closed with it. Playwright gives it a fresh profile (user data dir) of its own. */
export const launchChromium = (executablePath: string, headed: boolean) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async (): Promise<Browser> => {
        const { chromium } = loadPlaywright()
        return chromium.launch({ executablePath, headless: !headed, args: [...chromiumArgs] })
      },
      catch: (cause) => new BrowserFailed({ operation: `start (${executablePath})`, cause })
    }),
    (browser) => Effect.ignore(Effect.tryPromise(() => browser.close()))
  )
