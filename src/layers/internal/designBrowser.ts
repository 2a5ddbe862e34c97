/**
 * The design toolkit's use of the browser (Debian's Chromium through playwright-core, launched by
 * chromium.ts as `mirror check` does): a page at a breakpoint, settled, its full-page screenshot
 * with the masks applied, its rendered DOM and its computed-style census; and the viewport frames of
 * a scripted scroll. Every Playwright call is one Effect, so waits are Effect.sleep on the Clock.
 */
import { Duration, Effect, Schema } from "effect"
import type { Browser, BrowserContext, Page } from "playwright-core"
import type { Breakpoint } from "../../domain/DesignConfig.js"
import { Census, censusScript } from "../../domain/DesignTokens.js"
import { BrowserFailed } from "../../services/MirrorChecker.js"

export interface PageOptions {
  readonly masks: ReadonlyArray<string>
  readonly waitAfterLoadMs: number
  /** Requests to any other host are aborted (the reference copy must work offline). */
  readonly onlyHost?: string | undefined
}

const attempt = <A>(operation: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new BrowserFailed({ operation, cause }) })

/** A fresh context (no shared cache or storage) at the breakpoint's viewport; closed with the scope. */
const contextAt = (browser: Browser, breakpoint: Breakpoint) =>
  Effect.acquireRelease(
    attempt(`open a ${breakpoint.width}x${breakpoint.height} page`, () =>
      browser.newContext({ viewport: { width: breakpoint.width, height: breakpoint.height }, deviceScaleFactor: 1 })),
    (context: BrowserContext) => Effect.ignore(Effect.tryPromise(() => context.close()))
  )

/** Loads `url` and lets it settle: load, network idle (bounded), web fonts ready, then the configured wait. */
export const openPage = (browser: Browser, url: string, breakpoint: Breakpoint, options: PageOptions) =>
  Effect.gen(function*() {
    const context = yield* contextAt(browser, breakpoint)
    const page = yield* attempt("open a page", () => context.newPage())
    const onlyHost = options.onlyHost
    if (onlyHost !== undefined) {
      yield* attempt("block outbound requests", () =>
        page.route("**/*", (route) => {
          const target = new URL(route.request().url())
          const local = target.protocol === "data:" || target.protocol === "blob:" || target.host === onlyHost
          return local ? route.continue() : route.abort("blockedbyclient")
        }))
    }
    yield* attempt(`load ${url}`, () => page.goto(url, { waitUntil: "load", timeout: 30_000 }))
    yield* attempt("wait for the network", () => page.waitForLoadState("networkidle", { timeout: 5_000 }).catch(() => undefined))
    yield* attempt("wait for web fonts", () => page.evaluate("document.fonts.ready.then(() => true)"))
    yield* Effect.sleep(Duration.millis(options.waitAfterLoadMs))
    return page
  })

/**
 * The full page as PNG, animations stopped (finite ones finished, infinite ones at their start) so
 * two captures of the same page compare equal, the caret hidden, the masked elements boxed.
 */
export const fullPageScreenshot = (page: Page, masks: ReadonlyArray<string>) =>
  attempt("take a screenshot", async () =>
    new Uint8Array(
      await page.screenshot({
        fullPage: true,
        animations: "disabled",
        caret: "hide",
        mask: masks.map((selector) => page.locator(selector)),
        maskColor: "#ff00ff"
      })
    ))

/** The rendered DOM and the computed-style census, decoded (a page script could return anything). */
export const domAndCensus = (page: Page) =>
  Effect.gen(function*() {
    const dom = yield* attempt("read the DOM", () => page.content())
    const raw = yield* attempt("count computed styles", () => page.evaluate(censusScript))
    const census = yield* Schema.decodeUnknown(Census)(raw).pipe(
      Effect.mapError((cause) => new BrowserFailed({ operation: "read the computed-style census", cause }))
    )
    return { dom, census }
  })

/**
 * A scripted scroll from top to bottom in `steps` moves: one viewport PNG before the first move and
 * after each, `interval` apart, animations running.
 */
export const scrollFrames = (page: Page, steps: number, interval: Duration.Duration) =>
  Effect.gen(function*() {
    const frames: Array<Uint8Array> = []
    const height = yield* attempt("measure the page", () => page.evaluate("Math.max(0, document.documentElement.scrollHeight - window.innerHeight)"))
    const distance = typeof height === "number" ? height : 0
    for (let step = 0; step <= steps; step += 1) {
      if (step > 0) {
        const y = Math.round((distance * step) / steps)
        yield* attempt("scroll", () => page.evaluate(`window.scrollTo(0, ${y})`))
        yield* Effect.sleep(interval)
      }
      frames.push(yield* attempt("take a frame", async () => new Uint8Array(await page.screenshot({ caret: "hide" }))))
    }
    return frames
  })
