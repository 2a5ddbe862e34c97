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

/**
 * Empties every element a mask selects, in the page itself, so the saved DOM holds no more of it
 * than the screenshot shows: its children go, and every attribute but `id`, `class` and `style` (a
 * counter's value, an image's src, a title), leaving the box that keeps the layout and a
 * `data-codex-masked` attribute naming the selector. Returns how many elements it emptied.
 */
export const maskScript = (selectors: ReadonlyArray<string>) => `(() => {
  let masked = 0;
  for (const selector of ${JSON.stringify(selectors)}) {
    for (const element of document.querySelectorAll(selector)) {
      for (const name of element.getAttributeNames()) {
        if (name !== "id" && name !== "class" && name !== "style") element.removeAttribute(name);
      }
      element.replaceChildren();
      element.setAttribute("data-codex-masked", selector);
      masked += 1;
    }
  }
  return masked;
})()`

/**
 * The computed-style census (decoded: a page script could return anything), then the rendered DOM
 * with the masked elements emptied (the page is not used after this).
 */
export const domAndCensus = (page: Page, masks: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const raw = yield* attempt("count computed styles", () => page.evaluate(censusScript))
    const census = yield* Schema.decodeUnknown(Census)(raw).pipe(
      Effect.mapError((cause) => new BrowserFailed({ operation: "read the computed-style census", cause }))
    )
    const count = yield* attempt("mask the DOM", () => page.evaluate(maskScript(masks)))
    const dom = yield* attempt("read the DOM", () => page.content())
    return { dom, census, masked: typeof count === "number" ? count : 0 }
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
