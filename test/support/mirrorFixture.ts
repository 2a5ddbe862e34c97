/**
 * The fixture site of the mirror tests, on three loopback servers: the origin (two pages with
 * trackers, a stylesheet, images, an OG image, a share link), a second host with external assets
 * (a script and an image with query strings, a stylesheet importing a font, an image that is gone)
 * and an archive service that still has the gone image.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fill, type Page, type SiteServer, startSite } from "./siteServer.js"

/** Bytes that are not valid UTF-8, so a text round trip would change them. */
export const binary = (seed: number): Uint8Array => Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + seed * 11) % 256)

export const indexHtml = `<!doctype html>
<html><head>
<meta charset="utf-8">
<title>Fixture</title>
<link rel="stylesheet" href="/assets/site.css">
<link rel="preconnect" href="{cdn}">
<link rel="canonical" href="{origin}/">
<meta property="og:image" content="{origin}/images/og.png">
<meta name="twitter:image" content="{cdn}/cdn/card.png?v=2">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());</script>
<script src="{cdn}/cdn/lib.js?ver=1.2"></script>
</head><body>
<!-- google-analytics.com snippet removed by the site owner -->
<a href="{origin}/about/">About</a>
<a href="https://www.facebook.com/sharer/sharer.php?u=x">Share</a>
<img src="/images/logo.png" srcset="/images/logo.png 1x, {cdn}/cdn/logo@2x.png 2x" alt="logo">
<img src="{cdn}/cdn/gone.png" alt="gone">
<noscript><img src="https://www.facebook.com/tr?id=1&ev=PageView"></noscript>
<div style="background: url('/images/bg.png')">hello</div>
</body></html>
`

export const aboutHtml = `<!doctype html>
<html><head><title>About</title><link rel="stylesheet" href="../assets/site.css"></head>
<body><a href="/">Home</a><p>About us.</p></body></html>
`

export const siteCss = `@import url("{cdn}/cdn/font.css");
body { background: url(../images/bg.png) }
.logo { background-image: url("{origin}/images/logo.png") }
`

export const fontCss = `@font-face { font-family: F; src: url(fonts/f.woff2) format("woff2") }
`

export const libJs = `window.lib = { api: "{origin}/api/data.json" };
`

export interface MirrorFixture {
  readonly origin: SiteServer
  readonly cdn: SiteServer
  readonly archive: SiteServer
  /** `{origin}`, `{cdn}` and `{archive}` for `fill`. */
  readonly values: Readonly<Record<string, string>>
  readonly close: () => Promise<void>
}

const html = (body: string): Page => ({ body })

export const startMirrorFixture = async (): Promise<MirrorFixture> => {
  const [origin, cdn, archive] = await Promise.all([startSite(), startSite(), startSite()])
  const values = { origin: origin.baseUrl, cdn: cdn.baseUrl, archive: archive.baseUrl }
  const set = (site: SiteServer, entries: ReadonlyArray<readonly [string, Page]>) => {
    for (const [target, page] of entries) site.pages.set(target, typeof page.body === "string" ? { ...page, body: fill(page.body, values) } : page)
  }
  set(origin, [
    ["/", html(indexHtml)],
    ["/about/", html(aboutHtml)],
    ["/assets/site.css", { type: "text/css", body: siteCss }],
    ["/images/logo.png", { type: "image/png", body: binary(1) }],
    ["/images/og.png", { type: "image/png", body: binary(2) }],
    ["/images/bg.png", { type: "image/png", body: binary(3) }]
  ])
  set(cdn, [
    ["/cdn/lib.js?ver=1.2", { type: "application/javascript", body: libJs }],
    ["/cdn/card.png?v=2", { type: "image/png", body: binary(4) }],
    ["/cdn/logo@2x.png", { type: "image/png", body: binary(5) }],
    ["/cdn/font.css", { type: "text/css", body: fontCss }],
    ["/cdn/fonts/f.woff2", { type: "font/woff2", body: binary(6) }]
  ])
  set(archive, [[`/web/0if_/${cdn.baseUrl}/cdn/gone.png`, { type: "image/png", body: binary(7) }]])
  return {
    origin,
    cdn,
    archive,
    values,
    close: async () => {
      await Promise.all([origin.close(), cdn.close(), archive.close()])
    }
  }
}

/** The fixture's mirror.config.json for `project`. */
export const fixtureConfig = (fixture: MirrorFixture, extra: Readonly<Record<string, unknown>> = {}) => ({
  origin: fixture.origin.baseUrl,
  routes: ["/", "/about/"],
  archiveBaseUrl: `${fixture.archive.baseUrl}/web/0if_/`,
  ...extra
})

/** Writes `packages/<project>/mirror.config.json` under `repoDir`. */
export const writeMirrorConfig = (repoDir: string, project: string, config: unknown): void => {
  mkdirSync(join(repoDir, "packages", project), { recursive: true })
  writeFileSync(
    join(repoDir, "packages", project, "mirror.config.json"),
    typeof config === "string" ? config : `${JSON.stringify(config, null, 2)}\n`
  )
}
