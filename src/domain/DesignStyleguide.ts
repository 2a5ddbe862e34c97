/**
 * The style guide page (`design styleguide`): one static HTML file per source that shows its tokens
 * (swatches, type, spacing, radii, with their use counts) beside the screenshots of each breakpoint,
 * for a person to open in a browser. Self-contained: it links only files in its own folder.
 */
import type { DesignTokens, TokenValue } from "./DesignTokens.js"

export interface StyleguideShot {
  readonly breakpoint: string
  readonly width: number
  /** Relative to the page. */
  readonly href: string
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const uses = (token: TokenValue) => `${token.count} use${token.count === 1 ? "" : "s"}`

const list = (title: string, values: ReadonlyArray<TokenValue>, sample: (value: string) => string) =>
  values.length === 0 ? "" : [
    `<section><h2>${escapeHtml(title)}</h2><ul class="tokens">`,
    ...values.map((token) => `<li>${sample(token.value)}<code>${escapeHtml(token.value)}</code><small>${uses(token)}</small></li>`),
    "</ul></section>"
  ].join("\n")

const style = `
body { margin: 0; font: 14px/1.5 system-ui, sans-serif; color: #1d1d1f; background: #fafafa; }
header { padding: 24px 32px; background: #fff; border-bottom: 1px solid #ddd; }
main { display: grid; grid-template-columns: minmax(320px, 1fr) 2fr; gap: 32px; padding: 32px; }
h1 { margin: 0; font-size: 22px; } h2 { font-size: 16px; margin: 24px 0 8px; }
ul.tokens { list-style: none; padding: 0; margin: 0; display: grid; gap: 6px; }
ul.tokens li { display: flex; align-items: center; gap: 10px; }
code { font: 12px ui-monospace, monospace; } small { color: #666; margin-left: auto; }
.swatch { width: 28px; height: 28px; border-radius: 4px; border: 1px solid #0002; flex: none; }
.bar { height: 10px; background: #6b7cff; border-radius: 2px; flex: none; }
.radius { width: 28px; height: 28px; border: 2px solid #6b7cff; flex: none; }
.shots { display: grid; gap: 24px; align-content: start; }
figure { margin: 0; } figure img { max-width: 100%; border: 1px solid #ddd; background: #fff; }
`

/** The page for one source's tokens and screenshots. */
export const styleguideHtml = (tokens: DesignTokens, shots: ReadonlyArray<StyleguideShot>): string => {
  const px = (value: string) => Math.min(240, Math.max(1, Number.parseFloat(value) || 1))
  const sections = [
    list("Colours", tokens.colors, (v) => `<span class="swatch" style="background:${escapeHtml(v)}"></span>`),
    list("Font families", tokens.fontFamilies, (v) => `<span style="font-family:&quot;${escapeHtml(v)}&quot;">Aa</span>`),
    list("Font sizes", tokens.fontSizes, (v) => `<span style="font-size:${px(v)}px">Aa</span>`),
    list("Font weights", tokens.fontWeights, (v) => `<span style="font-weight:${escapeHtml(v)}">Aa</span>`),
    list("Spacing", tokens.spacing, (v) => `<span class="bar" style="width:${px(v)}px"></span>`),
    list("Radii", tokens.radii, (v) => `<span class="radius" style="border-radius:${escapeHtml(v)}"></span>`)
  ]
  const figures = shots.map((shot) =>
    `<figure><figcaption>${escapeHtml(shot.breakpoint)} (${shot.width}px)</figcaption>` +
    `<img src="${escapeHtml(shot.href)}" alt="${escapeHtml(tokens.title)} at ${escapeHtml(shot.breakpoint)}"></figure>`
  )
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(tokens.title)}: style guide</title>`,
    `<link rel="stylesheet" href="tokens.css"><style>${style}</style></head><body>`,
    `<header><h1>${escapeHtml(tokens.title)}</h1><div>${escapeHtml(tokens.url)}: tokens ranked by use, ` +
    `breakpoints ${escapeHtml(tokens.breakpoints.join(", "))}</div></header>`,
    `<main><div class="tokens-column">${sections.join("\n")}</div>`,
    `<div class="shots">${figures.join("\n")}</div></main>`,
    "</body></html>",
    ""
  ].join("\n")
}

/**
 * The reference copy's scroll fallback: after load, if the document is taller than the window but
 * neither the root nor the body lets it scroll (a site that unlocks scrolling from a script the copy
 * no longer runs), scrolling is enabled. A page that scrolls is left alone.
 */
export const scrollFallbackScript = `<script id="codex-scroll-fallback">
window.addEventListener("load", function () {
  var root = document.documentElement, body = document.body;
  if (!body) return;
  var locked = [root, body].some(function (el) { var o = getComputedStyle(el).overflowY; return o === "hidden" || o === "clip"; });
  if (root.scrollHeight > window.innerHeight + 1 && locked) {
    root.style.overflowY = "auto"; body.style.overflowY = "auto";
    root.setAttribute("data-codex-scroll-fallback", "on");
  }
});
</script>`

/** The page with the fallback script before `</body>` (or at the end); once only. */
export const withScrollFallback = (html: string): string => {
  if (html.includes('id="codex-scroll-fallback"')) return html
  const close = html.toLowerCase().lastIndexOf("</body>")
  return close < 0 ? `${html}\n${scrollFallbackScript}\n` : `${html.slice(0, close)}${scrollFallbackScript}\n${html.slice(close)}`
}
