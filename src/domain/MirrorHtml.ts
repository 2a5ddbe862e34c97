/**
 * Rewrites a page for the mirror (SPEC MIR-2) on a parsed document (parse5), never with regular
 * expressions over the markup: tracker elements are removed, assets (`src`, `srcset`, stylesheets,
 * icons, OG/Twitter images, CSS `url()`) point at their local copies, same-origin links become
 * root-relative, share links go to the configured hosts. Pure; the caller downloads what it reports.
 */
import { type DefaultTreeAdapterTypes, defaultTreeAdapter as tree, parse, serialize } from "parse5"
import { hostListed, type MirrorSettings } from "./MirrorConfig.js"
import {
  type AssetLocalizer,
  formatSrcset,
  hrefOfPath,
  isSameOrigin,
  isWebUrl,
  localPathOf,
  parseSrcset,
  resolveReference,
  rewriteCssUrls,
  type Rewritten,
  rootRelative,
  stripOrigin,
  type UrlMapping
} from "./MirrorPaths.js"

type Element = DefaultTreeAdapterTypes.Element
type ParentNode = DefaultTreeAdapterTypes.ParentNode

/** What rewriting a page or stylesheet needs: the settings, the URL mapping and the document's own URL. */
export interface RewriteContext {
  readonly settings: MirrorSettings
  readonly mapping: UrlMapping
  readonly documentUrl: URL
}

const assetLinkRels = new Set(["stylesheet", "icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed", "preload", "prefetch", "modulepreload", "manifest", "mask-icon"])
const hintRels = new Set(["preconnect", "dns-prefetch"])
const previewImageMeta = new Set(["og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"])
const removableWhenTracking = new Set(["script", "noscript", "iframe", "img", "link", "source", "embed"])

const attr = (element: Element, name: string): string | undefined => element.attrs.find((a) => a.name === name)?.value

const relsOf = (element: Element): ReadonlyArray<string> => (attr(element, "rel") ?? "").toLowerCase().split(/\s+/).filter((r) => r.length > 0)

const textOf = (element: Element): string =>
  tree.getChildNodes(element).map((node) => tree.isTextNode(node) ? node.value : "").join("")

const underAssetRoots = (url: URL, roots: ReadonlyArray<string>) =>
  roots.some((root) => root === "/" || url.pathname === root || url.pathname.startsWith(root.endsWith("/") ? root : `${root}/`))

const isBlocked = (url: URL | undefined, settings: MirrorSettings) => url !== undefined && hostListed(url, settings.blocklistHosts)

const matchesStrip = (text: string, settings: MirrorSettings) => settings.stripPatterns.some((pattern) => pattern.test(text))

/**
 * The localizer the HTML and CSS rewriters share: an asset on the origin under an asset root, or on
 * another (not blocklisted) host, is recorded in `found` and written as its local path; an origin
 * path outside the asset roots becomes root-relative without being downloaded.
 */
export const makeLocalizer = (context: RewriteContext, found: Set<string>): AssetLocalizer => (reference, base) => {
  const url = resolveReference(reference, base)
  if (url === undefined || isBlocked(url, context.settings)) return undefined
  if (isSameOrigin(url, context.settings.origin) && !underAssetRoots(url, context.settings.assetRoots)) return rootRelative(url)
  found.add(url.href)
  return hrefOfPath(localPathOf(url, context.mapping, "asset"))
}

/** A navigation link: same-origin ones become root-relative, share hosts are replaced, others stay. */
const rewriteLink = (value: string, context: RewriteContext): string => {
  const trimmed = value.trim()
  if (!URL.canParse(trimmed, context.documentUrl.href)) return value
  const url = new URL(trimmed, context.documentUrl)
  if (!isWebUrl(url)) return value
  if (isSameOrigin(url, context.settings.origin)) return rootRelative(url)
  const share = context.settings.shareHostRewrites[url.hostname]
  return share === undefined ? value : `${share.replace(/\/+$/, "")}${rootRelative(url)}`
}

/** Trackers (MIR-2): scripts, pixels, frames and hints pointing at a strip pattern or a blocklisted host. */
const isTracking = (element: Element, context: RewriteContext): boolean => {
  const { settings, documentUrl } = context
  if (!removableWhenTracking.has(element.tagName)) return false
  const reference = attr(element, "src") ?? attr(element, "href")
  if (reference !== undefined) {
    const url = URL.canParse(reference, documentUrl.href) ? new URL(reference, documentUrl) : undefined
    if (matchesStrip(reference, settings) || isBlocked(url, settings)) return true
    if (element.tagName === "link" && relsOf(element).some((rel) => hintRels.has(rel)) && url !== undefined &&
      !isSameOrigin(url, settings.origin)) return true
  }
  return (element.tagName === "script" || element.tagName === "noscript") && matchesStrip(textOf(element), settings)
}

const isAssetAttribute = (element: Element, name: string): boolean => {
  switch (name) {
    case "src":
      return element.tagName !== "iframe" && element.tagName !== "frame"
    case "data-src":
    case "poster":
      return true
    case "data":
      return element.tagName === "object"
    case "href":
      return element.tagName === "link" && relsOf(element).some((rel) => assetLinkRels.has(rel))
    case "content": {
      const key = (attr(element, "property") ?? attr(element, "name") ?? "").toLowerCase()
      return element.tagName === "meta" && previewImageMeta.has(key)
    }
    default:
      return false
  }
}

/** Checked after isAssetAttribute: an `href` that is not an asset (a, area, canonical links) is a link. */
const isLinkAttribute = (element: Element, name: string): boolean =>
  name === "href" || (name === "action" && element.tagName === "form") || (name === "src" && (element.tagName === "iframe" || element.tagName === "frame")) ||
  (name === "content" && element.tagName === "meta" && (attr(element, "property") ?? "").toLowerCase() === "og:url")

const rewriteAttribute = (element: Element, name: string, value: string, context: RewriteContext, localize: AssetLocalizer): string => {
  if (name === "srcset" || name === "data-srcset" || name === "imagesrcset") {
    return formatSrcset(parseSrcset(value).map((candidate) => ({
      url: localize(candidate.url, context.documentUrl) ?? candidate.url,
      descriptor: candidate.descriptor
    })))
  }
  if (name === "style") return rewriteCssUrls(value, context.documentUrl, localize)
  if (isAssetAttribute(element, name)) return localize(value, context.documentUrl) ?? value
  if (isLinkAttribute(element, name)) return rewriteLink(value, context)
  return value
}

const rewriteElement = (element: Element, context: RewriteContext, localize: AssetLocalizer): void => {
  element.attrs = element.attrs.map((a) => ({ ...a, value: rewriteAttribute(element, a.name, a.value, context, localize) }))
  if (element.tagName === "style") {
    for (const node of tree.getChildNodes(element)) {
      if (tree.isTextNode(node)) node.value = rewriteCssUrls(node.value, context.documentUrl, localize)
    }
  }
}

const visit = (parent: ParentNode, context: RewriteContext, localize: AssetLocalizer): void => {
  for (const node of [...tree.getChildNodes(parent)]) {
    if (tree.isElementNode(node)) {
      if (isTracking(node, context)) {
        tree.detachNode(node)
        continue
      }
      rewriteElement(node, context, localize)
      visit("content" in node ? tree.getTemplateContent(node) : node, context, localize)
    } else if (tree.isCommentNode(node) && matchesStrip(node.data, context.settings)) {
      tree.detachNode(node)
    }
  }
}

/**
 * The mirrored page and the asset URLs it now refers to. After the tree is rewritten and serialized,
 * the configured rewrite rules run on the text and the origin is dropped from any URL left (inline
 * JSON, scripts).
 */
export const rewriteHtml = (html: string, context: RewriteContext): Rewritten => {
  const document = parse(html)
  const found = new Set<string>()
  visit(document, context, makeLocalizer(context, found))
  const ruled = context.settings.rewriteRules.reduce((text, rule) => text.replace(rule.pattern, rule.replace), serialize(document))
  return { text: stripOrigin(ruled, context.settings.origin), assets: [...found] }
}

/** A stylesheet for the mirror: its `url()`s and `@import`s localised, the origin dropped. */
export const rewriteCss = (css: string, context: RewriteContext): Rewritten => {
  const found = new Set<string>()
  const text = rewriteCssUrls(css, context.documentUrl, makeLocalizer(context, found))
  return { text: stripOrigin(text, context.settings.origin), assets: [...found] }
}
