/**
 * The design toolkit's fixture site, the README example's files
 * (examples/design/packages/studio/public): one page that changes layout between its two breakpoints
 * (three cards in a row on desktop, one column under 600px), a CSS animation (a spinner), and a web
 * font served from the same server (Open Sans as "Fixture Sans", Apache-2.0, see FONT-LICENSE.txt
 * there). Its colours and font, as site.css sets them, are known to the tests.
 */
import { join } from "node:path"
import { packageRoot } from "./cli.js"

/** The colours the fixture's CSS sets, as the tokens report them. */
export const fixtureColours = {
  text: "#1a2b3c",
  background: "#fdf6e3",
  heading: "#d33682",
  button: "#268bd2",
  cardBorder: "#859900"
} as const

export const fixtureFont = "Fixture Sans"

/** The example site's folder: the README runs the toolkit on it, served by `mirror serve`. */
export const studioSite = join(packageRoot, "examples", "design", "packages", "studio", "public")

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
