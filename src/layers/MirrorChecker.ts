import { Path } from "@effect/platform"
import { DateTime, Effect, Layer, Schema } from "effect"
import type { Browser } from "playwright-core"
import { parseTaskId } from "../domain/Ids.js"
import {
  absoluteReferences,
  type CheckedRoute,
  type CheckIssue,
  CheckReport,
  isOutbound,
  routeSlug,
  trackersIn
} from "../domain/MirrorCheck.js"
import type { MirrorSettings } from "../domain/MirrorConfig.js"
import { mirrorRunName } from "../domain/MirrorManifest.js"
import { Files } from "../services/Files.js"
import { BrowserFailed, MirrorChecker, type MirrorCheckRequest } from "../services/MirrorChecker.js"
import { MirrorServer } from "../services/MirrorServer.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { findChromium, launchChromium } from "./internal/chromium.js"
import { loadMirrorSettings, mirrorProject } from "./internal/mirrorProject.js"

const encodeReport = Schema.encode(Schema.parseJson(CheckReport, { space: 2 }))

const textType = /^(text\/|application\/(javascript|json|xml|ld\+json)|image\/svg\+xml)/i

interface Visit {
  readonly status: number | null
  readonly issues: ReadonlyArray<Omit<CheckIssue, "route">>
  readonly screenshot: Uint8Array
}

/**
 * One route in a fresh page: requests leaving the allowed hosts are reported and aborted before they
 * leave; >= 400 responses and failed requests (media aside) are reported, text responses and the
 * final DOM are searched for trackers and absolute references; then a full-page screenshot.
 */
const visit = async (browser: Browser, url: string, settings: MirrorSettings, server: URL): Promise<Visit> => {
  const issues: Array<Omit<CheckIssue, "route">> = []
  const scans: Array<Promise<void>> = []
  const aborted = new Set<string>()
  // The server's CSP would stop some outbound requests before the route handler sees them; the check
  // judges what the mirrored pages ask for, so it sees every request.
  const page = await browser.newPage({ bypassCSP: true })
  try {
    await page.route("**/*", (route) => {
      const target = new URL(route.request().url())
      if (!isOutbound(target, settings, server)) return route.continue()
      aborted.add(target.href)
      issues.push({ kind: "outbound-request", detail: `request to ${target.host} blocked: ${target.href}` })
      return route.abort("blockedbyclient")
    })
    page.on("response", (response) => {
      if (response.status() >= 400) issues.push({ kind: "http-error", detail: `HTTP ${response.status()} ${response.url()}` })
      else if (textType.test(response.headers()["content-type"] ?? "")) {
        scans.push(response.text().then((text) => {
          for (const pattern of trackersIn(text, settings)) issues.push({ kind: "tracker", detail: `/${pattern}/ in ${response.url()}` })
        }, () => undefined))
      }
    })
    page.on("requestfailed", (request) => {
      if (aborted.has(request.url()) || request.resourceType() === "media") return
      issues.push({ kind: "request-failed", detail: `${request.url()}: ${request.failure()?.errorText ?? "failed"}` })
    })
    const response = await page.goto(url, { waitUntil: "load", timeout: 30_000 })
    await page.waitForLoadState("networkidle", { timeout: 5_000 }).catch(() => undefined)
    await Promise.all(scans)
    const status = response?.status() ?? null
    if (status !== 200) issues.push({ kind: "route-status", detail: `${url} answered ${status ?? "nothing"}` })
    const html = await page.content()
    for (const pattern of trackersIn(html, settings)) issues.push({ kind: "tracker", detail: `/${pattern}/ in the DOM of ${url}` })
    for (const reference of absoluteReferences(html, settings)) issues.push({ kind: "absolute-reference", detail: reference })
    const screenshot = await page.screenshot({ fullPage: true })
    return { status, issues, screenshot: new Uint8Array(screenshot) }
  } finally {
    await page.close()
  }
}

/**
 * `mirror check` on Debian's Chromium through playwright-core, a temporary MirrorServer (unless a
 * port is given) and the Files service: `.runs/<task>/mirror/<project>/check-<timestamp>/` gets
 * report.json and one `<route>.png` per route.
 */
export const MirrorCheckerLive = Layer.effect(
  MirrorChecker,
  Effect.gen(function*() {
    const files = yield* Files
    const path = yield* Path.Path
    const server = yield* MirrorServer
    const { envTaskId, roots } = yield* BaseConfig

    const baseUrlOf = (request: MirrorCheckRequest) =>
      request.port === undefined
        ? Effect.map(server.start({ project: request.project, port: 0 }), (serving) => serving.url)
        : Effect.succeed(`http://127.0.0.1:${request.port}`)

    const checkRoute = (browser: Browser, base: string, route: string, settings: MirrorSettings, dir: string) =>
      Effect.gen(function*() {
        const url = new URL(route, `${base}/`).href
        const result = yield* Effect.tryPromise({
          try: () => visit(browser, url, settings, new URL(base)),
          catch: (cause) => new BrowserFailed({ operation: `load ${url}`, cause })
        })
        const screenshot = `${routeSlug(route)}.png`
        yield* files.writeBytes(path.join(dir, screenshot), result.screenshot)
        const checked: CheckedRoute = { route, url, http_status: result.status, screenshot }
        return { checked, issues: result.issues.map((issue) => ({ route, ...issue })) }
      })

    const check = Effect.fn("MirrorChecker.check")(function*(request: MirrorCheckRequest) {
      const project = yield* mirrorProject(path, roots.repoRoot, request.project, request.configPath)
      const settings = yield* loadMirrorSettings(files, path, roots.repoRoot, project)
      const taskId = envTaskId === undefined ? "adhoc" : yield* parseTaskId(envTaskId, "MCP_RUNNER_TASK_ID")
      const executable = yield* findChromium(files)
      const checkedAt = DateTime.formatIso(yield* DateTime.now)
      const dir = path.join(roots.runsRoot, taskId, "mirror", project.name, `check-${mirrorRunName(checkedAt)}`)
      const base = yield* baseUrlOf(request)
      const browser = yield* launchChromium(executable, request.headed === true)
      yield* files.makeDirectory(dir)
      // A check that fails or is interrupted before its report leaves no folder of screenshots without one.
      const visits = yield* Effect.forEach(settings.routes, (route) => checkRoute(browser, base, route, settings, dir)).pipe(
        Effect.onError(() => Effect.ignore(files.removeTree(dir)))
      )
      const issues = visits.flatMap((v) => v.issues)
      const report: CheckReport = {
        version: 1,
        project: project.name,
        base_url: base,
        browser: `${executable} ${browser.version()}`,
        checked_at: checkedAt,
        status: issues.length === 0 ? "passed" : "failed",
        routes: visits.map((v) => v.checked),
        issues
      }
      const reportPath = path.join(dir, "report.json")
      yield* files.writeAtomic(reportPath, `${yield* Effect.orDie(encodeReport(report))}\n`)
      return { report, reportPath: path.relative(roots.repoRoot, reportPath) }
    }, Effect.scoped)

    return MirrorChecker.of({ check })
  })
)
