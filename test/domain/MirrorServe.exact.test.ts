/** `mirror serve`'s pure decisions (MIR-4) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { contentTypeOf, cspHeader, fileHeaders, hasExtension, isHtmlFile, parseRange, requestTarget } from "../../src/domain/MirrorServe.js"

describe("requestTarget and hasExtension, exactly", () => {
  it("the path before ? or #, a raw NUL byte refused, backslashes split", () => {
    assert.deepStrictEqual(requestTarget("/a/b#c?d"), { _tag: "File", segments: ["a", "b"] })
    assert.deepStrictEqual(requestTarget("/a\0b"), { _tag: "Refused", status: 403, reason: "NUL byte in path" })
    assert.deepStrictEqual(requestTarget("/a?x=%00"), { _tag: "File", segments: ["a"] })
    assert.deepStrictEqual(requestTarget("/a\\b//c"), { _tag: "File", segments: ["a", "b", "c"] })
    assert.deepStrictEqual(requestTarget(""), { _tag: "File", segments: [] })
  })

  it("a name longer than a file can have (255 bytes, counted in UTF-8) is not found, before the disk is asked", () => {
    const notFound = { _tag: "Refused", status: 404, reason: "a name longer than 255 bytes" } as const
    assert.deepStrictEqual(requestTarget(`/${"a".repeat(256)}`), notFound)
    assert.deepStrictEqual(requestTarget(`/x/${"%C3%A9".repeat(128)}/y`), notFound)
    assert.deepStrictEqual(requestTarget(`/${"a".repeat(255)}`), { _tag: "File", segments: ["a".repeat(255)] })
  })

  it("an extension is a dot after the first character of the last segment", () => {
    assert.isTrue(hasExtension(["a", "b.css"]))
    assert.isFalse(hasExtension(["b.css", "about"]))
    assert.isFalse(hasExtension([".hidden"]))
    assert.isTrue(hasExtension(["x.y"]))
    assert.isFalse(hasExtension([]))
  })
})

describe("parseRange, exactly", () => {
  it("trims the header and anchors the syntax at both ends", () => {
    assert.deepStrictEqual(parseRange("  bytes=1-2  ", 10), { _tag: "Part", start: 1, end: 2 })
    assert.deepStrictEqual(parseRange("xbytes=1-2", 10), { _tag: "Unsatisfiable" })
    assert.deepStrictEqual(parseRange("bytes=1-2x", 10), { _tag: "Unsatisfiable" })
  })

  it("several ranges are the whole file only when the header is a bytes range", () => {
    assert.deepStrictEqual(parseRange("  bytes=0-1, 4-5", 10), { _tag: "Whole" })
    assert.deepStrictEqual(parseRange("items=0-1,4-5", 10), { _tag: "Unsatisfiable" })
    assert.deepStrictEqual(parseRange("bytes=0-x", 10), { _tag: "Unsatisfiable" })
  })

  it("a suffix larger than the file is the whole file as a part; an empty file has no part", () => {
    assert.deepStrictEqual(parseRange("bytes=-30", 10), { _tag: "Part", start: 0, end: 9 })
    assert.deepStrictEqual(parseRange("bytes=-3", 0), { _tag: "Unsatisfiable" })
    assert.deepStrictEqual(parseRange("bytes=0-", 0), { _tag: "Unsatisfiable" })
  })

  it("the last byte and a one-byte range are satisfiable; past the end is not", () => {
    assert.deepStrictEqual(parseRange("bytes=9-", 10), { _tag: "Part", start: 9, end: 9 })
    assert.deepStrictEqual(parseRange("bytes=3-3", 10), { _tag: "Part", start: 3, end: 3 })
    assert.deepStrictEqual(parseRange("bytes=10-12", 10), { _tag: "Unsatisfiable" })
  })
})

describe("content types and headers, exactly", () => {
  it("by the extension of the file name, in any case; none, a leading dot or an unknown one is octet-stream", () => {
    const types = {
      "a.html": "text/html; charset=utf-8",
      "a.htm": "text/html; charset=utf-8",
      "a.css": "text/css; charset=utf-8",
      "a.js": "text/javascript; charset=utf-8",
      "a.mjs": "text/javascript; charset=utf-8",
      "a.json": "application/json",
      "a.map": "application/json",
      "a.webmanifest": "application/manifest+json",
      "a.xml": "application/xml",
      "a.txt": "text/plain; charset=utf-8",
      "a.svg": "image/svg+xml",
      "a.png": "image/png",
      "a.jpg": "image/jpeg",
      "a.jpeg": "image/jpeg",
      "a.gif": "image/gif",
      "a.webp": "image/webp",
      "a.avif": "image/avif",
      "a.ico": "image/x-icon",
      "a.woff": "font/woff",
      "a.woff2": "font/woff2",
      "a.ttf": "font/ttf",
      "a.otf": "font/otf",
      "a.eot": "application/vnd.ms-fontobject",
      "a.mp4": "video/mp4",
      "a.webm": "video/webm",
      "a.mp3": "audio/mpeg",
      "a.ogg": "audio/ogg",
      "a.wav": "audio/wav",
      "a.pdf": "application/pdf",
      "d.x/A.PNG": "image/png",
      "d.css/readme": "application/octet-stream",
      ".css": "application/octet-stream",
      "d/.css": "application/octet-stream",
      "a.unknown": "application/octet-stream"
    }
    for (const [file, type] of Object.entries(types)) assert.strictEqual(contentTypeOf(file), type, file)
    assert.deepStrictEqual(["a.HTML", "a.htm", "a.html.gz", "html"].map(isHtmlFile), [true, true, false, false])
  })

  it("the named policies word for word", () => {
    assert.strictEqual(
      cspHeader("self"),
      "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; " +
        "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'"
    )
    assert.strictEqual(
      cspHeader("strict"),
      "default-src 'self'; img-src 'self' data:; font-src 'self'; style-src 'self'; script-src 'self'; " +
        "connect-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    assert.isUndefined(cspHeader("off"))
  })

  it("every header of an HTML page with ranges, and of an asset without", () => {
    assert.deepStrictEqual(fileHeaders("/x/index.html", "img-src 'none'", true), {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "accept-ranges": "bytes",
      "content-security-policy": "img-src 'none'"
    })
    assert.deepStrictEqual(fileHeaders("/x/a.css", "self", false), {
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff"
    })
  })
})
