/**
 * Design tokens from computed styles (issue 24, `design tokens`): the browser counts, for every
 * rendered element, the computed values it uses (the census); tokens are those values ranked by
 * use, written as `tokens.json` and as CSS custom properties. Pure, apart from the census script,
 * which is text that runs in the page.
 */
import { Schema } from "effect"

const Counts = Schema.Record({ key: Schema.String, value: Schema.Int })

/** What the census script returns for one page at one breakpoint: computed value -> elements using it. */
export const Census = Schema.Struct({
  colors: Counts,
  backgrounds: Counts,
  borders: Counts,
  fontFamilies: Counts,
  fontSizes: Counts,
  fontWeights: Counts,
  spacing: Counts,
  radii: Counts
})
export type Census = typeof Census.Type

/**
 * Runs in the page (Playwright `evaluate`), so it is plain JavaScript text with no outside
 * references. Text properties count only elements that hold text of their own; hidden elements are
 * skipped; zero, `auto` and `normal` are not spacing.
 */
export const censusScript = `(() => {
  const out = { colors: {}, backgrounds: {}, borders: {}, fontFamilies: {}, fontSizes: {}, fontWeights: {}, spacing: {}, radii: {} };
  const bump = (map, key) => { if (key) map[key] = (map[key] || 0) + 1; };
  const spacing = ["marginTop", "marginRight", "marginBottom", "marginLeft", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft", "rowGap", "columnGap"];
  const none = new Set(["", "0px", "auto", "normal"]);
  for (const el of document.querySelectorAll("body, body *")) {
    const s = getComputedStyle(el);
    if (s.display === "none" || s.visibility === "hidden") continue;
    const hasText = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim() !== "");
    if (hasText) {
      bump(out.colors, s.color);
      bump(out.fontFamilies, s.fontFamily);
      bump(out.fontSizes, s.fontSize);
      bump(out.fontWeights, s.fontWeight);
    }
    bump(out.backgrounds, s.backgroundColor);
    if (parseFloat(s.borderTopWidth) > 0 && s.borderTopStyle !== "none") bump(out.borders, s.borderTopColor);
    for (const p of spacing) if (!none.has(s[p])) bump(out.spacing, s[p]);
    if (!none.has(s.borderTopLeftRadius)) bump(out.radii, s.borderTopLeftRadius);
  }
  return out;
})()`

const hex2 = (n: number) => Math.max(0, Math.min(255, Math.round(n))).toString(16).padStart(2, "0")

/**
 * A computed colour as `#rrggbb` (or `#rrggbbaa` when translucent); fully transparent and
 * unreadable values are not colours anyone chose.
 */
export const normalizeColor = (value: string): string | undefined => {
  const match = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/i.exec(value.trim())
  if (match === null) return /^#[0-9a-f]{6}$/i.test(value.trim()) ? value.trim().toLowerCase() : undefined
  const [, r = "0", g = "0", b = "0", a] = match
  const alpha = a === undefined ? 1 : a.endsWith("%") ? Number(a.slice(0, -1)) / 100 : Number(a)
  if (alpha <= 0) return undefined
  const rgb = `#${hex2(Number(r))}${hex2(Number(g))}${hex2(Number(b))}`
  return alpha >= 1 ? rgb : `${rgb}${hex2(alpha * 255)}`
}

/** The family a stack asks for first, unquoted: `"Fixture Sans", sans-serif` is `Fixture Sans`. */
export const primaryFamily = (stack: string): string | undefined => {
  const first = stack.split(",")[0]?.trim().replace(/^["']|["']$/g, "")
  return first === undefined || first.length === 0 ? undefined : first
}

export const TokenValue = Schema.Struct({ value: Schema.String, count: Schema.Int })
export type TokenValue = typeof TokenValue.Type

/** `tokens.json` of one source. */
export const DesignTokens = Schema.Struct({
  version: Schema.Literal(1),
  slug: Schema.String,
  url: Schema.String,
  title: Schema.String,
  breakpoints: Schema.Array(Schema.String),
  colors: Schema.Array(TokenValue),
  fontFamilies: Schema.Array(TokenValue),
  fontSizes: Schema.Array(TokenValue),
  fontWeights: Schema.Array(TokenValue),
  spacing: Schema.Array(TokenValue),
  radii: Schema.Array(TokenValue)
})
export type DesignTokens = typeof DesignTokens.Type

type Tally = Map<string, number>

const add = (tally: Tally, counts: Readonly<Record<string, number>>, normalize: (value: string) => string | undefined) => {
  for (const [raw, count] of Object.entries(counts)) {
    const value = normalize(raw)
    if (value !== undefined) tally.set(value, (tally.get(value) ?? 0) + count)
  }
}

/** Most used first; ties in a stable order (by value). */
const ranked = (tally: Tally): ReadonlyArray<TokenValue> =>
  [...tally].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))

const same = (value: string) => (value.trim().length === 0 ? undefined : value.trim())

/** Sums the censuses of every breakpoint of a source into its tokens. */
export const tokensOf = (
  source: { readonly slug: string; readonly url: string; readonly title: string },
  censuses: ReadonlyArray<{ readonly breakpoint: string; readonly census: Census }>
): DesignTokens => {
  const colors: Tally = new Map()
  const tallies = { fontFamilies: new Map(), fontSizes: new Map(), fontWeights: new Map(), spacing: new Map(), radii: new Map() } satisfies Record<string, Tally>
  for (const { census } of censuses) {
    for (const counts of [census.colors, census.backgrounds, census.borders]) add(colors, counts, normalizeColor)
    add(tallies.fontFamilies, census.fontFamilies, primaryFamily)
    add(tallies.fontSizes, census.fontSizes, same)
    add(tallies.fontWeights, census.fontWeights, same)
    add(tallies.spacing, census.spacing, same)
    add(tallies.radii, census.radii, same)
  }
  return {
    version: 1,
    ...source,
    breakpoints: censuses.map((c) => c.breakpoint),
    colors: ranked(colors),
    fontFamilies: ranked(tallies.fontFamilies),
    fontSizes: ranked(tallies.fontSizes),
    fontWeights: ranked(tallies.fontWeights),
    spacing: ranked(tallies.spacing),
    radii: ranked(tallies.radii)
  }
}

const cssString = (value: string) => `"${value.replace(/["\\]/g, "\\$&")}"`

/** The tokens as CSS custom properties, most used first: `--color-1`, `--font-family-1`, `--space-1`… */
export const tokensCss = (tokens: DesignTokens): string => {
  const group = (prefix: string, values: ReadonlyArray<TokenValue>, show: (value: string) => string = (v) => v) =>
    values.map((token, i) => `  --${prefix}-${i + 1}: ${show(token.value)}; /* ${token.count} use${token.count === 1 ? "" : "s"} */`)
  return [
    `/* Design tokens of ${tokens.title} (${tokens.url}), breakpoints ${tokens.breakpoints.join(", ")}; ranked by use. */`,
    ":root {",
    ...group("color", tokens.colors),
    ...group("font-family", tokens.fontFamilies, cssString),
    ...group("font-size", tokens.fontSizes),
    ...group("font-weight", tokens.fontWeights),
    ...group("space", tokens.spacing),
    ...group("radius", tokens.radii),
    "}",
    ""
  ].join("\n")
}
