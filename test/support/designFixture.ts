/**
 * The design toolkit's fixture site on 127.0.0.1: one page that changes layout between its two
 * breakpoints (three cards in a row on desktop, one column under 600px), a CSS animation (a spinner),
 * and a web font served from the same server (Open Sans as "Fixture Sans", Apache-2.0, see
 * test/fixtures/design/FIXTURE-SANS-LICENSE.txt). Its colours and font are known to the tests.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { packageRoot } from "./cli.js"
import { type Page, type SiteServer, startSite } from "./siteServer.js"

/** The colours the fixture's CSS sets, as the tokens report them. */
export const fixtureColours = {
  text: "#1a2b3c",
  background: "#fdf6e3",
  heading: "#d33682",
  button: "#268bd2",
  cardBorder: "#859900"
} as const

export const fixtureFont = "Fixture Sans"

const css = `
@font-face { font-family: "Fixture Sans"; src: url("/assets/fonts/fixture-sans.woff2") format("woff2"); font-display: block; }
body { margin: 0; font-family: "Fixture Sans", sans-serif; color: ${fixtureColours.text}; background: ${fixtureColours.background}; }
.hero { padding: 48px 32px; }
h1 { font-size: 48px; font-weight: 700; color: ${fixtureColours.heading}; margin: 0 0 16px; }
.lede { font-size: 20px; margin: 0 0 24px; }
.cta { display: inline-block; background: ${fixtureColours.button}; color: #ffffff; border-radius: 12px; padding: 12px 24px; text-decoration: none; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 24px; padding: 0 32px 48px; }
.card { border: 2px solid ${fixtureColours.cardBorder}; border-radius: 8px; padding: 16px; min-height: 320px; }
.spinner { width: 40px; height: 40px; margin: 0 32px 48px; border: 4px solid #2aa198; border-top-color: transparent; border-radius: 50%; animation: spin 1s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
footer { padding: 24px 32px; font-size: 14px; }
@media (max-width: 600px) { .cards { grid-template-columns: 1fr; } h1 { font-size: 32px; } }
`

const card = (n: number) => `<article class="card"><h2>Service ${n}</h2><p>What we do, explained in a sentence or two.</p></article>`

const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fixture Studio</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/site.css"></head>
<body>
<header class="hero"><h1>Fixture Studio</h1><p class="lede">Design systems, captured.</p><a class="cta" href="/about/">Talk to us</a></header>
<section class="cards">${[1, 2, 3].map(card).join("")}</section>
<div class="spinner" aria-label="loading"></div>
<footer>Fixture Studio, 2026</footer>
</body></html>
`

export const startDesignFixture = (): Promise<SiteServer> =>
  startSite(new Map<string, Page>([
    ["/", { body: html }],
    ["/assets/site.css", { type: "text/css; charset=utf-8", body: css }],
    ["/assets/fonts/fixture-sans.woff2", { type: "font/woff2", body: new Uint8Array(readFileSync(join(packageRoot, "test", "fixtures", "design", "fixture-sans.woff2"))) }]
  ]))

/** design.config.yaml for the fixture: both breakpoints, the given diff threshold. */
export const fixtureDesignConfig = (baseUrl: string, maxPercent = 2) =>
  [
    "pipelines:",
    "  hi_fi_design_toolkit:",
    "    enabled: true",
    "    sources:",
    `      - url: ${baseUrl}/`,
    "        slug: fixture",
    "        title: Fixture Studio",
    "        breakpoints: [desktop, mobile]",
    "    interactions: { waitAfterLoadMs: 100, scrollSteps: 4, frameIntervalMs: 100 }",
    `    diff: { maxPercent: ${maxPercent} }`,
    ""
  ].join("\n")
